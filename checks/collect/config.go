// Package collect reads the live configuration of an AWS account into a checks.Snapshot. It only
// calls read APIs (plus iam:GenerateCredentialReport), records every failed call as a
// checks.CollectError and carries on, so one unreadable resource never aborts a scan.
package collect

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	"github.com/aws/smithy-go/middleware"
)

// Defaults applied by Options.withDefaults.
const (
	DefaultRegion      = "us-east-1"
	DefaultConcurrency = 16
	DefaultCallTimeout = 30 * time.Second

	// maxAttempts bounds every call (first try included). Adaptive mode already slows down on
	// throttling; more attempts than this would only stretch a scan that is failing anyway.
	maxAttempts = 5
	// maxBackoff caps the wait between two attempts.
	maxBackoff = 5 * time.Second
)

// Options configures LoadConfig, Collect and the client constructors.
type Options struct {
	Profile string
	// Region is the home region: IAM, STS, S3 listing and S3 Control go there. Default: the SDK
	// chain (AWS_REGION, profile), else us-east-1.
	Region string
	// Regions are the regions whose KMS keys and CloudTrail trails are read. Empty means the home
	// region only; ["all"] means every region enabled for the account (account:ListRegions, falling
	// back to the partition's regions that are enabled by default when that call fails).
	Regions []string
	// EndpointURL sends every service to one endpoint (an emulator). AWS_ENDPOINT_URL is honoured
	// when it is empty.
	EndpointURL string
	Concurrency int           // worker-pool size, default 16
	CallTimeout time.Duration // per API call (each attempt series), default 30s
	Version     string        // written to snapshot.collector.version
	// MFATokenProvider returns the MFA code for profiles with role_arn and mfa_serial.
	MFATokenProvider func() (string, error)
	// APIOptions are appended to every client's middleware stack.
	APIOptions []func(*middleware.Stack) error
	// Progress, when set, is called as work items complete; total grows while resources are found.
	Progress func(done, total int)
	// Debug, when set, logs every API call and the SDK's own messages (redacted). When nil the
	// SDK logs nothing: its default logger would write warnings to stderr.
	Debug *DebugLog
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	return o
}

// endpoint is the custom endpoint every client uses, or "" for the real AWS endpoints.
func (o Options) endpoint() string {
	if o.EndpointURL != "" {
		return o.EndpointURL
	}
	return os.Getenv("AWS_ENDPOINT_URL")
}

// newRetryer retries throttling, 5xx and connection errors with exponential backoff and jitter,
// bounded in attempts and backoff.
//
// It is the SDK's standard mode, not its adaptive mode: adaptive mode also rate-limits the client
// after throttling, cutting its send rate towards 0.5 requests a second, and a scan's one client
// per service never earns the rate back. Measured against moto throttling 20% of requests, a scan
// of 7 buckets took 50 s instead of 0.8 s and calls failed waiting for a send token. The SDK's
// retry quota is off for the same reason: a scan is one client with a bounded worker pool, whose
// retries are already bounded per call by the attempts and CallTimeout, so a retry storm cannot
// happen, while an exhausted quota would turn the rest of the throttled calls into ERROR findings.
func newRetryer(attempts int, backoff time.Duration) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
			so.MaxBackoff = backoff
			so.RateLimiter = ratelimit.None
		})
	}
}

// LoadConfig builds the AWS configuration from the standard SDK chain (environment, shared config
// and credentials files, SSO, web identity, IMDS), the profile and region in opts, the bounded
// retry settings and the MFA token provider for role_arn + mfa_serial profiles.
func LoadConfig(ctx context.Context, opts Options) (aws.Config, error) {
	// No config.WithRetryer here: with one set, the SDK does not resolve AWS_MAX_ATTEMPTS or a
	// profile's max_attempts into cfg.RetryMaxAttempts, which clientRetryer honours. Every client
	// coffer builds sets its own retryer.
	loaders := []func(*config.LoadOptions) error{
		config.WithLogger(opts.sdkLogger()),
	}
	if opts.Profile != "" {
		loaders = append(loaders, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Region != "" {
		loaders = append(loaders, config.WithRegion(opts.Region))
	}
	ep := opts.endpoint()
	if ep != "" {
		if err := validateEndpoint(ep); err != nil {
			return aws.Config{}, err
		}
		loaders = append(loaders, config.WithBaseEndpoint(ep))
	}
	loaders = append(loaders, config.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) {
		if opts.MFATokenProvider != nil {
			o.TokenProvider = opts.MFATokenProvider
		}
		// The SDK builds the AssumeRole client before it resolves the base endpoint, so a role
		// profile would call the real STS even with --endpoint-url; point it at the endpoint too.
		if c, ok := o.Client.(*sts.Client); ok && ep != "" {
			so := c.Options()
			so.BaseEndpoint = aws.String(ep)
			o.Client = sts.New(so)
		}
	}))
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		if opts.Profile != "" {
			return aws.Config{}, fmt.Errorf("load AWS config for profile %q: %w", opts.Profile, err)
		}
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	return cfg, nil
}

func validateEndpoint(ep string) error {
	u, err := url.Parse(ep)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("endpoint URL %q: want scheme://host[:port]", ep)
	}
	return nil
}

// clientRetryer is the retryer with bounded attempts and backoff; a max-attempts setting
// from the SDK chain (AWS_MAX_ATTEMPTS, profile) wins when present.
func clientRetryer(cfg aws.Config) aws.Retryer {
	attempts := maxAttempts
	if cfg.RetryMaxAttempts > 0 {
		attempts = cfg.RetryMaxAttempts
	}
	return newRetryer(attempts, maxBackoff)()
}

