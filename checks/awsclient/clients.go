package awsclient

import (
	"context"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	if ep := opts.Endpoint(); ep != "" {
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
		o.UsePathStyle = opts.Endpoint() != ""
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
		if ep := opts.Endpoint(); ep != "" {
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

// NewAccount returns an Account Management client (ListRegions for --regions all).
func NewAccount(cfg aws.Config, region string, opts Options) *account.Client {
	return account.NewFromConfig(cfg, func(o *account.Options) {
		clientOptions(cfg, opts, region, &o.Region, &o.BaseEndpoint, &o.Retryer, &o.APIOptions)
	})
}
