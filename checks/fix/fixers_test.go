package fix_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/fix"
)

// seeded is what a case's seed made: the resource the finding is about, and anything its config
// and verification need.
type seeded struct {
	arn    string
	keyARN string
	// versions are the object versions before the fix (key@version), to prove none is touched.
	versions []string
	bucket   string
}

// fixCase is one fixer, from a violation seeded with the SDK to PASS.
type fixCase struct {
	check   string
	include []string
	// shift moves the snapshots' collection time forward (ages moto cannot backdate).
	shift  time.Duration
	seed   func(ctx context.Context, t *testing.T, e *env) seeded
	config func(cfg *checks.Config, s seeded)
	// verify checks the live state after the fix beyond the finding: merges kept, values set.
	verify func(ctx context.Context, t *testing.T, e *env, s seeded)
	// gone: after the fix the resource is out of the check's scope (no finding) instead of PASS.
	gone bool
}

var fixCases = []fixCase{
	{
		check: "s3-account-public-access-block",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			return seeded{arn: "arn:aws:iam::" + account + ":root"}
		},
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			out := must[*s3control.GetPublicAccessBlockOutput](t, "get account BPA")(collect3Control(e).GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(account)}))
			if p := out.PublicAccessBlockConfiguration; !aws.ToBool(p.BlockPublicAcls) || !aws.ToBool(p.RestrictPublicBuckets) {
				t.Errorf("account BPA after fix: %+v", p)
			}
		},
	},
	{
		check: "s3-bucket-public-access-block",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			createBucket(ctx, t, e, "open-bucket", "us-east-1", nil)
			return seeded{arn: bucketARN("open-bucket"), bucket: "open-bucket"}
		},
	},
	{
		check: "s3-bucket-tls-only",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			createBucket(ctx, t, e, "policy-bucket", "us-east-1", nil)
			must[*s3.PutBucketPolicyOutput](t, "policy")(e.s3("us-east-1").PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
				Bucket: aws.String("policy-bucket"), Policy: aws.String(existingBucketPolicy),
			}))
			return seeded{arn: bucketARN("policy-bucket"), bucket: "policy-bucket"}
		},
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			out := must[*s3.GetBucketPolicyOutput](t, "get policy")(e.s3("us-east-1").GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(s.bucket)}))
			got := statements(t, aws.ToString(out.Policy))
			want := statements(t, existingBucketPolicy)
			if diff := cmp.Diff(want, got[:len(want)]); diff != "" {
				t.Errorf("existing statements changed (-before +after):\n%s", diff)
			}
			if len(got) != len(want)+1 || got[len(got)-1]["Sid"] != checks.TLSOnlySid {
				t.Errorf("want the existing %d statements plus %s, got %v", len(want), checks.TLSOnlySid, got)
			}
		},
	},
	{
		check: "s3-bucket-acls-disabled",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			createBucket(ctx, t, e, "acl-bucket", "us-east-1", nil)
			must[*s3.PutBucketOwnershipControlsOutput](t, "ownership")(e.s3("us-east-1").PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
				Bucket:            aws.String("acl-bucket"),
				OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipObjectWriter}}},
			}))
			return seeded{arn: bucketARN("acl-bucket")}
		},
	},
	{
		check: "s3-bucket-versioning",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			createBucket(ctx, t, e, "suspended-bucket", "us-east-1", nil)
			versions := putVersions(ctx, t, e, "suspended-bucket")
			setVersioning(ctx, t, e, "suspended-bucket", s3types.BucketVersioningStatusSuspended)
			return seeded{arn: bucketARN("suspended-bucket"), bucket: "suspended-bucket", versions: versions}
		},
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			if diff := cmp.Diff(s.versions, listVersions(ctx, t, e, s.bucket)); diff != "" {
				t.Errorf("object versions changed (-before +after):\n%s", diff)
			}
		},
	},
	{
		check:   "s3-bucket-object-lock",
		include: []string{"s3-bucket-object-lock"},
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			createBucket(ctx, t, e, "unlocked-bucket", "us-east-1", nil)
			return seeded{arn: bucketARN("unlocked-bucket"), bucket: "unlocked-bucket"}
		},
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			out := must[*s3.GetObjectLockConfigurationOutput](t, "get object lock")(e.s3("us-east-1").GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(s.bucket)}))
			r := out.ObjectLockConfiguration.Rule.DefaultRetention
			if r.Mode != s3types.ObjectLockRetentionModeGovernance || aws.ToInt32(r.Days) != 30 {
				t.Errorf("default retention %s %d days, want GOVERNANCE 30", r.Mode, aws.ToInt32(r.Days))
			}
		},
	},
	{
		check: "s3-bucket-default-encryption",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			createBucket(ctx, t, e, "plain-bucket", "us-east-1", nil)
			must[*s3.DeleteBucketEncryptionOutput](t, "delete encryption")(e.s3("us-east-1").DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String("plain-bucket")}))
			return seeded{arn: bucketARN("plain-bucket")}
		},
	},
	{
		check: "s3-bucket-kms-cmk",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			createBucket(ctx, t, e, "standby-bucket", "us-east-1", map[string]string{"coffer:role": "standby"})
			return seeded{arn: bucketARN("standby-bucket"), bucket: "standby-bucket", keyARN: createKey(ctx, t, e, "us-east-1", "alias/backup")}
		},
		config: func(cfg *checks.Config, s seeded) { cfg.Fix.KMSKey = "alias/backup" },
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			out := must[*s3.GetBucketEncryptionOutput](t, "get encryption")(e.s3("us-east-1").GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(s.bucket)}))
			r := out.ServerSideEncryptionConfiguration.Rules[0]
			if aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != s.keyARN || !aws.ToBool(r.BucketKeyEnabled) {
				t.Errorf("encryption after fix: key %s bucket key %v, want %s and true", aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID), aws.ToBool(r.BucketKeyEnabled), s.keyARN)
			}
		},
	},
	{
		check: "s3-bucket-lifecycle-archive",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			createBucket(ctx, t, e, "archive-bucket", "us-east-1", nil)
			putLifecycle(ctx, t, e, "archive-bucket", existingLifecycleRules())
			return seeded{arn: bucketARN("archive-bucket"), bucket: "archive-bucket"}
		},
		verify: verifyLifecycleKept(checks.ArchiveRuleID),
	},
	{
		check: "s3-bucket-lifecycle-hygiene",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			createBucket(ctx, t, e, "hygiene-bucket", "us-east-1", nil)
			putLifecycle(ctx, t, e, "hygiene-bucket", existingLifecycleRules())
			return seeded{arn: bucketARN("hygiene-bucket"), bucket: "hygiene-bucket"}
		},
		verify: verifyLifecycleKept(checks.HygieneRuleID),
	},
	{
		check: "s3-bucket-access-logging",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			createBucket(ctx, t, e, "server-logs", "us-east-1", nil)
			must[*s3.PutBucketPolicyOutput](t, "log bucket policy")(e.s3("us-east-1").PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
				Bucket: aws.String("server-logs"), Policy: aws.String(logDeliveryPolicy("server-logs")),
			}))
			createBucket(ctx, t, e, "unlogged-bucket", "us-east-1", nil)
			return seeded{arn: bucketARN("unlogged-bucket"), bucket: "unlogged-bucket"}
		},
		config: func(cfg *checks.Config, s seeded) { cfg.Fix.LogBucket = "server-logs" },
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			out := must[*s3.GetBucketLoggingOutput](t, "get logging")(e.s3("us-east-1").GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: aws.String(s.bucket)}))
			if le := out.LoggingEnabled; le == nil || aws.ToString(le.TargetBucket) != "server-logs" || aws.ToString(le.TargetPrefix) != s.bucket+"/" {
				t.Errorf("logging after fix: %+v", le)
			}
		},
	},
	{
		check:   "iam-no-s3-full-access",
		include: []string{"iam-no-s3-full-access"},
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			api := e.iam()
			must[*iam.CreateUserOutput](t, "user")(api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("contractor")}))
			for _, p := range []string{s3FullAccess, changePassword} {
				must[*iam.AttachUserPolicyOutput](t, "attach")(api.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("contractor"), PolicyArn: aws.String(p)}))
			}
			return seeded{arn: "arn:aws:iam::" + account + ":user/contractor"}
		},
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			out := must[*iam.ListAttachedUserPoliciesOutput](t, "list")(e.iam().ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("contractor")}))
			var got []string
			for _, p := range out.AttachedPolicies {
				got = append(got, aws.ToString(p.PolicyArn))
			}
			if diff := cmp.Diff([]string{changePassword}, got); diff != "" {
				t.Errorf("attached policies after detach (-want +got):\n%s", diff)
			}
			must[*iam.GetPolicyOutput](t, "AmazonS3FullAccess still exists")(e.iam().GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(s3FullAccess)}))
			must[*iam.GetUserOutput](t, "the user still exists")(e.iam().GetUser(ctx, &iam.GetUserInput{UserName: aws.String("contractor")}))
		},
	},
	{
		check:   "iam-unused-credentials",
		include: []string{"iam-unused-credentials"},
		// moto cannot backdate a key: scan as if 60 days had passed since it was made.
		shift: 60 * 24 * time.Hour,
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			api := e.iam()
			must[*iam.CreateUserOutput](t, "user")(api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("old-ci")}))
			must[*iam.CreateAccessKeyOutput](t, "key")(api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("old-ci")}))
			return seeded{arn: "arn:aws:iam::" + account + ":user/old-ci"}
		},
		// With its only key inactive the user holds no credential: out of scope, not PASS.
		gone: true,
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			out := must[*iam.ListAccessKeysOutput](t, "list keys")(e.iam().ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("old-ci")}))
			if len(out.AccessKeyMetadata) != 1 || out.AccessKeyMetadata[0].Status != iamtypes.StatusTypeInactive {
				t.Errorf("access keys after fix: %+v (want the one key, Inactive, not deleted)", out.AccessKeyMetadata)
			}
		},
	},
	{
		check:   "iam-backup-role-mfa",
		include: []string{"iam-backup-role-mfa"},
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			api := e.iam()
			must[*iam.CreateRoleOutput](t, "role")(api.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("BackupOperator"), AssumeRolePolicyDocument: aws.String(existingTrust)}))
			must[*iam.AttachRolePolicyOutput](t, "attach")(api.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("BackupOperator"), PolicyArn: aws.String(s3FullAccess)}))
			return seeded{arn: "arn:aws:iam::" + account + ":role/BackupOperator"}
		},
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			out := must[*iam.GetRoleOutput](t, "get role")(e.iam().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("BackupOperator")}))
			got := statements(t, checks.DecodePolicyText(aws.ToString(out.Role.AssumeRolePolicyDocument)))
			want := statements(t, existingTrust)
			if len(got) != len(want) {
				t.Fatalf("trust statements: got %d, want %d", len(got), len(want))
			}
			cond, _ := got[0]["Condition"].(map[string]any)
			if diff := cmp.Diff(want[0]["Condition"].(map[string]any)["StringEquals"], cond["StringEquals"]); diff != "" {
				t.Errorf("existing condition changed (-before +after):\n%s", diff)
			}
			if b, _ := cond["Bool"].(map[string]any); b["aws:MultiFactorAuthPresent"] != "true" {
				t.Errorf("no MFA condition: %v", cond)
			}
			if diff := cmp.Diff(want[1], got[1]); diff != "" {
				t.Errorf("the service statement changed (-before +after):\n%s", diff)
			}
		},
	},
	{
		check: "iam-password-policy",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			must[*iam.UpdateAccountPasswordPolicyOutput](t, "password policy")(e.iam().UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{
				MinimumPasswordLength: aws.Int32(8), PasswordReusePrevention: aws.Int32(5), RequireSymbols: true, MaxPasswordAge: aws.Int32(90),
			}))
			return seeded{arn: "arn:aws:iam::" + account + ":root"}
		},
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			p := must[*iam.GetAccountPasswordPolicyOutput](t, "get")(e.iam().GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})).PasswordPolicy
			if aws.ToInt32(p.MinimumPasswordLength) != 14 || aws.ToInt32(p.PasswordReusePrevention) != 24 || !p.RequireSymbols || aws.ToInt32(p.MaxPasswordAge) != 90 {
				t.Errorf("password policy after fix: length %d reuse %d symbols %v max age %d (want 14, 24, the symbols and max age kept)",
					aws.ToInt32(p.MinimumPasswordLength), aws.ToInt32(p.PasswordReusePrevention), p.RequireSymbols, aws.ToInt32(p.MaxPasswordAge))
			}
		},
	},
	{
		check: "kms-key-rotation",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			k := createKey(ctx, t, e, "us-east-1", "")
			return seeded{arn: k, keyARN: k}
		},
	},
	{
		check: "kms-key-in-use-healthy",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			k := createKey(ctx, t, e, "us-east-1", "alias/vault")
			createBucket(ctx, t, e, "kms-bucket", "us-east-1", nil)
			must[*s3.PutBucketEncryptionOutput](t, "encryption")(e.s3("us-east-1").PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
				Bucket: aws.String("kms-bucket"),
				ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
					ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(k)},
					BucketKeyEnabled:                   aws.Bool(true),
				}}},
			}))
			// By id: moto's ScheduleKeyDeletion fails on an ARN.
			must[*kms.ScheduleKeyDeletionOutput](t, "schedule deletion")(e.kms("us-east-1").ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(k[strings.LastIndex(k, "/")+1:]), PendingWindowInDays: aws.Int32(7)}))
			return seeded{arn: k, keyARN: k}
		},
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			out := must[*kms.DescribeKeyOutput](t, "describe")(e.kms("us-east-1").DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(s.keyARN)}))
			if out.KeyMetadata.KeyState != kmstypes.KeyStateEnabled || out.KeyMetadata.DeletionDate != nil {
				t.Errorf("key after fix: %s, deletion %v", out.KeyMetadata.KeyState, out.KeyMetadata.DeletionDate)
			}
		},
	},
	{
		check: "cloudtrail-multi-region",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			createTrail(ctx, t, e, "main", false, false)
			must[*cloudtrail.PutEventSelectorsOutput](t, "selectors")(e.trail("us-east-1").PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{
				TrailName: aws.String("main"), EventSelectors: existingBasicSelectors(),
			}))
			return seeded{arn: "arn:aws:iam::" + account + ":root"}
		},
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			api := e.trail("us-east-1")
			tr := must[*cloudtrail.GetTrailOutput](t, "get trail")(api.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("main")})).Trail
			st := must[*cloudtrail.GetTrailStatusOutput](t, "status")(api.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("main")}))
			if !aws.ToBool(tr.IsMultiRegionTrail) || !aws.ToBool(st.IsLogging) {
				t.Errorf("trail after fix: multi-region %v logging %v", aws.ToBool(tr.IsMultiRegionTrail), aws.ToBool(st.IsLogging))
			}
			sel := must[*cloudtrail.GetEventSelectorsOutput](t, "selectors")(api.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("main")}))
			want := existingBasicSelectors()
			if len(sel.EventSelectors) != len(want)+1 {
				t.Fatalf("selectors after fix: %s", asJSON(sel.EventSelectors))
			}
			if diff := cmp.Diff(asJSON(want), asJSON(sel.EventSelectors[:len(want)])); diff != "" {
				t.Errorf("existing selectors changed (-before +after):\n%s", diff)
			}
		},
	},
	{
		check: "cloudtrail-log-validation",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			return seeded{arn: createTrail(ctx, t, e, "unvalidated", true, true)}
		},
	},
	{
		check: "cloudtrail-kms-encryption",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			arn := createTrail(ctx, t, e, "unencrypted", true, true)
			return seeded{arn: arn, keyARN: createKey(ctx, t, e, "us-east-1", "alias/trail")}
		},
		config: func(cfg *checks.Config, s seeded) { cfg.Fix.KMSKey = s.keyARN },
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			tr := must[*cloudtrail.GetTrailOutput](t, "get trail")(e.trail("us-east-1").GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("unencrypted")})).Trail
			if aws.ToString(tr.KmsKeyId) != s.keyARN {
				t.Errorf("trail key %q, want %s", aws.ToString(tr.KmsKeyId), s.keyARN)
			}
		},
	},
	{
		check: "cloudtrail-s3-data-events",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			createBucket(ctx, t, e, "vault-a", "us-east-1", nil)
			createTrail(ctx, t, e, "audit", true, true)
			must[*cloudtrail.PutEventSelectorsOutput](t, "selectors")(e.trail("us-east-1").PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{
				TrailName: aws.String("audit"), AdvancedEventSelectors: existingAdvancedSelectors(),
			}))
			return seeded{arn: bucketARN("vault-a"), bucket: "vault-a"}
		},
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			sel := must[*cloudtrail.GetEventSelectorsOutput](t, "selectors")(e.trail("us-east-1").GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("audit")}))
			want := existingAdvancedSelectors()
			if len(sel.AdvancedEventSelectors) != len(want)+1 {
				t.Fatalf("selectors after fix: %s", asJSON(sel.AdvancedEventSelectors))
			}
			if diff := cmp.Diff(asJSON(want), asJSON(sel.AdvancedEventSelectors[:len(want)])); diff != "" {
				t.Errorf("existing selectors changed (-before +after):\n%s", diff)
			}
		},
	},
	{
		// The same fixer on a trail with basic selectors: the bucket is added in that style.
		check: "cloudtrail-s3-data-events",
		seed: func(ctx context.Context, t *testing.T, e *env) seeded {
			createBucket(ctx, t, e, "vault-b", "us-east-1", nil)
			createTrail(ctx, t, e, "audit-basic", true, true)
			must[*cloudtrail.PutEventSelectorsOutput](t, "selectors")(e.trail("us-east-1").PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{
				TrailName: aws.String("audit-basic"), EventSelectors: existingBasicSelectors(),
			}))
			return seeded{arn: bucketARN("vault-b"), bucket: "vault-b"}
		},
		verify: func(ctx context.Context, t *testing.T, e *env, s seeded) {
			sel := must[*cloudtrail.GetEventSelectorsOutput](t, "selectors")(e.trail("us-east-1").GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("audit-basic")}))
			want := existingBasicSelectors()
			if len(sel.EventSelectors) != len(want)+1 {
				t.Fatalf("selectors after fix: %s", asJSON(sel.EventSelectors))
			}
			if diff := cmp.Diff(asJSON(want), asJSON(sel.EventSelectors[:len(want)])); diff != "" {
				t.Errorf("existing selectors changed (-before +after):\n%s", diff)
			}
		},
	},
}

