package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/fixtures/motoserver"
	"github.com/coffer-audit/coffer/fixtures/seed"
)

// s3Actions maps the S3 and S3 Control operations collect calls to their IAM actions, which
// differ from the operation names. An S3 operation missing here fails the test: look its action up
// in the Service Authorization Reference and add it.
var s3Actions = map[string]string{
	"S3:ListBuckets":                     "s3:ListAllMyBuckets",
	"S3:GetBucketLocation":               "s3:GetBucketLocation",
	"S3:GetBucketTagging":                "s3:GetBucketTagging",
	"S3:GetBucketVersioning":             "s3:GetBucketVersioning",
	"S3:GetObjectLockConfiguration":      "s3:GetBucketObjectLockConfiguration",
	"S3:GetBucketEncryption":             "s3:GetEncryptionConfiguration",
	"S3:GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
	"S3:GetPublicAccessBlock":            "s3:GetBucketPublicAccessBlock",
	"S3:GetBucketPolicy":                 "s3:GetBucketPolicy",
	"S3:GetBucketAcl":                    "s3:GetBucketAcl",
	"S3:GetBucketOwnershipControls":      "s3:GetBucketOwnershipControls",
	"S3:GetBucketLogging":                "s3:GetBucketLogging",
	"S3:GetBucketReplication":            "s3:GetReplicationConfiguration",
	"S3 Control:GetPublicAccessBlock":    "s3:GetAccountPublicAccessBlock",
}

// actionPrefix maps the SDK's service ids to IAM service prefixes for services whose actions are
// named like their operations.
var actionPrefix = map[string]string{"IAM": "iam", "KMS": "kms", "CloudTrail": "cloudtrail", "Account": "account"}

// iamAction returns the IAM action an operation needs; "" for sts:GetCallerIdentity, which needs
// no permission (it cannot even be denied).
func iamAction(t *testing.T, op string) string {
	t.Helper()
	if op == "STS:GetCallerIdentity" {
		return ""
	}
	if a, ok := s3Actions[op]; ok {
		return a
	}
	svc, name, _ := strings.Cut(op, ":")
	prefix, ok := actionPrefix[svc]
	if !ok {
		t.Errorf("no IAM action known for %s: add it to s3Actions or actionPrefix", op)
		return ""
	}
	return prefix + ":" + name
}

// TestScanPolicyIsExactlyWhatCollectCalls derives the IAM actions from every operation a full
// collection makes (every region, so account:ListRegions too, on an account with every kind of
// resource) and compares them with docs/iam/coffer-scan-policy.json: nothing missing (scans would
// ERROR) and nothing extra (least privilege).
func TestScanPolicyIsExactlyWhatCollectCalls(t *testing.T) {
	srv := motoserver.Shared(t)
	flags, _ := seedScenario(t, srv, seed.Drifted)
	for i := range flags {
		if flags[i] == "--regions" {
			flags[i+1] = "all"
		}
	}
	rec := &motoserver.Recorder{}
	r := runApp(context.Background(), t, []func(*middleware.Stack) error{rec.Option},
		append([]string{"collect", "-o", filepath.Join(t.TempDir(), "snap.json")}, flags...)...)
	if r.code != 0 {
		t.Fatalf("collect: exit %d: %s", r.code, r.stderr)
	}
	called := map[string]bool{}
	for _, op := range rec.Operations() {
		if !motoserver.ReadOnly(op) {
			t.Errorf("collect called a mutating operation: %s", op)
		}
		if a := iamAction(t, op); a != "" {
			called[a] = true
		}
	}

	var doc struct {
		Version   string
		Statement []struct {
			Sid      string
			Effect   string
			Action   []string
			Resource string
		}
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "iam", "coffer-scan-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("coffer-scan-policy.json: %v", err)
	}
	if doc.Version != "2012-10-17" {
		t.Errorf("Version %q", doc.Version)
	}
	var shipped []string
	for _, st := range doc.Statement {
		if st.Effect != "Allow" || st.Resource != "*" {
			t.Errorf("statement %s: Effect %s Resource %s; want Allow on *", st.Sid, st.Effect, st.Resource)
		}
		for _, a := range st.Action {
			if strings.Contains(a, "*") {
				t.Errorf("wildcard action %s: list the exact actions", a)
			}
			if !motoserver.ReadOnly(a) {
				t.Errorf("write action %s in the read-only policy", a)
			}
			shipped = append(shipped, a)
		}
	}
	if !sort.StringsAreSorted(shipped) {
		t.Errorf("actions are not sorted: %v", shipped)
	}
	want := make([]string, 0, len(called))
	for a := range called {
		want = append(want, a)
	}
	sort.Strings(want)
	sort.Strings(shipped)
	if diff := cmp.Diff(want, shipped); diff != "" {
		t.Errorf("docs/iam/coffer-scan-policy.json (-what collect calls +what the policy allows):\n%s", diff)
	}
}
