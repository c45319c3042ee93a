// Package awsclient is coffer's one home for AWS SDK plumbing: the options every client shares
// (custom endpoint, path-style S3, the S3 Control endpoint resolver, the bounded retryer, the
// per-call timeout, the debug log), loading the SDK configuration, the client constructors, API
// error codes and a client cache keyed by account and region. checks/collect, checks/fix and the
// seeders build their clients here, so a scan, a fix and a seeded emulator talk to AWS alike.
//
// It knows nothing of snapshots, checks or findings.
package awsclient

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
)

// Defaults applied by Options.WithDefaults and the constructors.
const (
	DefaultRegion      = "us-east-1"
	DefaultCallTimeout = 30 * time.Second

	// maxAttempts bounds every call (first try included). More attempts than this would only
	// stretch a scan that is failing anyway.
	maxAttempts = 5
	// maxBackoff caps the wait between two attempts.
	maxBackoff = 5 * time.Second
)

// Options configures LoadConfig and the client constructors: what every client shares, whatever
// package builds it.
type Options struct {
	Profile string
	// Region is the home region: IAM, STS, S3 listing and S3 Control go there. Default: the SDK
	// chain (AWS_REGION, profile), else us-east-1.
	Region string
	// EndpointURL sends every service to one endpoint (an emulator). AWS_ENDPOINT_URL is honoured
	// when it is empty.
	EndpointURL string
	CallTimeout time.Duration // per API call (each attempt series), default 30s
	// MFATokenProvider returns the MFA code for profiles with role_arn and mfa_serial.
	MFATokenProvider func() (string, error)
	// APIOptions are appended to every client's middleware stack.
	APIOptions []func(*middleware.Stack) error
	// Debug, when set, logs every API call and the SDK's own messages (redacted). When nil the
	// SDK logs nothing: its default logger would write warnings to stderr.
	Debug *DebugLog
}

// WithDefaults returns o with the defaults filled in (CallTimeout).
func (o Options) WithDefaults() Options {
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	return o
}

// Endpoint is the custom endpoint every client uses, or "" for the real AWS endpoints.
func (o Options) Endpoint() string {
	if o.EndpointURL != "" {
		return o.EndpointURL
	}
	return os.Getenv("AWS_ENDPOINT_URL")
}

// HomeRegion is the region IAM, STS, the S3 listing and S3 Control use: Options.Region, else the
// config's region, else DefaultRegion.
func (o Options) HomeRegion(cfg aws.Config) string {
	switch {
	case o.Region != "":
		return o.Region
	case cfg.Region != "":
		return cfg.Region
	}
	return DefaultRegion
}

// NewRetryer retries throttling, 5xx and connection errors with exponential backoff and jitter,
// bounded in attempts and backoff.
//
// It is the SDK's standard mode, not its adaptive mode: adaptive mode also rate-limits the client
// after throttling, cutting its send rate towards 0.5 requests a second, and a scan's one client
// per service never earns the rate back. Measured against moto throttling 20% of requests, a scan
// of 7 buckets took 50 s instead of 0.8 s and calls failed waiting for a send token. The SDK's
// retry quota is off for the same reason: a scan is one client with a bounded worker pool, whose
// retries are already bounded per call by the attempts and CallTimeout, so a retry storm cannot
// happen, while an exhausted quota would turn the rest of the throttled calls into ERROR findings.
func NewRetryer(attempts int, backoff time.Duration) aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = attempts
		so.MaxBackoff = backoff
		so.RateLimiter = ratelimit.None
	})
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
	ep := opts.Endpoint()
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
	return NewRetryer(attempts, maxBackoff)
}

// apiOptions are the middlewares every client gets: the per-call timeout, the debug log, then the
// caller's.
func apiOptions(opts Options) []func(*middleware.Stack) error {
	out := []func(*middleware.Stack) error{callTimeout(opts.WithDefaults().CallTimeout)}
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
