package checks_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coffer-audit/coffer/checks"
	"github.com/google/go-cmp/cmp"
)

const libRego = `package lib.resource

import rego.v1

role(b) := input.coffer.roles[b.name]

bucket(b) := {"arn": b.arn, "type": "AWS::S3::Bucket", "name": b.name, "region": b.region, "role": role(b)}
`

const versioningRego = `# METADATA
# title: Buckets have versioning
# description: Test rule.
# custom:
#   id: test-versioning
#   severity: HIGH
#   service: s3
#   requires: ["s3:ListBuckets", "s3:GetBucketVersioning"]
#   frameworks:
#     aws-fsbp: ["S3.14"]
#   remediation:
#     summary: Turn versioning on.
#     fix: auto
#     commands:
#       - aws s3api put-bucket-versioning --bucket {{.Resource.Name}} --versioning-configuration Status=Enabled
package coffer.test.versioning

import data.lib.resource
import rego.v1

resources contains resource.bucket(b) if some b in input.s3.buckets

deny contains {"resource": resource.bucket(b), "msg": sprintf("Bucket %s is not versioned.", [b.name]), "evidence": {"path": sprintf("s3.buckets[%d].versioning.status", [i]), "value": b.versioning.status}} if {
	some i, b in input.s3.buckets
	b.versioning.status != "Enabled"
}
`

const kmsPlaceholderRego = `# METADATA
# title: Buckets use a CMK
# custom:
#   id: test-cmk
#   severity: MEDIUM
#   service: s3
#   requires: ["s3:GetBucketEncryption"]
#   remediation:
#     summary: Use a CMK.
#     fix: auto
#     commands:
#       - aws s3api put-bucket-encryption --bucket {{.Resource.Name}} --server-side-encryption-configuration {{sq (printf "{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"%s\"}}]}" .Fix.KMSKey)}}
package coffer.test.cmk

import data.lib.resource
import rego.v1

resources contains resource.bucket(b) if some b in input.s3.buckets

deny contains {"resource": resource.bucket(b), "msg": sprintf("Bucket %s has no CMK.", [b.name])} if {
	some b in input.s3.buckets
	b.encryption.rules[0].kms_key_id == ""
}
`

