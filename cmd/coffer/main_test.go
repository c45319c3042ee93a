package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
	"github.com/google/go-cmp/cmp"
)

// catalogIDs is the check catalog as DESIGN §4 states it: TestCatalogMatchesDesign holds the
// shipped catalog to it. It is the one list of the catalog's ids in the tests, kept because it
// states the design, not the code: every other test reads the catalog from the engine (its
// Rules(), or `coffer checks --format json`). Change it only together with DESIGN §4.
var catalogIDs = []string{
	"cloudtrail-kms-encryption", "cloudtrail-log-validation", "cloudtrail-multi-region", "cloudtrail-s3-data-events",
	"iam-access-key-rotation", "iam-backup-role-mfa", "iam-no-admin-policy", "iam-no-s3-full-access",
	"iam-no-user-policies", "iam-password-policy", "iam-root-mfa", "iam-root-no-access-keys", "iam-unused-credentials",
	"iam-user-mfa", "kms-key-in-use-healthy", "kms-key-policy-not-public", "kms-key-rotation",
	"s3-account-public-access-block", "s3-bucket-access-logging", "s3-bucket-acls-disabled",
	"s3-bucket-default-encryption", "s3-bucket-kms-cmk", "s3-bucket-lifecycle-archive", "s3-bucket-lifecycle-hygiene",
	"s3-bucket-mfa-delete", "s3-bucket-not-public", "s3-bucket-object-lock", "s3-bucket-public-access-block",
	"s3-bucket-replication", "s3-bucket-tls-only", "s3-bucket-versioning", "s3-standby-exists", "s3-standby-other-region",
}

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	removeActionBuild()
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// writeSnapshot writes a small account: one primary bucket with versioning suspended.
func writeSnapshot(t *testing.T, mutate func(*checks.Snapshot)) string {
	t.Helper()
	snap := &checks.Snapshot{
		SchemaVersion: checks.SnapshotSchemaVersion,
		Collector:     checks.Collector{Name: "coffer", Version: "test"},
		CollectedAt:   time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		Regions:       []string{"us-east-1"},
		Account: checks.Account{
			ID: "123456789012", CallerARN: "arn:aws:iam::123456789012:user/auditor", Partition: "aws", HomeRegion: "us-east-1",
			PublicAccessBlock: &checks.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true},
			Summary:           map[string]int32{"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0},
			PasswordPolicy:    &checks.PasswordPolicy{Exists: true, MinimumPasswordLength: 14, PasswordReusePrevention: 24},
		},
		S3: checks.S3{Buckets: []checks.Bucket{{
			Name: "vault", ARN: "arn:aws:s3:::vault", Region: "us-east-1", Tags: map[string]string{},
			Versioning: &checks.Versioning{Status: "Suspended"}, ObjectLock: &checks.ObjectLock{},
			Encryption: &checks.Encryption{Rules: []checks.EncryptionRule{{Algorithm: "AES256"}}},
			Lifecycle:  &checks.Lifecycle{Rules: []checks.LifecycleRule{}}, PublicAccessBlock: &checks.PublicAccessBlock{},
			Policy: &checks.Policy{}, ACL: &checks.ACL{Grants: []checks.Grant{}}, Ownership: &checks.Ownership{},
			Logging: &checks.Logging{}, Replication: &checks.Replication{Rules: []checks.ReplicationRule{}},
		}}},
		IAM:    checks.IAM{CredentialReport: []checks.CredentialReportRow{}},
		Errors: []checks.CollectError{},
	}
	if mutate != nil {
		mutate(snap)
	}
	path := filepath.Join(t.TempDir(), "snap.json")
	var buf bytes.Buffer
	if err := checks.WriteSnapshot(&buf, snap); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVersion(t *testing.T) {
	r := runCLI(t, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "coffer ") {
		t.Fatalf("version: code %d stdout %q", r.code, r.stdout)
	}
}

func TestCatalogMatchesDesign(t *testing.T) {
	r := runCLI(t, "checks", "--format", "json")
	if r.code != 0 {
		t.Fatalf("checks: code %d stderr %s", r.code, r.stderr)
	}
	var rules []checks.Rule
	if err := json.Unmarshal([]byte(r.stdout), &rules); err != nil {
		t.Fatal(err)
	}
	var ids []string
	placed, rewriting := 0, 0
	for _, rule := range rules {
		ids = append(ids, rule.ID)
		if rule.Matrix != nil {
			placed++
		}
		if rule.Remediation.Rewrites != "" {
			rewriting++
		}
		if len(rule.Remediation.Commands) == 0 {
			t.Errorf("%s has no remediation commands", rule.ID)
		}
		if rule.Description == "" {
			t.Errorf("%s has no description", rule.ID)
		}
	}
	sort.Strings(ids)
	if diff := cmp.Diff(catalogIDs, ids); diff != "" {
		t.Errorf("catalog ids (-DESIGN §4 +shipped):\n%s", diff)
	}
	// What reporters and the merge of commands read from METADATA is in the catalog's JSON too.
	if placed == 0 || rewriting == 0 {
		t.Errorf("checks --format json: %d rules with a matrix column and %d that rewrite a configuration, want some of each", placed, rewriting)
	}
}

func TestExplain(t *testing.T) {
	r := runCLI(t, "explain", "s3-bucket-versioning")
	if r.code != 0 || !strings.Contains(r.stdout, "S3.14") || !strings.Contains(r.stdout, "put-bucket-versioning") {
		t.Errorf("explain: code %d stdout %q", r.code, r.stdout)
	}
	r = runCLI(t, "explain", "no-such-check")
	if r.code != exitUsage || !strings.Contains(r.stderr, `no check "no-such-check"`) {
		t.Errorf("explain unknown: code %d stderr %q", r.code, r.stderr)
	}
}

func TestScanSnapshotExitCodesFollowFindings(t *testing.T) {
	snap := writeSnapshot(t, nil)
	for _, failOn := range []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"} {
		t.Run(failOn, func(t *testing.T) {
			r := runCLI(t, "scan", "--snapshot", snap, "--format", "json", "--fail-on", failOn)
			var report checks.Report
			if err := json.Unmarshal([]byte(r.stdout), &report); err != nil {
				t.Fatalf("stdout is not a JSON report (code %d, stderr %s): %v", r.code, r.stderr, err)
			}
			threshold, _ := checks.ParseSeverity(failOn)
			if want := report.ExitCode(threshold); r.code != want {
				t.Errorf("exit code %d, want %d from the report's own findings", r.code, want)
			}
			found := false
			for _, f := range report.Findings {
				if f.CheckID == "s3-bucket-versioning" && f.Resource.Name == "vault" {
					found = f.Status == checks.StatusFail
				}
			}
			if !found {
				t.Error("the suspended versioning of vault is not a FAIL")
			}
		})
	}
	r := runCLI(t, "scan", "--snapshot", snap, "--format", "json")
	if r.code != exitFindings {
		t.Errorf("a failing account must exit 1, got %d", r.code)
	}
}

