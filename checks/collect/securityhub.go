package collect

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
)

// NewSecurityHub returns a Security Hub client for region, with the endpoint, retry and timeout
// rules of every other client. Only `scan --security-hub` uses it, to import findings: the
// collection never calls Security Hub.
func NewSecurityHub(cfg aws.Config, region string, opts Options) *securityhub.Client {
	return securityhub.NewFromConfig(cfg, func(o *securityhub.Options) {
		clientOptions(cfg, opts, region, &o.Region, &o.BaseEndpoint, &o.Retryer, &o.APIOptions)
	})
}