func testEngine(t *testing.T, extra map[string]string) *checks.Engine {
	t.Helper()
	fsys := fstest.MapFS{
		"lib/resource.rego":      {Data: []byte(libRego)},
		"test/versioning.rego":   {Data: []byte(versioningRego)},
		"test/cmk.rego":          {Data: []byte(kmsPlaceholderRego)},
		"test/ignored_test.rego": {Data: []byte("package x_test\nthis is not rego")},
	}
	for name, src := range extra {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	e, err := checks.NewEngine(context.Background(), checks.EngineOptions{BuiltIn: fsys})
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

func bucket(name, versioning string) checks.Bucket {
	return checks.Bucket{
		Name: name, ARN: "arn:aws:s3:::" + name, Region: "us-east-1",
		Versioning: &checks.Versioning{Status: versioning},
		Encryption: &checks.Encryption{Rules: []checks.EncryptionRule{{Algorithm: "aws:kms", KMSKeyID: "arn:aws:kms:us-east-1:123456789012:key/k"}}},
	}
}

func snapshot(buckets ...checks.Bucket) *checks.Snapshot {
	return &checks.Snapshot{
		SchemaVersion: checks.SnapshotSchemaVersion,
		CollectedAt:   time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		Account:       checks.Account{ID: "123456789012", Partition: "aws", HomeRegion: "us-east-1"},
		S3:            checks.S3{Buckets: buckets},
	}
}

var fixedNow = func() time.Time { return time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC) }

type verdict struct {
	Check, ARN string
	Status     checks.Status
}

func verdicts(r *checks.Report) []verdict {
	var out []verdict
	for _, f := range r.Findings {
		out = append(out, verdict{f.CheckID, f.Resource.ARN, f.Status})
	}
	return out
}

func TestEvaluateStatuses(t *testing.T) {
	e := testEngine(t, nil)
	tests := []struct {
		name string
		snap *checks.Snapshot
		cfg  *checks.Config
		want []verdict
	}{
		{
			name: "pass and fail",
			snap: snapshot(bucket("a", "Enabled"), bucket("b", "Suspended")),
			want: []verdict{
				{"test-cmk", "arn:aws:s3:::a", checks.StatusPass}, {"test-cmk", "arn:aws:s3:::b", checks.StatusPass},
				{"test-versioning", "arn:aws:s3:::a", checks.StatusPass}, {"test-versioning", "arn:aws:s3:::b", checks.StatusFail},
			},
		},
		{
			name: "a failed read makes the bucket ERROR for the checks that need it, never PASS",
			snap: func() *checks.Snapshot {
				b := bucket("a", "")
				b.Versioning = nil
				s := snapshot(b)
				s.Errors = []checks.CollectError{{Service: "s3", Operation: "GetBucketVersioning", Resource: "arn:aws:s3:::a", Region: "us-east-1", Code: "AccessDenied", Message: "denied"}}
				return s
			}(),
			want: []verdict{
				{"test-cmk", "arn:aws:s3:::a", checks.StatusPass},
				{"test-versioning", "arn:aws:s3:::a", checks.StatusError},
			},
		},
		{
			name: "a failed listing makes the check ERROR on the account even with no resources",
			snap: func() *checks.Snapshot {
				s := snapshot()
				s.Errors = []checks.CollectError{{Service: "s3", Operation: "ListBuckets", Code: "AccessDenied", Message: "denied"}}
				return s
			}(),
			want: []verdict{{"test-versioning", "arn:aws:iam::123456789012:root", checks.StatusError}},
		},
		{
			name: "a waiver turns FAIL into WAIVED",
			snap: snapshot(bucket("b", "Suspended")),
			cfg: mustConfig(t, `waivers:
  - check: test-versioning
    resource: "arn:aws:s3:::b*"
    reason: legacy bucket, migrating
    expires: 2027-01-01
`),
			want: []verdict{
				{"test-cmk", "arn:aws:s3:::b", checks.StatusPass},
				{"test-versioning", "arn:aws:s3:::b", checks.StatusWaived},
			},
		},
		{
			name: "an expired waiver stops applying",
			snap: snapshot(bucket("b", "Suspended")),
			cfg: mustConfig(t, `waivers:
  - {check: test-versioning, resource: b, reason: old, expires: 2026-01-01}
`),
			want: []verdict{
				{"test-cmk", "arn:aws:s3:::b", checks.StatusPass},
				{"test-versioning", "arn:aws:s3:::b", checks.StatusFail},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := e.Evaluate(context.Background(), tc.snap, checks.EvalOptions{Config: tc.cfg, Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, verdicts(r)); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateFindingDetails(t *testing.T) {
	e := testEngine(t, nil)
	snap := snapshot(bucket("b", "Suspended"))
	snap.S3.Buckets[0].Encryption.Rules[0].KMSKeyID = ""
	r, err := e.Evaluate(context.Background(), snap, checks.EvalOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	byCheck := map[string]checks.Finding{}
	for _, f := range r.Findings {
		byCheck[f.CheckID] = f
	}
	v := byCheck["test-versioning"]
	want := []string{"aws s3api put-bucket-versioning --bucket b --versioning-configuration Status=Enabled"}
	if diff := cmp.Diff(want, v.Remediation.Commands); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	if v.Evidence == nil || v.Evidence.Path != "s3.buckets[0].versioning.status" || v.Evidence.Value != "Suspended" {
		t.Errorf("evidence = %+v", v.Evidence)
	}
	if v.Resource.Role != "primary" || v.Remediation.Fix != checks.FixAuto {
		t.Errorf("role %q fix %q, want primary auto", v.Resource.Role, v.Remediation.Fix)
	}
	cmk := byCheck["test-cmk"]
	if cmk.Remediation.Fix != checks.FixManual {
		t.Errorf("a command with a placeholder must not be auto-fixable, got %q", cmk.Remediation.Fix)
	}
	if len(cmk.Remediation.Commands) != 1 || !strings.Contains(cmk.Remediation.Commands[0], `'{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"<KMS_KEY_ARN>"}}]}'`) {
		t.Errorf("cmk command = %q", cmk.Remediation.Commands)
	}
	if got := r.Summary; got.Fail != 2 || got.BySeverity["HIGH"] != 1 || got.BySeverity["MEDIUM"] != 1 {
		t.Errorf("summary = %+v", got)
	}
}

// TestNotesExplainAPass: a note replaces the message of a PASS, and makes it NotApplicable only
// when it says not_applicable: true (whatever its words); a note on a denied resource changes
// nothing.
func TestNotesExplainAPass(t *testing.T) {
	src := strings.Replace(versioningRego, "package coffer.test.versioning", "package coffer.test.noted", 1)
	src = strings.Replace(src, "id: test-versioning", "id: test-noted", 1) + `
notes contains {"resource": resource.bucket(b), "msg": "Not applicable: archived.", "not_applicable": true} if {
	some b in input.s3.buckets
	b.name in {"archived", "broken"}
}

notes contains {"resource": resource.bucket(b), "msg": "Not applicable in words only."} if {
	some b in input.s3.buckets
	b.name == "worded"
}

notes contains {"resource": resource.bucket(b), "msg": "Counted as applicable.", "not_applicable": false} if {
	some b in input.s3.buckets
	b.name == "explicit"
}
`
	e := testEngine(t, map[string]string{"test/noted.rego": src})
	snap := snapshot(bucket("archived", "Enabled"), bucket("worded", "Enabled"), bucket("explicit", "Enabled"), bucket("plain", "Enabled"), bucket("broken", "Suspended"))
	r, err := e.Evaluate(context.Background(), snap, checks.EvalOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	type noted struct {
		Status        checks.Status
		Message       string
		NotApplicable bool
	}
	got := map[string]noted{}
	for _, f := range r.Findings {
		if f.CheckID == "test-noted" {
			got[f.Resource.Name] = noted{f.Status, f.Message, f.NotApplicable}
		}
	}
	want := map[string]noted{
		"archived": {checks.StatusPass, "Not applicable: archived.", true},
		"worded":   {checks.StatusPass, "Not applicable in words only.", false},
		"explicit": {checks.StatusPass, "Counted as applicable.", false},
		"plain":    {checks.StatusPass, "plain: Buckets have versioning.", false},
		"broken":   {checks.StatusFail, "Bucket broken is not versioned.", false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestEngineRejectsBadPolicies(t *testing.T) {
	tests := []struct {
		name, file, src, want string
	}{
		{"syntax error", "bad.rego", "package coffer.bad\n\nimport rego.v1\n\ndeny contains x if {\n", "bad.rego:"},
		{"unknown severity", "sev.rego", strings.Replace(versioningRego, "severity: HIGH", "severity: URGENT", 1), `unknown severity "URGENT"`},
		{"unquoted framework id", "fw.rego", strings.Replace(versioningRego, `aws-fsbp: ["S3.14"]`, "cis-aws-3.0.0: [2.10]", 1), "must be a quoted string"},
		{"bad template", "tmpl.rego", strings.Replace(versioningRego, "{{.Resource.Name}}", "{{.Resource.Name", 1), "remediation command 1"},
		{"missing deny", "nodeny.rego", strings.Replace(versioningRego, "deny contains", "other contains", 1), "must define both"},
		{"unknown fix class", "fix.rego", strings.Replace(versioningRego, "fix: auto", "fix: sometimes", 1), "remediation.fix"},
		{"unknown matrix table", "table.rego", withMatrix("table: files\n#     column: Versioning"), `matrix.table "files" must be buckets or principals`},
		{"matrix without column", "column.rego", withMatrix("table: buckets\n#     order: 3"), "matrix.column is required"},
		{"negative matrix order", "order.rego", withMatrix("table: buckets\n#     column: Versioning\n#     order: -1"), "matrix.order -1 must not be negative"},
		{"unknown matrix field", "colour.rego", withMatrix("table: buckets\n#     column: Versioning\n#     colour: red"), `unknown field "colour"`},
		{"unknown rewrites", "rw.rego", strings.Replace(versioningRego, "fix: auto", "fix: auto\n#     rewrites: bucket-versioning", 1), `remediation.rewrites "bucket-versioning" must be lifecycle or trail-selectors`},
		{"rewrites with no merging function", "rwnone.rego", strings.Replace(versioningRego, "fix: auto", "fix: auto\n#     rewrites: lifecycle", 1), "remediation.rewrites is lifecycle, but no command calls lifecycleArchive or lifecycleHygiene"},
		{"merging function without rewrites", "rwmissing.rego", lifecycleRule("", "lifecycleHygiene"), "remediation.rewrites must be lifecycle: the commands call lifecycleHygiene"},
		{"merging function of another configuration", "rwother.rego", lifecycleRule("trail-selectors", "lifecycleArchive"), "remediation.rewrites must be lifecycle: the commands call lifecycleArchive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := strings.Replace(tc.src, "package coffer.test.versioning", "package coffer.user."+strings.TrimSuffix(tc.file, ".rego"), 1)
			src = strings.Replace(src, "id: test-versioning", "id: user-"+strings.TrimSuffix(tc.file, ".rego"), 1)
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := checks.NewEngine(context.Background(), checks.EngineOptions{BuiltIn: fstest.MapFS{"lib/resource.rego": {Data: []byte(libRego)}}, PolicyDirs: []string{dir}})
			if err == nil {
				t.Fatal("NewEngine accepted a broken policy")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), filepath.Join(dir, tc.file)) {
				t.Errorf("error %q should name the file and contain %q", err, tc.want)
			}
			// Metadata errors point at the METADATA block (line 1 of these files).
			if strings.Contains(err.Error(), "METADATA") && !strings.Contains(err.Error(), filepath.Join(dir, tc.file)+":1:") {
				t.Errorf("error %q should name line 1 of %s", err, tc.file)
			}
			var pe checks.PolicyErrors
			var single *checks.PolicyError
			if !errors.As(err, &pe) && !errors.As(err, &single) {
				t.Errorf("error is %T, want a PolicyError", err)
			}
		})
	}
}

// withMatrix is versioningRego with a custom.matrix block of the given (indented) lines.
func withMatrix(lines string) string {
	return strings.Replace(versioningRego, "#   remediation:\n", "#   matrix:\n#     "+lines+"\n#   remediation:\n", 1)
}

// lifecycleRule is a user check whose command rewrites the bucket's lifecycle through fn, with the
// given remediation.rewrites (none when empty). It fails on every bucket whose name has prefix.
func lifecycleRule(rewrites, fn string) string {
	return lifecycleCheck("user-"+strings.ToLower(fn), rewrites, fn, "")
}

func lifecycleCheck(id, rewrites, fn, prefix string) string {
	meta := ""
	if rewrites != "" {
		meta = "\n#     rewrites: " + rewrites
	}
	return fmt.Sprintf(`# METADATA
# title: Buckets have a lifecycle (%[1]s)
# custom:
#   id: %[1]s
#   severity: LOW
#   service: s3
#   remediation:
#     summary: Add the rule.
#     fix: auto%[2]s
#     commands:
#       - aws s3api put-bucket-lifecycle-configuration --bucket {{.Resource.Name}} --lifecycle-configuration {{%[3]s .Bucket .Params}}
package coffer.user.%[4]s

import data.lib.resource
import rego.v1

resources contains resource.bucket(b) if some b in input.s3.buckets

deny contains {"resource": resource.bucket(b), "msg": sprintf("Bucket %%s lacks the rule.", [b.name])} if {
	some b in input.s3.buckets
	startswith(b.name, %[5]q)
}
`, id, meta, fn, strings.ReplaceAll(id, "-", "_"), prefix)
}

// TestRewritesMergeByMetadata: two user checks (ids coffer knows nothing about) that declare
// remediation.rewrites: lifecycle print, on a bucket where both fail, one lifecycle carrying both
// rules, and on a bucket where one fails, its own rule only.
func TestRewritesMergeByMetadata(t *testing.T) {
	e := testEngine(t, map[string]string{
		"user/archive.rego": lifecycleCheck("acme-archive", "lifecycle", "lifecycleArchive", "both-"),
		"user/hygiene.rego": lifecycleCheck("acme-hygiene", "lifecycle", "lifecycleHygiene", ""),
	})
	snap := snapshot(bucket("both-1", "Enabled"), bucket("hygiene-only", "Enabled"))
	r, err := e.Evaluate(context.Background(), snap, checks.EvalOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]checks.Rule{}
	for _, rule := range r.Rules {
		rules[rule.ID] = rule
	}
	if got := rules["acme-archive"].Remediation.Rewrites; got != checks.RewritesLifecycle {
		t.Errorf("acme-archive's Rule.Remediation.Rewrites = %q, want %q", got, checks.RewritesLifecycle)
	}
	tests := []struct {
		check, arn string
		want       []string // lifecycle rule ids in the printed configuration, in order
	}{
		{"acme-archive", "arn:aws:s3:::both-1", []string{checks.ArchiveRuleID, checks.HygieneRuleID}},
		{"acme-hygiene", "arn:aws:s3:::both-1", []string{checks.ArchiveRuleID, checks.HygieneRuleID}},
		{"acme-hygiene", "arn:aws:s3:::hygiene-only", []string{checks.HygieneRuleID}},
	}
	ruleID := regexp.MustCompile(`"ID":"([a-z-]+)"`)
	for _, tc := range tests {
		f := findingOf(r, tc.check, tc.arn)
		if f == nil || f.Status != checks.StatusFail || len(f.Remediation.Commands) != 1 {
			t.Fatalf("%s on %s: %+v, want one FAIL with one command", tc.check, tc.arn, f)
		}
		var got []string
		for _, m := range ruleID.FindAllStringSubmatch(f.Remediation.Commands[0], -1) {
			got = append(got, m[1])
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s on %s: lifecycle rules (-want +got):\n%s\n%s", tc.check, tc.arn, diff, f.Remediation.Commands[0])
		}
	}
}

func findingOf(r *checks.Report, check, arn string) *checks.Finding {
	for i := range r.Findings {
		if r.Findings[i].CheckID == check && r.Findings[i].Resource.ARN == arn {
			return &r.Findings[i]
		}
	}
	return nil
}

func TestEngineRejectsDuplicateIDs(t *testing.T) {
	fsys := fstest.MapFS{
		"lib/resource.rego": {Data: []byte(libRego)},
		"a/v.rego":          {Data: []byte(versioningRego)},
		"b/v.rego":          {Data: []byte(strings.Replace(versioningRego, "package coffer.test.versioning", "package coffer.test.other", 1))},
	}
	_, err := checks.NewEngine(context.Background(), checks.EngineOptions{BuiltIn: fsys})
	if err == nil || !strings.Contains(err.Error(), `check id "test-versioning" is already defined`) {
		t.Fatalf("err = %v", err)
	}
}

// TestEngineRejectsUnusablePolicyDir: a --policy-dir that does not exist or is a file is a
// PolicyError naming the path and saying why, never a panic; a missing one still matches
// fs.ErrNotExist.
func TestEngineRejectsUnusablePolicyDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "checks.rego")
	if err := os.WriteFile(file, []byte(versioningRego), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "no-such-dir")
	tests := []struct {
		name, path, want string
		notExist         bool
	}{
		{"does not exist", missing, missing + ": cannot read policy dir: no such file or directory", true},
		{"is a file", file, file + ": not a directory", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checks.NewEngine(context.Background(), checks.EngineOptions{PolicyDirs: []string{tc.path}})
			if err == nil {
				t.Fatalf("NewEngine accepted --policy-dir %s", tc.path)
			}
			if err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			var pe *checks.PolicyError
			if !errors.As(err, &pe) {
				t.Errorf("error is %T, want a *checks.PolicyError", err)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tc.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v", got, tc.notExist)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	f := func(sev checks.Severity, st checks.Status) checks.Finding {
		return checks.Finding{Severity: sev, Status: st}
	}
	tests := []struct {
		name     string
		findings []checks.Finding
		failOn   checks.Severity
		want     int
	}{
		{"clean", []checks.Finding{f(checks.SeverityHigh, checks.StatusPass)}, checks.SeverityLow, 0},
		{"fail", []checks.Finding{f(checks.SeverityLow, checks.StatusFail)}, checks.SeverityLow, 1},
		{"fail below threshold", []checks.Finding{f(checks.SeverityLow, checks.StatusFail)}, checks.SeverityHigh, 0},
		{"error only", []checks.Finding{f(checks.SeverityHigh, checks.StatusError)}, checks.SeverityLow, 3},
		{"fail beats error", []checks.Finding{f(checks.SeverityHigh, checks.StatusError), f(checks.SeverityHigh, checks.StatusFail)}, checks.SeverityLow, 1},
		{"waived never fails", []checks.Finding{f(checks.SeverityCritical, checks.StatusWaived)}, checks.SeverityLow, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &checks.Report{Findings: tc.findings}
			if got := r.ExitCode(tc.failOn); got != tc.want {
				t.Errorf("ExitCode = %d, want %d", got, tc.want)
			}
		})
	}
}

func mustConfig(t *testing.T, src string) *checks.Config {
	t.Helper()
	cfg, err := checks.ParseConfig("coffer.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestWaiversNoticeOnceAndKeepCommands(t *testing.T) {
	e := testEngine(t, nil)
	cfg := mustConfig(t, `waivers:
  - {check: test-versioning, resource: a, reason: legacy, expires: 2027-01-01}
  - {check: test-versioning, resource: b, reason: old, expires: 2026-01-01}
`)
	r, err := e.Evaluate(context.Background(), snapshot(bucket("a", "Suspended"), bucket("b", "Suspended")), checks.EvalOptions{Config: cfg, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	expired := 0
	for _, n := range r.Notices {
		if strings.Contains(n, "expired on 2026-01-01") {
			expired++
		}
	}
	if expired != 1 {
		t.Errorf("expired-waiver notices = %d, want 1: %q", expired, r.Notices)
	}
	for _, f := range r.Findings {
		if f.CheckID == "test-versioning" && f.Resource.Name == "a" {
			if f.Status != checks.StatusWaived || len(f.Remediation.Commands) != 1 {
				t.Errorf("waived finding = %s with commands %q, want WAIVED with its command", f.Status, f.Remediation.Commands)
			}
		}
	}
}

// TestResourcesByARN: a check may name a resource in the snapshot by its ARN alone, and the engine
// completes it as lib.resource would; an ARN that is not in the snapshot makes the check ERROR.
func TestResourcesByARN(t *testing.T) {
	rotation := true
	snap := snapshot(bucket("vault", "Enabled"), bucket("vault-standby", "Suspended"))
	snap.KMS.Keys = []checks.Key{{ID: "k1", ARN: "arn:aws:kms:eu-west-1:123456789012:key/k1", Region: "eu-west-1", RotationEnabled: &rotation}}
	snap.CloudTrail.Trails = []checks.Trail{{Name: "main", ARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/main", HomeRegion: "us-east-1"}}
	snap.IAM.Users = []checks.User{{Name: "alice", ARN: "arn:aws:iam::123456789012:user/alice"}}
	snap.IAM.Roles = []checks.Role{{Name: "backup", ARN: "arn:aws:iam::123456789012:role/backup"}}
	cfg := checks.DefaultConfig()
	cfg.Buckets.Primary = []string{"vault"}
	cfg.Buckets.Standby = []string{"vault-standby"}

	tests := []struct {
		name, resources string
		want            []checks.Resource
		wantError       string
	}{
		{"buckets", "resources contains b.arn if some b in input.s3.buckets", []checks.Resource{
			{ARN: "arn:aws:s3:::vault", Type: "AWS::S3::Bucket", Name: "vault", Region: "us-east-1", Role: "primary", AccountID: "123456789012"},
			{ARN: "arn:aws:s3:::vault-standby", Type: "AWS::S3::Bucket", Name: "vault-standby", Region: "us-east-1", Role: "standby", AccountID: "123456789012"},
		}, ""},
		{"key, trail, user and role", `resources := {input.kms.keys[0].arn, input.cloudtrail.trails[0].arn, input.iam.users[0].arn, input.iam.roles[0].arn}`, []checks.Resource{
			{ARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/main", Type: "AWS::CloudTrail::Trail", Name: "main", Region: "us-east-1", AccountID: "123456789012"},
			{ARN: "arn:aws:iam::123456789012:role/backup", Type: "AWS::IAM::Role", Name: "backup", Region: "global", AccountID: "123456789012"},
			{ARN: "arn:aws:iam::123456789012:user/alice", Type: "AWS::IAM::User", Name: "alice", Region: "global", AccountID: "123456789012"},
			{ARN: "arn:aws:kms:eu-west-1:123456789012:key/k1", Type: "AWS::KMS::Key", Name: "k1", Region: "eu-west-1", AccountID: "123456789012"},
			// Denied by ARN while not in resources: still reported.
			{ARN: "arn:aws:s3:::vault-standby", Type: "AWS::S3::Bucket", Name: "vault-standby", Region: "us-east-1", Role: "standby", AccountID: "123456789012"},
		}, ""},
		{"a bucket name is not an ARN", `resources := {"vault"}`, nil, `resource "vault" is not the ARN of a bucket`},
		{"unknown ARN", `resources := {"arn:aws:s3:::elsewhere"}`, nil, `"arn:aws:s3:::elsewhere" is not the ARN`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(versioningRego, "package coffer.test.versioning", "package coffer.test.byarn", 1)
			src = strings.Replace(src, "id: test-versioning", "id: test-byarn", 1)
			src = strings.Replace(src, "resources contains resource.bucket(b) if some b in input.s3.buckets", tc.resources, 1)
			src = strings.Replace(src, `"resource": resource.bucket(b)`, `"resource": b.arn`, 1)
			e := testEngine(t, map[string]string{"test/byarn.rego": src})
			r, err := e.Evaluate(context.Background(), snap, checks.EvalOptions{Config: cfg, Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			var got []checks.Resource
			statuses := map[string]checks.Status{}
			for _, f := range r.Findings {
				if f.CheckID != "test-byarn" {
					continue
				}
				if f.Status == checks.StatusError {
					if tc.wantError == "" || !strings.Contains(f.Message, tc.wantError) {
						t.Fatalf("ERROR %q, want %q", f.Message, tc.wantError)
					}
					return
				}
				got = append(got, f.Resource)
				statuses[f.Resource.Name] = f.Status
			}
			if tc.wantError != "" {
				t.Fatalf("no ERROR finding, want one saying %q", tc.wantError)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("resources (-want +got):\n%s", diff)
			}
			if tc.name == "buckets" && (statuses["vault"] != checks.StatusPass || statuses["vault-standby"] != checks.StatusFail) {
				t.Errorf("statuses = %v, want vault PASS and vault-standby FAIL (deny by ARN)", statuses)
			}
		})
	}
}

// TestRenderNoticesInFindingOrder: notices about commands that could not be rendered come in the
// order of the findings, whatever order evaluation produced them in.
func TestRenderNoticesInFindingOrder(t *testing.T) {
	src := strings.Replace(versioningRego, "package coffer.test.versioning", "package coffer.test.unrenderable", 1)
	src = strings.Replace(src, "id: test-versioning", "id: test-unrenderable", 1)
	src = strings.Replace(src, "--versioning-configuration Status=Enabled", "{{.Vars.missing}}", 1)
	e := testEngine(t, map[string]string{"test/unrenderable.rego": src})
	var buckets []checks.Bucket
	for i := range 40 {
		buckets = append(buckets, bucket(fmt.Sprintf("b%02d", 39-i), "Suspended"))
	}
	r, err := e.Evaluate(context.Background(), snapshot(buckets...), checks.EvalOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, n := range r.Notices {
		if strings.HasPrefix(n, "test-unrenderable on ") {
			arns = append(arns, strings.Fields(n)[2])
		}
	}
	if len(arns) != 40 || !slices.IsSorted(arns) {
		t.Errorf("notices for %d findings, in order %v; want 40, sorted by ARN", len(arns), arns)
	}
}

// TestMalformedCheckOutputIsError: a check whose resources, deny entries or notes are not what the
// contract says is ERROR with the reason, never a silent PASS, and the other checks still run.
func TestMalformedCheckOutputIsError(t *testing.T) {
	tests := []struct{ name, resources, deny, want string }{
		{"resources not a set", `resources := ["arn:aws:s3:::b1"]`, `deny := set()`, "resources is array, want a set"},
		{"resource without arn", `resources := {{"name": "b1"}}`, `deny := set()`, "has no arn"},
		{"resource neither object nor ARN", `resources := {7}`, `deny := set()`, "neither an object nor an ARN"},
		{"deny entry not an object", `resources := set()`, `deny := {"b1 is bad"}`, "is not an object"},
		{"deny entry without resource", `resources := set()`, `deny := {{"msg": "bad"}}`, "has no resource"},
		{"notes not a set", `resources := set()`, "deny := set()\n\nnotes := [1]", "malformed notes: notes is array, want a set"},
		{"note entry without resource", `resources := set()`, "deny := set()\n\nnotes := {{\"msg\": \"fine\"}}", "malformed notes: notes entry"},
		{"note not_applicable not a boolean", `resources := {"arn:aws:s3:::b1"}`, "deny := set()\n\nnotes := {{\"resource\": \"arn:aws:s3:::b1\", \"msg\": \"n/a\", \"not_applicable\": \"yes\"}}", "not_applicable is string, want a boolean"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(versioningRego, "package coffer.test.versioning", "package coffer.test.malformed", 1)
			src = strings.Replace(src, "id: test-versioning", "id: test-malformed", 1)
			src = src[:strings.Index(src, "resources contains")] + tc.resources + "\n\n" + tc.deny + "\n"
			e := testEngine(t, map[string]string{"test/malformed.rego": src})
			r, err := e.Evaluate(context.Background(), snapshot(bucket("b1", "Suspended")), checks.EvalOptions{Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, f := range r.Findings {
				got[f.CheckID] = string(f.Status) + " " + f.Message
			}
			if m := got["test-malformed"]; !strings.HasPrefix(m, "ERROR ") || !strings.Contains(m, tc.want) {
				t.Errorf("test-malformed: %q, want ERROR saying %q", m, tc.want)
			}
			if !strings.HasPrefix(got["test-versioning"], "FAIL ") {
				t.Errorf("the other checks must still run: test-versioning %q", got["test-versioning"])
			}
		})
	}
}