// TestEveryFixerFixesItsViolation seeds each violation in moto, scans with the real policies,
// plans, applies, re-scans, and expects PASS; then applies the same plan again and expects no
// mutating call at all, and a new plan to have nothing for the check.
func TestEveryFixerFixesItsViolation(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range fixCases {
		covered[tc.check] = true
		t.Run(tc.check, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			e.shift = tc.shift
			s := tc.seed(ctx, t, e)
			cfg := checks.DefaultConfig()
			if tc.config != nil {
				tc.config(cfg, s)
			}
			snap, before := e.scan(ctx, t, cfg)
			if got := status(before, tc.check, s.arn); got != "FAIL" {
				t.Fatalf("before the fix %s on %s is %s, want FAIL", tc.check, s.arn, got)
			}
			plan, err := fix.NewPlan(before, snap, cfg, tc.include)
			if err != nil {
				t.Fatal(err)
			}
			if changeFor(plan, tc.check, s.arn) == nil {
				var sb strings.Builder
				_ = plan.Write(&sb)
				t.Fatalf("no change planned for %s on %s:\n%s", tc.check, s.arn, sb.String())
			}
			p := only(plan, tc.check)
			journalPath := filepath.Join(t.TempDir(), "journal.json")
			journal, err := fix.CreateJournal(journalPath, account, nil)
			if err != nil {
				t.Fatal(err)
			}
			e.rec.Reset()
			start := time.Now()
			res := fix.Apply(ctx, p, e.clients(), journal)
			elapsed := time.Since(start)
			calls, mutating := e.rec.Total(), e.rec.Mutating()
			for _, o := range res.Outcomes {
				if o.Outcome != fix.OutcomeApplied {
					t.Errorf("change %d %s on %s: %s %s", o.N, o.CheckID, o.Resource.ARN, o.Outcome, o.Error)
				}
			}
			t.Logf("%s: %d calls (%d mutating: %v) in %s", tc.check, calls, len(mutating), mutating, elapsed.Round(time.Millisecond))
			checkJournal(t, journalPath, len(p.Changes))

			snapAfter, after := e.scan(ctx, t, cfg)
			want := "PASS"
			if tc.gone {
				want = "(no finding)"
			}
			if got := status(after, tc.check, s.arn); got != want {
				t.Errorf("after the fix %s on %s is %s, want %s (%s)", tc.check, s.arn, got, want, finding(after, tc.check, s.arn).Message)
			}
			if tc.verify != nil {
				tc.verify(ctx, t, e, s)
			}

			// Idempotence: the stale plan again re-reads everything and changes nothing.
			e.rec.Reset()
			again := fix.Apply(ctx, p, e.clients(), nil)
			if m := e.rec.Mutating(); len(m) > 0 {
				t.Errorf("second apply made mutating calls: %v", m)
			}
			for _, o := range again.Outcomes {
				if o.Outcome != fix.OutcomeUnchanged {
					t.Errorf("second apply: change %d is %s %s, want unchanged", o.N, o.Outcome, o.Error)
				}
			}
			// The stale plan changed nothing, so the state after the fix is still the one scanned.
			plan2, err := fix.NewPlan(after, snapAfter, cfg, tc.include)
			if err != nil {
				t.Fatal(err)
			}
			if c := changeFor(plan2, tc.check, s.arn); c != nil {
				t.Errorf("a second plan still has change %d for %s on %s", c.N, tc.check, s.arn)
			}
		})
	}
	for _, id := range fix.Fixable() {
		if !covered[id] {
			t.Errorf("fixer %s has no test case", id)
		}
	}
}

