package collect_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/collect"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
)

// Names from the workshop (seed text, section 6).
const (
	primaryBucket = "primary-database-bucket"
	trailBucket   = "s3-event-logs-bucket-workshop1"
	trailName     = "S3EventLogging"
	keyAlias      = "alias/cloudtrail-logs-kms-key"
	roleName      = "DatabaseAccessRole"
	s3FullAccess  = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
)

// env bundles the clients tests seed moto with; all go through awsclient's constructors so they
// follow the same endpoint and path-style rules as the collector.
type env struct {
	srv  *motoserver.Server
	opts collect.Options
	cfg  aws.Config
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := motoserver.Shared(t)
	srv.Reset(t)
	return &env{srv: srv, opts: srv.Options(), cfg: srv.AWSConfig(t, "us-east-1")}
}

func (e *env) s3(region string) *s3.Client { return awsclient.NewS3(e.cfg, region, e.opts.Options) }
func (e *env) iam() *iam.Client            { return awsclient.NewIAM(e.cfg, e.opts.Options) }
func (e *env) kms(region string) *kms.Client {
	return awsclient.NewKMS(e.cfg, region, e.opts.Options)
}
func (e *env) trail(region string) *cloudtrail.Client {
	return awsclient.NewCloudTrail(e.cfg, region, e.opts.Options)
}

// must fails the test on a seeding error.
func must[T any](t *testing.T, what string) func(T, error) T {
	t.Helper()
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %s: %v", what, err)
		}
		return v
	}
}

func createBucket(ctx context.Context, t *testing.T, e *env, name, region string, objectLock bool) {
	t.Helper()
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	if objectLock {
		in.ObjectLockEnabledForBucket = aws.Bool(true)
	}
	must[*s3.CreateBucketOutput](t, "create bucket "+name)(e.s3(region).CreateBucket(ctx, in))
}

// workshop holds what seedWorkshop created.
type workshop struct {
	keyID, keyARN string
	trailARN      string
}

// seedWorkshop builds the workshop as built: a primary bucket with Block Public Access,
// versioning, Object Lock, SSE-S3 and a 14-day Glacier rule; a trail bucket; a KMS key with an
// alias; a multi-region, KMS-encrypted, logging trail; the DatabaseAccessRole with
// AmazonS3FullAccess.
func seedWorkshop(ctx context.Context, t *testing.T, e *env) workshop {
	t.Helper()
	s3c := e.s3("us-east-1")
	createBucket(ctx, t, e, primaryBucket, "us-east-1", true)
	must[*s3.PutPublicAccessBlockOutput](t, "primary BPA")(s3c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
		Bucket: aws.String(primaryBucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
			BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
		},
	}))
	must[*s3.PutBucketVersioningOutput](t, "primary versioning")(s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(primaryBucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
	}))
	must[*s3.PutObjectLockConfigurationOutput](t, "primary object lock")(s3c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
		Bucket: aws.String(primaryBucket),
		ObjectLockConfiguration: &s3types.ObjectLockConfiguration{
			ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
			Rule: &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{
				Mode: s3types.ObjectLockRetentionModeGovernance, Days: aws.Int32(30),
			}},
		},
	}))
	must[*s3.PutBucketEncryptionOutput](t, "primary encryption")(s3c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String(primaryBucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
		}}},
	}))
	must[*s3.PutBucketLifecycleConfigurationOutput](t, "primary lifecycle")(s3c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String(primaryBucket),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID:          aws.String("MoveToGlacierAfter14Days"),
			Status:      s3types.ExpirationStatusEnabled,
			Filter:      &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			Transitions: []s3types.Transition{{Days: aws.Int32(14), StorageClass: s3types.TransitionStorageClassGlacier}},
		}}},
	}))

	createBucket(ctx, t, e, trailBucket, "us-east-1", false)
	must[*s3.PutBucketPolicyOutput](t, "trail bucket policy")(s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
		Bucket: aws.String(trailBucket),
		Policy: aws.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[`+
			`{"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::%[1]s"},`+
			`{"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::%[1]s/AWSLogs/%[2]s/*","Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]}`,
			trailBucket, motoserver.AccountID)),
	}))

	kmsc := e.kms("us-east-1")
	key := must[*kms.CreateKeyOutput](t, "kms key")(kmsc.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("CloudTrail logs")}))
	must[*kms.CreateAliasOutput](t, "kms alias")(kmsc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(keyAlias), TargetKeyId: key.KeyMetadata.KeyId}))

	ct := e.trail("us-east-1")
	tr := must[*cloudtrail.CreateTrailOutput](t, "trail")(ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name:                       aws.String(trailName),
		S3BucketName:               aws.String(trailBucket),
		IsMultiRegionTrail:         aws.Bool(true),
		IncludeGlobalServiceEvents: aws.Bool(true),
		EnableLogFileValidation:    aws.Bool(true),
		KmsKeyId:                   key.KeyMetadata.Arn,
	}))
	// moto answers 500 to StartLogging by ARN; the name works.
	must[*cloudtrail.StartLoggingOutput](t, "start logging")(ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(trailName)}))

	ic := e.iam()
	must[*iam.CreateRoleOutput](t, "role")(ic.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(roleName),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	}))
	must[*iam.AttachRolePolicyOutput](t, "attach S3 full access")(ic.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{
		RoleName: aws.String(roleName), PolicyArn: aws.String(s3FullAccess),
	}))
	return workshop{keyID: *key.KeyMetadata.KeyId, keyARN: *key.KeyMetadata.Arn, trailARN: aws.ToString(tr.TrailARN)}
}

// closedPort returns a loopback port that nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}
