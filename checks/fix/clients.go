package fix

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"

	"github.com/coffer-audit/coffer/checks/awsclient"
)

// S3API is the part of S3 the fixers use: one read and one write per configuration item.
type S3API interface {
	GetPublicAccessBlock(ctx context.Context, in *s3.GetPublicAccessBlockInput, optFns ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	PutPublicAccessBlock(ctx context.Context, in *s3.PutPublicAccessBlockInput, optFns ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, optFns ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	PutBucketVersioning(ctx context.Context, in *s3.PutBucketVersioningInput, optFns ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	GetObjectLockConfiguration(ctx context.Context, in *s3.GetObjectLockConfigurationInput, optFns ...func(*s3.Options)) (*s3.GetObjectLockConfigurationOutput, error)
	PutObjectLockConfiguration(ctx context.Context, in *s3.PutObjectLockConfigurationInput, optFns ...func(*s3.Options)) (*s3.PutObjectLockConfigurationOutput, error)
	GetBucketOwnershipControls(ctx context.Context, in *s3.GetBucketOwnershipControlsInput, optFns ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error)
	PutBucketOwnershipControls(ctx context.Context, in *s3.PutBucketOwnershipControlsInput, optFns ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error)
	GetBucketEncryption(ctx context.Context, in *s3.GetBucketEncryptionInput, optFns ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	PutBucketEncryption(ctx context.Context, in *s3.PutBucketEncryptionInput, optFns ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
	GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	GetBucketLifecycleConfiguration(ctx context.Context, in *s3.GetBucketLifecycleConfigurationInput, optFns ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error)
	PutBucketLifecycleConfiguration(ctx context.Context, in *s3.PutBucketLifecycleConfigurationInput, optFns ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error)
	GetBucketLogging(ctx context.Context, in *s3.GetBucketLoggingInput, optFns ...func(*s3.Options)) (*s3.GetBucketLoggingOutput, error)
	PutBucketLogging(ctx context.Context, in *s3.PutBucketLoggingInput, optFns ...func(*s3.Options)) (*s3.PutBucketLoggingOutput, error)
}

// S3ControlAPI is the part of S3 Control the fixers use (account-level Block Public Access).
type S3ControlAPI interface {
	GetPublicAccessBlock(ctx context.Context, in *s3control.GetPublicAccessBlockInput, optFns ...func(*s3control.Options)) (*s3control.GetPublicAccessBlockOutput, error)
	PutPublicAccessBlock(ctx context.Context, in *s3control.PutPublicAccessBlockInput, optFns ...func(*s3control.Options)) (*s3control.PutPublicAccessBlockOutput, error)
}

// IAMAPI is the part of IAM the fixers use. There is no delete call in it on purpose.
type IAMAPI interface {
	GetAccountPasswordPolicy(ctx context.Context, in *iam.GetAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
	UpdateAccountPasswordPolicy(ctx context.Context, in *iam.UpdateAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAccountPasswordPolicyOutput, error)
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	ListAttachedUserPolicies(ctx context.Context, in *iam.ListAttachedUserPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
	ListAttachedGroupPolicies(ctx context.Context, in *iam.ListAttachedGroupPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error)
	ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	DetachUserPolicy(ctx context.Context, in *iam.DetachUserPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error)
	DetachGroupPolicy(ctx context.Context, in *iam.DetachGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachGroupPolicyOutput, error)
	DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
	ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	UpdateAccessKey(ctx context.Context, in *iam.UpdateAccessKeyInput, optFns ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
}

// KMSAPI is the part of KMS the fixers use. ScheduleKeyDeletion and DisableKey are not in it.
type KMSAPI interface {
	DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	CancelKeyDeletion(ctx context.Context, in *kms.CancelKeyDeletionInput, optFns ...func(*kms.Options)) (*kms.CancelKeyDeletionOutput, error)
	EnableKey(ctx context.Context, in *kms.EnableKeyInput, optFns ...func(*kms.Options)) (*kms.EnableKeyOutput, error)
	GetKeyRotationStatus(ctx context.Context, in *kms.GetKeyRotationStatusInput, optFns ...func(*kms.Options)) (*kms.GetKeyRotationStatusOutput, error)
	EnableKeyRotation(ctx context.Context, in *kms.EnableKeyRotationInput, optFns ...func(*kms.Options)) (*kms.EnableKeyRotationOutput, error)
}

// CloudTrailAPI is the part of CloudTrail the fixers use. DeleteTrail and StopLogging are not in it.
type CloudTrailAPI interface {
	GetTrail(ctx context.Context, in *cloudtrail.GetTrailInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailOutput, error)
	GetTrailStatus(ctx context.Context, in *cloudtrail.GetTrailStatusInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	GetEventSelectors(ctx context.Context, in *cloudtrail.GetEventSelectorsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error)
	UpdateTrail(ctx context.Context, in *cloudtrail.UpdateTrailInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.UpdateTrailOutput, error)
	StartLogging(ctx context.Context, in *cloudtrail.StartLoggingInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.StartLoggingOutput, error)
	PutEventSelectors(ctx context.Context, in *cloudtrail.PutEventSelectorsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.PutEventSelectorsOutput, error)
}

var (
	_ S3API         = (*s3.Client)(nil)
	_ S3ControlAPI  = (*s3control.Client)(nil)
	_ IAMAPI        = (*iam.Client)(nil)
	_ KMSAPI        = (*kms.Client)(nil)
	_ CloudTrailAPI = (*cloudtrail.Client)(nil)
)

// Clients hands the fixers one client per service and region. Tests may fill the fields with
// fakes; NewClients builds real ones.
type Clients struct {
	S3         func(region string) S3API
	S3Control  func(region string) S3ControlAPI
	IAM        func() IAMAPI
	KMS        func(region string) KMSAPI
	CloudTrail func(region string) CloudTrailAPI
	// HomeRegion is where S3 Control and IAM calls go.
	HomeRegion string
	// Concurrency bounds how many resources are changed at once (default 8).
	Concurrency int
}

// NewClients builds the clients with checks/awsclient's constructors, so the fixer follows exactly
// the endpoint, path-style, retry and timeout rules of the collector (and opts.APIOptions reach
// every call, which is how tests count them). Concurrency is left for the caller to set.
func NewClients(cfg aws.Config, opts awsclient.Options) *Clients {
	s3c := awsclient.NewCache(func(_, region string) *s3.Client { return awsclient.NewS3(cfg, region, opts) })
	controlc := awsclient.NewCache(func(_, region string) *s3control.Client { return awsclient.NewS3Control(cfg, region, opts) })
	iamc := awsclient.NewCache(func(_, _ string) *iam.Client { return awsclient.NewIAM(cfg, opts) })
	kmsc := awsclient.NewCache(func(_, region string) *kms.Client { return awsclient.NewKMS(cfg, region, opts) })
	ctc := awsclient.NewCache(func(_, region string) *cloudtrail.Client { return awsclient.NewCloudTrail(cfg, region, opts) })
	// Every client uses cfg's credentials, so they all reach one account, keyed "" here; fixing
	// another account takes a Clients built from that account's configuration.
	const account = ""
	return &Clients{
		HomeRegion: opts.HomeRegion(cfg),
		S3:         func(region string) S3API { return s3c.Get(account, region) },
		S3Control:  func(region string) S3ControlAPI { return controlc.Get(account, region) },
		IAM:        func() IAMAPI { return iamc.Get(account, "") },
		KMS:        func(region string) KMSAPI { return kmsc.Get(account, region) },
		CloudTrail: func(region string) CloudTrailAPI { return ctc.Get(account, region) },
	}
}
