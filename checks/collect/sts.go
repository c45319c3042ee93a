package collect

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
)

// identityProbeAttempts, identityProbeBackoff and identityProbeTimeout bound the first call, so a
// wrong endpoint or missing credentials fail in seconds instead of after a full retry schedule.
const (
	identityProbeAttempts = 2
	identityProbeBackoff  = 500 * time.Millisecond
	identityProbeTimeout  = 15 * time.Second
)

// stsAPI is the part of STS the collector uses.
type stsAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

var _ stsAPI = (*sts.Client)(nil)

// identity calls STS GetCallerIdentity with a short retry budget and fills the account identity.
func (c *collector) identity(ctx context.Context, acct *checks.Account) error {
	out, err := callerIdentity(ctx, c.cfg, c.opts)
	if err != nil {
		return err
	}
	acct.ID = aws.ToString(out.Account)
	acct.CallerARN = aws.ToString(out.Arn)
	acct.Partition = partitionOf(acct.CallerARN)
	acct.HomeRegion = c.home
	return nil
}

// callerIdentity calls STS GetCallerIdentity with a short retry budget: the first call of a
// collection, which tells missing credentials or a wrong endpoint in seconds.
func callerIdentity(ctx context.Context, cfg aws.Config, opts Options) (*sts.GetCallerIdentityOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, min(identityProbeTimeout, opts.CallTimeout))
	defer cancel()
	var api stsAPI = awsclient.NewSTS(cfg, opts.Options)
	out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) {
		o.Retryer = awsclient.NewRetryer(identityProbeAttempts, identityProbeBackoff)
		o.RetryMaxAttempts = 0
	})
	if err != nil {
		where := "AWS"
		if ep := opts.Endpoint(); ep != "" {
			where = ep
		}
		return nil, fmt.Errorf("get caller identity from %s (check credentials, profile and endpoint): %w", where, err)
	}
	return out, nil
}

// partitionOf returns the partition named in an ARN ("aws" when it cannot tell).
func partitionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) >= 2 && parts[0] == "arn" && parts[1] != "" {
		return parts[1]
	}
	return "aws"
}