func TestScanErrorsExit3WhenNothingFails(t *testing.T) {
	// Everything compliant enough except that versioning could not be read: the gate must not pass.
	snap := writeSnapshot(t, func(s *checks.Snapshot) {
		s.S3.Buckets[0].Versioning = nil
		s.Errors = append(s.Errors, checks.CollectError{Service: "s3", Operation: "GetBucketVersioning", Resource: "arn:aws:s3:::vault", Region: "us-east-1", Code: "AccessDenied", Message: "denied"})
	})
	r := runCLI(t, "scan", "--snapshot", snap, "--format", "json", "--fail-on", "CRITICAL")
	var report checks.Report
	if err := json.Unmarshal([]byte(r.stdout), &report); err != nil {
		t.Fatal(err)
	}
	var versioning *checks.Finding
	for i, f := range report.Findings {
		if f.CheckID == "s3-bucket-versioning" {
			versioning = &report.Findings[i]
		}
	}
	if versioning == nil || versioning.Status != checks.StatusError || !strings.Contains(versioning.Message, "AccessDenied") {
		t.Fatalf("versioning finding = %+v, want ERROR naming AccessDenied", versioning)
	}
	if want := report.ExitCode(checks.SeverityCritical); r.code != want {
		t.Errorf("exit %d, want %d", r.code, want)
	}
}