// checkJournal reads the journal and checks it has an entry with a final outcome per change.
func checkJournal(t *testing.T, path string, changes int) map[string]any {
	t.Helper()
	var doc struct {
		Account string `json:"account"`
		Entries []struct {
			Check    string   `json:"check"`
			Outcome  string   `json:"outcome"`
			APICalls []string `json:"api_calls"`
			Before   any      `json:"before"`
			After    any      `json:"after"`
		} `json:"entries"`
		FinishedAt *time.Time `json:"finished_at"`
	}
	data := readFile(t, path)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("journal is not JSON: %v", err)
	}
	if doc.Account != account || doc.FinishedAt == nil || len(doc.Entries) != changes {
		t.Errorf("journal: account %s, finished %v, %d entries for %d changes", doc.Account, doc.FinishedAt, len(doc.Entries), changes)
	}
	for _, e := range doc.Entries {
		if e.Outcome == fix.OutcomeStarted {
			t.Errorf("journal entry %s left as started", e.Check)
		}
		if e.Outcome == fix.OutcomeApplied && (len(e.APICalls) == 0 || e.After == nil) {
			t.Errorf("journal entry %s: applied without calls or after: %+v", e.Check, e)
		}
	}
	for _, secret := range []string{"SecretAccessKey", "aws_secret_access_key", "SessionToken"} {
		if strings.Contains(string(data), secret) {
			t.Errorf("journal contains %q", secret)
		}
	}
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return m
}

