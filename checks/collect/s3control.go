package collect

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/s3control/types"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
)

// s3ControlAPI is the part of S3 Control the collector uses.
type s3ControlAPI interface {
	GetPublicAccessBlock(ctx context.Context, in *s3control.GetPublicAccessBlockInput, optFns ...func(*s3control.Options)) (*s3control.GetPublicAccessBlockOutput, error)
}

var _ s3ControlAPI = (*s3control.Client)(nil)

// accountPublicAccessBlock reads the account-level Block Public Access flags. An account without
// the configuration gets all four flags false; nil means the call failed (recorded).
func (c *collector) accountPublicAccessBlock(ctx context.Context) *checks.PublicAccessBlock {
	c.prog.add(1)
	defer c.prog.step()
	var api s3ControlAPI = awsclient.NewS3Control(c.cfg, c.home, c.opts.Options)
	out, err := api.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(c.accountID)})
	switch {
	case awsclient.IsCode(err, "NoSuchPublicAccessBlockConfiguration"):
		return &checks.PublicAccessBlock{}
	case err != nil:
		c.fail(ctx, "s3control", "GetPublicAccessBlock", "arn:"+c.partition+":iam::"+c.accountID+":root", c.home, err)
		return nil
	}
	return accountPAB(out.PublicAccessBlockConfiguration)
}

func accountPAB(p *types.PublicAccessBlockConfiguration) *checks.PublicAccessBlock {
	if p == nil {
		return &checks.PublicAccessBlock{}
	}
	return &checks.PublicAccessBlock{
		BlockPublicAcls:       aws.ToBool(p.BlockPublicAcls),
		IgnorePublicAcls:      aws.ToBool(p.IgnorePublicAcls),
		BlockPublicPolicy:     aws.ToBool(p.BlockPublicPolicy),
		RestrictPublicBuckets: aws.ToBool(p.RestrictPublicBuckets),
	}
}