func TestScanBadInputExit2AndWriteNothing(t *testing.T) {
	dir := t.TempDir()
	good := writeSnapshot(t, nil)
	truncated := filepath.Join(dir, "truncated.json")
	data, _ := os.ReadFile(good)
	os.WriteFile(truncated, data[:len(data)/2], 0o600)
	garbage := filepath.Join(dir, "garbage.json")
	os.WriteFile(garbage, []byte("{\n  \"schema_version\": \"1\",\n  \"account\": {\"id\": 12}\n}\n"), 0o600)
	badConfig := filepath.Join(dir, "coffer.yaml")
	os.WriteFile(badConfig, []byte("params:\n  archive_after_dayz: 14\n"), 0o600)
	otherAccount := filepath.Join(dir, "other.yaml")
	os.WriteFile(otherAccount, []byte("account:\n  expected_id: \"999999999999\"\n"), 0o600)
	badRego := filepath.Join(dir, "rego")
	os.Mkdir(badRego, 0o700)
	os.WriteFile(filepath.Join(badRego, "mine.rego"), []byte("package mine\n\nimport rego.v1\n\ndeny contains x if {\n"), 0o600)
	// A check that reads fields the snapshot does not have: before policies were type-checked
	// against the snapshot schema, it loaded and silently found nothing.
	typoRego := filepath.Join(dir, "typo")
	os.Mkdir(typoRego, 0o700)
	os.WriteFile(filepath.Join(typoRego, "mine.rego"), []byte(`# METADATA
# title: Buckets are versioned
# custom:
#   id: mine-versioning
#   severity: HIGH
#   service: s3
#   remediation:
#     summary: Turn versioning on.
#     fix: manual
package mine

import rego.v1

resources contains b.arn if some b in input.s3.bukets

deny contains {"resource": b.arn, "msg": sprintf("%s is not versioned.", [b.name])} if {
	some b in input.s3.buckets
	b.versioning.stauts != "Enabled"
}
`), 0o600)
	typoFile := filepath.Join(typoRego, "mine.rego")

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing snapshot", []string{"--snapshot", filepath.Join(dir, "nope.json")}, "nope.json"},
		{"truncated snapshot", []string{"--snapshot", truncated}, "truncated.json:"},
		{"wrong type in snapshot", []string{"--snapshot", garbage}, "garbage.json:3:"},
		{"unknown config key", []string{"--snapshot", good, "--config", badConfig}, "coffer.yaml:2:"},
		{"other account", []string{"--snapshot", good, "--config", otherAccount}, "not the expected account 999999999999"},
		{"broken user rego", []string{"--snapshot", good, "--policy-dir", badRego}, "mine.rego:"},
		{"user rego reads a field the snapshot lacks", []string{"--snapshot", good, "--policy-dir", typoRego}, typoFile + `:14: undefined ref: input.s3.bukets: input.s3 has no field "bukets" (it has "buckets")`},
		{"user rego reads a nested field the snapshot lacks", []string{"--snapshot", good, "--policy-dir", typoRego}, typoFile + `:18: undefined ref: b.versioning.stauts: b.versioning has no field "stauts" (it has "mfa_delete", "status")`},
		{"unknown format", []string{"--snapshot", good, "--format", "yaml"}, `unknown format "yaml"`},
		{"two formats on stdout", []string{"--snapshot", good, "--format", "json", "--format", "table", "--format", "markdown"}, "only one format can go to stdout"},
		{"bad fail-on", []string{"--snapshot", good, "--fail-on", "urgent"}, "--fail-on"},
		{"fix flag without fix", []string{"--snapshot", good, "--yes"}, "only make sense with --fix"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "report.json")
			r := runCLI(t, append([]string{"scan", "--output", out}, tc.args...)...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want 2 (stderr %q)", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a failed run wrote %s", out)
			}
		})
	}
}

func TestScanWritesSeveralFormatsAtOnce(t *testing.T) {
	snap := writeSnapshot(t, nil)
	dir := t.TempDir()
	jsonFile, sarifFile := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.sarif")
	r := runCLI(t, "scan", "--snapshot", snap, "--format", "table", "--format", "json="+jsonFile, "--format", "sarif="+sarifFile)
	if r.code != exitFindings {
		t.Fatalf("exit %d stderr %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "s3-bucket-versioning") {
		t.Errorf("table on stdout lacks the failing check:\n%s", r.stdout)
	}
	for _, f := range []string{jsonFile, sarifFile} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(data) || !bytes.Contains(data, []byte("s3-bucket-versioning")) {
			t.Errorf("%s is not a JSON report naming the failing check", f)
		}
	}
}

// TestScanGroupBy: --group-by picks what one entry of the table and Markdown is, --detail is
// --group-by none, and a grouping that does not exist is a usage error.
func TestScanGroupBy(t *testing.T) {
	snap := writeSnapshot(t, nil)
	tests := []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"--format", "table", "--group-by", "resource"}, exitFindings, "RESOURCES"},
		{[]string{"--format", "markdown-comment", "--report-url", "https://ci.example/run/7"}, exitFindings, "## coffer: "},
		{[]string{"--format", "table", "--detail"}, exitFindings, "s3-bucket-versioning"},
		{[]string{"--format", "table", "--group-by", "severity"}, exitUsage, `--group-by: unknown grouping "severity"`},
		{[]string{"--format", "table", "--detail", "--group-by", "resource"}, exitUsage, "--detail is --group-by none"},
	}
	for _, tc := range tests {
		r := runCLI(t, append([]string{"scan", "--snapshot", snap}, tc.args...)...)
		if r.code != tc.wantCode || !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("%v: exit %d, want %d and %q in:\n%s%s", tc.args, r.code, tc.wantCode, tc.want, r.stdout, r.stderr)
		}
	}
}
