package collect_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/collect"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
)

// TestCollectAccessDenied runs a collection as a user allowed only a few reads, with moto
// enforcing IAM. Denied calls become error entries with the code; allowed data is still there.
func TestCollectAccessDenied(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ws := seedWorkshop(ctx, t, e)
	ic := e.iam()
	must[*iam.CreateUserOutput](t, "auditor")(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("auditor")}))
	must[*iam.PutUserPolicyOutput](t, "auditor policy")(ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName: aws.String("auditor"), PolicyName: aws.String("partial"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` +
			`"sts:GetCallerIdentity","s3:ListAllMyBuckets","s3:GetBucketLocation","s3:GetBucketVersioning","iam:GetAccountSummary"],"Resource":"*"}]}`),
	}))
	key := must[*iam.CreateAccessKeyOutput](t, "auditor key")(ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("auditor")}))
	e.srv.EnforceAuth(t)
	cfg := e.srv.AWSConfigWithKeys("us-east-1", *key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey)

	snap, err := collect.Collect(ctx, cfg, e.opts)
	if err != nil {
		t.Fatalf("Collect with partial permissions: %v", err)
	}
	if snap.Account.CallerARN != "arn:aws:iam::123456789012:user/auditor" {
		t.Errorf("caller = %s", snap.Account.CallerARN)
	}

	got := map[string]checks.CollectError{}
	for _, er := range snap.Errors {
		got[er.Service+":"+er.Operation+" "+er.Resource] = er
	}
	primaryARN := "arn:aws:s3:::" + primaryBucket
	tests := []struct {
		key    string
		region string
		codes  []string // moto's KMS and CloudTrail send a bare 403; either form is right
	}{
		{"s3:GetBucketTagging " + primaryARN, "us-east-1", []string{"AccessDenied"}},
		{"s3:GetBucketPolicy " + primaryARN, "us-east-1", []string{"AccessDenied"}},
		{"s3:GetBucketReplication " + primaryARN, "us-east-1", []string{"AccessDenied"}},
		{"s3control:GetPublicAccessBlock arn:aws:iam::123456789012:root", "us-east-1", []string{"AccessDenied", "403"}},
		{"iam:GetAccountAuthorizationDetails ", "", []string{"AccessDenied"}},
		{"iam:GetAccountPasswordPolicy ", "", []string{"AccessDenied"}},
		{"iam:GetCredentialReport ", "", []string{"AccessDenied"}},
		{"kms:ListKeys ", "us-east-1", []string{"AccessDenied", "403"}},
		{"kms:ListAliases ", "us-east-1", []string{"AccessDenied", "403"}},
		{"cloudtrail:DescribeTrails ", "us-east-1", []string{"AccessDenied", "403"}},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			er, ok := got[tc.key]
			if !ok {
				t.Fatalf("no error entry for %s; have %v", tc.key, sortedKeys(got))
			}
			if er.Region != tc.region || !contains(tc.codes, er.Code) || er.Message == "" {
				t.Errorf("entry = %+v, want region %s, code in %v and a message", er, tc.region, tc.codes)
			}
		})
	}
	for key := range got {
		if strings.Contains(key, "GetBucketVersioning") || strings.Contains(key, "GetBucketLocation") ||
			strings.Contains(key, "GetAccountSummary") || strings.Contains(key, "ListBuckets") {
			t.Errorf("allowed call recorded as failed: %s", key)
		}
	}

	// What was allowed is there; what was denied is nil (unknown), never empty (not configured).
	b := findBucket(t, snap, primaryBucket)
	if b.Versioning == nil || b.Versioning.Status != "Enabled" {
		t.Errorf("versioning = %+v, want Enabled", b.Versioning)
	}
	if b.Tags != nil || b.Policy != nil || b.Encryption != nil || b.ObjectLock != nil {
		t.Errorf("denied items not nil: tags %v policy %v encryption %v object lock %v", b.Tags, b.Policy, b.Encryption, b.ObjectLock)
	}
	if snap.Account.Summary == nil || snap.Account.PublicAccessBlock != nil || snap.Account.PasswordPolicy != nil || snap.IAM.CredentialReport != nil {
		t.Errorf("account: summary %v, BPA %v, password policy %v, credential report %v", snap.Account.Summary != nil,
			snap.Account.PublicAccessBlock, snap.Account.PasswordPolicy, snap.IAM.CredentialReport)
	}
	if len(snap.KMS.Keys) != 0 || len(snap.CloudTrail.Trails) != 0 {
		t.Errorf("keys/trails from denied listings: %d %d (key %s)", len(snap.KMS.Keys), len(snap.CloudTrail.Trails), ws.keyARN)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestCollectMakesNoMutatingCall records every operation of a full collection over a seeded
// account (all services, two regions) and fails on anything that is not a read.
func TestCollectMakesNoMutatingCall(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	seedWorkshop(ctx, t, e)
	seedIAM(ctx, t, e)
	createBucket(ctx, t, e, "standby-database-bucket", "eu-west-1", false)

	rec := &motoserver.Recorder{}
	opts := e.opts
	opts.Regions = []string{"us-east-1", "eu-west-1"}
	opts.APIOptions = append(opts.APIOptions, rec.Option)
	snap := collectOK(ctx, t, e, opts)
	noErrors(t, snap)

	counts := rec.Counts()
	if len(counts) == 0 {
		t.Fatal("the recorder saw no operation: APIOptions are not applied")
	}
	for op := range counts {
		if !motoserver.ReadOnly(op) {
			t.Errorf("mutating operation called: %s", op)
		}
	}
	// Exactly one call per configuration item per bucket, and the listings once per region.
	buckets := len(snap.S3.Buckets)
	for _, op := range []string{"GetBucketLocation", "GetBucketTagging", "GetBucketVersioning", "GetObjectLockConfiguration",
		"GetBucketEncryption", "GetBucketLifecycleConfiguration", "GetPublicAccessBlock", "GetBucketPolicy", "GetBucketAcl",
		"GetBucketOwnershipControls", "GetBucketLogging", "GetBucketReplication"} {
		if got := counts["S3:"+op]; got != buckets {
			t.Errorf("S3:%s called %d times for %d buckets", op, got, buckets)
		}
	}
	for op, want := range map[string]int{
		"S3:ListBuckets": 1, "S3 Control:GetPublicAccessBlock": 1, "STS:GetCallerIdentity": 1,
		"IAM:GetAccountAuthorizationDetails": 1, "IAM:GetAccountSummary": 1, "IAM:GetAccountPasswordPolicy": 1,
		"IAM:ListVirtualMFADevices": 1, "IAM:GetCredentialReport": 1, "IAM:ListMFADevices": len(snap.IAM.Users),
		"IAM:ListAccessKeys": len(snap.IAM.Users), "IAM:GetAccessKeyLastUsed": 1,
		"KMS:ListKeys": 2, "KMS:ListAliases": 2, "KMS:DescribeKey": 1, "KMS:GetKeyPolicy": 1, "KMS:GetKeyRotationStatus": 1,
		"CloudTrail:DescribeTrails": 2, "CloudTrail:GetTrailStatus": 1, "CloudTrail:GetEventSelectors": 1,
	} {
		if got := counts[op]; got != want {
			t.Errorf("%s called %d times, want %d", op, got, want)
		}
	}
	t.Logf("operations: %v", counts)
}

// TestSnapshotMatchesSchema validates collected snapshots against docs/snapshot.schema.json, and
// checks the schema rejects broken ones (so a pass means something).
func TestSnapshotMatchesSchema(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	seedWorkshop(ctx, t, e)
	seedIAM(ctx, t, e)
	createBucket(ctx, t, e, "bare-bucket", "eu-west-1", false)
	opts := e.opts
	opts.Regions = []string{"us-east-1", "eu-west-1"}
	full := collectOK(ctx, t, e, opts)

	schema := compileSchema(t)
	validate := func(snap *checks.Snapshot) error {
		raw, err := json.Marshal(snap)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		return schema.Validate(doc)
	}
	if err := validate(full); err != nil {
		t.Fatalf("full snapshot does not match the schema: %v", err)
	}

	tests := []struct {
		name   string
		break_ func(s *checks.Snapshot)
	}{
		{"schema version", func(s *checks.Snapshot) { s.SchemaVersion = "0" }},
		{"account id", func(s *checks.Snapshot) { s.Account.ID = "moto" }},
		{"versioning status", func(s *checks.Snapshot) { s.S3.Buckets[0].Versioning.Status = "On" }},
		{"nil regions", func(s *checks.Snapshot) { s.Regions = nil }},
		{"nil errors", func(s *checks.Snapshot) { s.Errors = nil }},
	}
	for _, tc := range tests {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			snap := clone(t, full)
			tc.break_(snap)
			if err := validate(snap); err == nil {
				t.Error("schema accepted a broken snapshot")
			}
		})
	}

	t.Run("accepts the optional fields", func(t *testing.T) {
		snap := clone(t, full)
		lost := []string{"Rules[0].Filter.And.Tags"}
		b := &snap.S3.Buckets[0]
		b.Lifecycle = &checks.Lifecycle{Rules: []checks.LifecycleRule{}, UnmodeledFields: lost}
		b.Replication = &checks.Replication{Rules: []checks.ReplicationRule{}, UnmodeledFields: lost}
		snap.Account.PasswordPolicy = &checks.PasswordPolicy{Exists: true, UnmodeledFields: []string{"NewSetting"}}
		if len(snap.CloudTrail.Trails) == 0 {
			t.Fatal("the seeded account has no trail")
		}
		tr := &snap.CloudTrail.Trails[0]
		tr.EventSelectors = []checks.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true,
			ExcludeManagementEventSources: []string{"kms.amazonaws.com"}, DataResources: []checks.DataResource{}}}
		tr.UnmodeledSelectorFields = []string{"EventSelectors[0].NewField"}
		if err := validate(snap); err != nil {
			t.Errorf("schema rejects the optional fields: %v", err)
		}
	})

	t.Run("accepts unreadable items as null", func(t *testing.T) {
		snap := clone(t, full)
		b := &snap.S3.Buckets[0]
		b.Tags, b.Versioning, b.Policy, b.ACL = nil, nil, nil, nil
		snap.Account.PasswordPolicy, snap.Account.Summary, snap.IAM.CredentialReport = nil, nil, nil
		snap.Errors = append(snap.Errors, checks.CollectError{Service: "s3", Operation: "GetBucketTagging", Code: "AccessDenied"})
		if err := validate(snap); err != nil {
			t.Errorf("schema rejects null (unreadable) items: %v", err)
		}
	})
}

// clone deep-copies a snapshot through its JSON form.
func clone(t *testing.T, s *checks.Snapshot) *checks.Snapshot {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out checks.Snapshot
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "..", "docs", "snapshot.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(path, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return s
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCollectNoCredentials: with nothing in the chain, Collect fails fast with a clear error.
func TestCollectNoCredentials(t *testing.T) {
	ctx := context.Background()
	srv := newEnv(t).srv
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config"), "")
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "config"))
	// IMDS is off here: this machine is not EC2, and the point is the chain running dry.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	opts := srv.Options()
	cfg, err := awsclient.LoadConfig(ctx, opts.Options)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	_, err = collect.Collect(ctx, cfg, opts)
	if err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("err = %v, want a credentials error", err)
	}
}