// apiOptions are the middlewares every client gets: the per-call timeout, then the caller's.
func apiOptions(opts Options) []func(*middleware.Stack) error {
	out := []func(*middleware.Stack) error{callTimeout(opts.withDefaults().CallTimeout)}
	if opts.Debug != nil {
		out = append(out, opts.Debug.middleware)
	}
	return append(out, opts.APIOptions...)
}

// callTimeout bounds one operation, all its retry attempts included. It sits in the Initialize
// step, before the retry loop, so the deadline covers the whole call and not each attempt.
func callTimeout(d time.Duration) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CofferCallTimeout",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				ctx, cancel := context.WithTimeout(ctx, d)
				defer cancel()
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
}

// homeRegion is the region IAM, STS and the S3 listing use.
func homeRegion(cfg aws.Config, opts Options) string {
	switch {
	case opts.Region != "":
		return opts.Region
	case cfg.Region != "":
		return cfg.Region
	}
	return DefaultRegion
}

// clientOptions sets what every client shares, through the addresses of its fields (each SDK has
// its own Options type): the region (for IAM and STS, region is "" and the config's region, or
// DefaultRegion, is used), the custom endpoint, the retryer and the test and debug hooks.
func clientOptions(cfg aws.Config, opts Options, region string, oRegion *string, baseEndpoint **string, retryer *aws.Retryer, api *[]func(*middleware.Stack) error) {
	switch {
	case region != "":
		*oRegion = region
	case *oRegion == "":
		*oRegion = DefaultRegion
	}
	if ep := opts.endpoint(); ep != "" {
		*baseEndpoint = aws.String(ep)
	}
	*retryer = clientRetryer(cfg)
	*api = append(*api, apiOptions(opts)...)
}

// NewS3 returns an S3 client for region. With a custom endpoint it uses path-style addressing,
// since emulators do not serve bucket subdomains.
func NewS3(cfg aws.Config, region string, opts Options) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		clientOptions(cfg, opts, region, &o.Region, &o.BaseEndpoint, &o.Retryer, &o.APIOptions)
		o.UsePathStyle = opts.endpoint() != ""
	})
}

// plainS3ControlResolver resolves S3 Control endpoints as the SDK does (so signing properties stay
// right) but keeps the custom endpoint's host: the SDK would otherwise prefix it with the account
// id ("123456789012.localhost"), which no emulator answers.
type plainS3ControlResolver struct {
	base     *url.URL
	fallback s3control.EndpointResolverV2
}

func (r plainS3ControlResolver) ResolveEndpoint(ctx context.Context, params s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	ep, err := r.fallback.ResolveEndpoint(ctx, params)
	if err != nil {
		return ep, err
	}
	ep.URI = *r.base
	return ep, nil
}

// NewS3Control returns an S3 Control client for region (account-level Block Public Access).
func NewS3Control(cfg aws.Config, region string, opts Options) *s3control.Client {
	return s3control.NewFromConfig(cfg, func(o *s3control.Options) {
		clientOptions(cfg, opts, region, &o.Region, &o.BaseEndpoint, &o.Retryer, &o.APIOptions)
		if ep := opts.endpoint(); ep != "" {
			if u, err := url.Parse(ep); err == nil {
				o.EndpointResolverV2 = plainS3ControlResolver{base: u, fallback: s3control.NewDefaultEndpointResolverV2()}
			}
		}
	})
}

// NewIAM returns an IAM client. IAM is global; it is signed for the config's region (us-east-1
// when the config has none).
func NewIAM(cfg aws.Config, opts Options) *iam.Client {
	return iam.NewFromConfig(cfg, func(o *iam.Options) {
		clientOptions(cfg, opts, "", &o.Region, &o.BaseEndpoint, &o.Retryer, &o.APIOptions)
	})
}

// NewKMS returns a KMS client for region.
func NewKMS(cfg aws.Config, region string, opts Options) *kms.Client {
	return kms.NewFromConfig(cfg, func(o *kms.Options) {
		clientOptions(cfg, opts, region, &o.Region, &o.BaseEndpoint, &o.Retryer, &o.APIOptions)
	})
}

// NewCloudTrail returns a CloudTrail client for region.
func NewCloudTrail(cfg aws.Config, region string, opts Options) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) {
		clientOptions(cfg, opts, region, &o.Region, &o.BaseEndpoint, &o.Retryer, &o.APIOptions)
	})
}

// NewSTS returns an STS client for the config's region (us-east-1 when the config has none).
func NewSTS(cfg aws.Config, opts Options) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) {
		clientOptions(cfg, opts, "", &o.Region, &o.BaseEndpoint, &o.Retryer, &o.APIOptions)
	})
}

// newAccount returns an Account Management client (ListRegions for --regions all).
func newAccount(cfg aws.Config, region string, opts Options) *account.Client {
	return account.NewFromConfig(cfg, func(o *account.Options) {
		clientOptions(cfg, opts, region, &o.Region, &o.BaseEndpoint, &o.Retryer, &o.APIOptions)
	})
}

// partitionOf returns the partition named in an ARN ("aws" when it cannot tell).
func partitionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) >= 2 && parts[0] == "arn" && parts[1] != "" {
		return parts[1]
	}
	return "aws"
}
