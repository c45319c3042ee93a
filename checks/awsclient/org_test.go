package awsclient_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
)

// TestAssumedConfig: the assumed configuration calls as the role, in the role's account, with the
// external id and session name given; AssumeRole is called once for many calls (the credentials
// are cached) through a client with the options' hooks; the configuration it was made from keeps
// its own credentials.
func TestAssumedConfig(t *testing.T) {
	ctx := context.Background()
	srv := motoserver.Shared(t)
	srv.Reset(t)
	var mu sync.Mutex
	var assumed []*sts.AssumeRoleInput
	opts := srv.Options().Options
	opts.APIOptions = append(opts.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("RecordAssumeRole",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if a, ok := in.Parameters.(*sts.AssumeRoleInput); ok {
					mu.Lock()
					assumed = append(assumed, a)
					mu.Unlock()
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
	base := srv.AWSConfig(t, "us-east-1")
	role := awsclient.AssumeRole{RoleARN: "arn:aws:iam::111111111111:role/CofferAudit", ExternalID: "xyz", SessionName: "coffer-20261207T120000Z"}
	cfg := awsclient.AssumedConfig(base, role, opts)

	for range 2 {
		id, err := awsclient.NewSTS(cfg, opts).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity as the role: %v", err)
		}
		if got := aws.ToString(id.Account); got != "111111111111" {
			t.Errorf("account = %s, want the role's", got)
		}
		if arn := aws.ToString(id.Arn); !strings.HasSuffix(arn, ":assumed-role/CofferAudit/coffer-20261207T120000Z") {
			t.Errorf("caller = %s, want the role's session", arn)
		}
	}
	if len(assumed) != 1 {
		t.Fatalf("AssumeRole called %d times through the options' hooks, want 1", len(assumed))
	}
	if a := assumed[0]; aws.ToString(a.RoleArn) != role.RoleARN || aws.ToString(a.ExternalId) != "xyz" || aws.ToString(a.RoleSessionName) != role.SessionName {
		t.Errorf("AssumeRole input: role %s, external id %s, session %s", aws.ToString(a.RoleArn), aws.ToString(a.ExternalId), aws.ToString(a.RoleSessionName))
	}
	id, err := awsclient.NewSTS(base, opts).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != motoserver.AccountID {
		t.Errorf("the base configuration: account %s, err %v; want moto's own account", aws.ToString(id.Account), err)
	}
}