func TestFixersNeverDeleteAnything(t *testing.T) {
	// The client interfaces are the whole surface the fixers can call: no Delete*, no
	// ScheduleKeyDeletion, DisableKey or StopLogging.
	for _, api := range []any{(*fix.S3API)(nil), (*fix.S3ControlAPI)(nil), (*fix.IAMAPI)(nil), (*fix.KMSAPI)(nil), (*fix.CloudTrailAPI)(nil)} {
		for _, m := range methods(api) {
			for _, bad := range []string{"Delete", "Schedule", "Disable", "Stop", "Remove"} {
				if strings.HasPrefix(m, bad) {
					t.Errorf("%T exposes %s", api, m)
				}
			}
		}
	}
}

// --- seeds -------------------------------------------------------------------------------------

const (
	s3FullAccess   = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
	changePassword = "arn:aws:iam::aws:policy/IAMUserChangePassword"
)

const existingBucketPolicy = `{"Version":"2012-10-17","Statement":[` +
	`{"Sid":"ReadForAuditor","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/Auditor"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::policy-bucket","arn:aws:s3:::policy-bucket/*"]},` +
	`{"Sid":"NoBucketDelete","Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::policy-bucket"}]}`

const existingTrust = `{"Version":"2012-10-17","Statement":[` +
	`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalTag/team":"backup"}}},` +
	`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func logDeliveryPolicy(bucket string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"S3ServerAccessLogsPolicy","Effect":"Allow",` +
		`"Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + bucket + `/*",` +
		`"Condition":{"StringEquals":{"aws:SourceAccount":"` + account + `"}}}]}`
}

func existingLifecycleRules() []s3types.LifecycleRule {
	return []s3types.LifecycleRule{
		{
			ID: aws.String("expire-tmp"), Status: s3types.ExpirationStatusEnabled,
			Filter:     &s3types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(30)},
		},
		{
			ID: aws.String("tagged-ia"), Status: s3types.ExpirationStatusDisabled,
			Filter:      &s3types.LifecycleRuleFilter{Tag: &s3types.Tag{Key: aws.String("tier"), Value: aws.String("cold")}},
			Transitions: []s3types.Transition{{Days: aws.Int32(60), StorageClass: s3types.TransitionStorageClassStandardIa}},
		},
	}
}

// existingBasicSelectors leave KMS management events out: the fixes must keep that exclusion.
func existingBasicSelectors() []cttypes.EventSelector {
	return []cttypes.EventSelector{{
		ReadWriteType: cttypes.ReadWriteTypeReadOnly, IncludeManagementEvents: aws.Bool(true),
		ExcludeManagementEventSources: []string{"kms.amazonaws.com"},
		DataResources:                 []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::other-bucket/"}}},
	}}
}

func existingAdvancedSelectors() []cttypes.AdvancedEventSelector {
	return []cttypes.AdvancedEventSelector{
		{Name: aws.String("management"), FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"}}}},
		{Name: aws.String("other bucket"), FieldSelectors: []cttypes.AdvancedFieldSelector{
			{Field: aws.String("eventCategory"), Equals: []string{"Data"}},
			{Field: aws.String("resources.type"), Equals: []string{"AWS::S3::Object"}},
			{Field: aws.String("resources.ARN"), StartsWith: []string{"arn:aws:s3:::other-bucket/"}},
		}},
	}
}

func putLifecycle(ctx context.Context, t *testing.T, e *env, bucket string, rules []s3types.LifecycleRule) {
	t.Helper()
	must[*s3.PutBucketLifecycleConfigurationOutput](t, "lifecycle")(e.s3("us-east-1").PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String(bucket), LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules},
	}))
}

// verifyLifecycleKept checks that the existing rules are unchanged (in the snapshot's normalised
// form, as a scan sees them) and that coffer's rule was added.
func verifyLifecycleKept(ruleID string) func(ctx context.Context, t *testing.T, e *env, s seeded) {
	return func(ctx context.Context, t *testing.T, e *env, s seeded) {
		out := must[*s3.GetBucketLifecycleConfigurationOutput](t, "get lifecycle")(e.s3("us-east-1").GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(s.bucket)}))
		var ids []string
		byID := map[string]any{}
		for _, r := range out.Rules {
			ids = append(ids, aws.ToString(r.ID))
			byID[aws.ToString(r.ID)] = checks.LifecycleRuleJSON(lifecycleRuleOf(r))
		}
		for _, r := range existingLifecycleRules() {
			want := checks.LifecycleRuleJSON(lifecycleRuleOf(r))
			if diff := cmp.Diff(asJSON(want), asJSON(byID[aws.ToString(r.ID)])); diff != "" {
				t.Errorf("rule %s changed (-before +after):\n%s", aws.ToString(r.ID), diff)
			}
		}
		if !slices.Contains(ids, ruleID) || len(ids) != 3 {
			t.Errorf("rules after fix: %v, want the two existing ones and %s", ids, ruleID)
		}
	}
}

func putVersions(ctx context.Context, t *testing.T, e *env, bucket string) []string {
	t.Helper()
	setVersioning(ctx, t, e, bucket, s3types.BucketVersioningStatusEnabled)
	for _, body := range []string{"first", "second"} {
		must[*s3.PutObjectOutput](t, "put object")(e.s3("us-east-1").PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String("backup.tar"), Body: strings.NewReader(body),
		}))
	}
	return listVersions(ctx, t, e, bucket)
}

func setVersioning(ctx context.Context, t *testing.T, e *env, bucket string, st s3types.BucketVersioningStatus) {
	t.Helper()
	must[*s3.PutBucketVersioningOutput](t, "versioning")(e.s3("us-east-1").PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket: aws.String(bucket), VersioningConfiguration: &s3types.VersioningConfiguration{Status: st},
	}))
}

func listVersions(ctx context.Context, t *testing.T, e *env, bucket string) []string {
	t.Helper()
	out := must[*s3.ListObjectVersionsOutput](t, "list versions")(e.s3("us-east-1").ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)}))
	var v []string
	for _, x := range out.Versions {
		v = append(v, aws.ToString(x.Key)+"@"+aws.ToString(x.VersionId))
	}
	slices.Sort(v)
	return v
}

func createKey(ctx context.Context, t *testing.T, e *env, region, alias string) string {
	t.Helper()
	out := must[*kms.CreateKeyOutput](t, "create key")(e.kms(region).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("coffer fix test")}))
	if alias != "" {
		must[*kms.CreateAliasOutput](t, "alias")(e.kms(region).CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: out.KeyMetadata.KeyId}))
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

// createTrail makes a trail (and its log bucket, tagged so it is not a backup bucket) in us-east-1.
func createTrail(ctx context.Context, t *testing.T, e *env, name string, multiRegion, logging bool) string {
	t.Helper()
	bucket := name + "-trail-logs"
	createBucket(ctx, t, e, bucket, "us-east-1", map[string]string{"coffer:role": "ignore"})
	out := must[*cloudtrail.CreateTrailOutput](t, "create trail")(e.trail("us-east-1").CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name: aws.String(name), S3BucketName: aws.String(bucket), IsMultiRegionTrail: aws.Bool(multiRegion),
	}))
	if logging {
		must[*cloudtrail.StartLoggingOutput](t, "start logging")(e.trail("us-east-1").StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(name)}))
	}
	return aws.ToString(out.TrailARN)
}
