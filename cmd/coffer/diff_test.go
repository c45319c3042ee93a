package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// nightlySnapshots writes last night's and tonight's snapshot of one account as old.json and
// new.json in the current directory (tests chdir into a temp dir, so the file names in the output
// are stable). Between the two: versioning was fixed on vault (resolved), its archive rule moved
// from 14 to 30 days (new failure), its encryption became unreadable (PASS → ERROR), and a bucket
// vault-scratch appeared with nothing configured (new failures).
func nightlySnapshots(t *testing.T) {
	t.Helper()
	days := int32(7)
	archive := func(after int32) []checks.LifecycleRule {
		return []checks.LifecycleRule{{ID: "MoveToGlacierAfter14Days", Status: "Enabled",
			Transitions:          []checks.Transition{{Days: after, StorageClass: "GLACIER"}},
			NoncurrentExpiration: &checks.NoncurrentExpiration{NoncurrentDays: 90}, AbortIncompleteMultipartUploadDays: &days}}
	}
	old := writeSnapshot(t, func(s *checks.Snapshot) {
		s.S3.Buckets[0].Lifecycle.Rules = archive(14)
	})
	cur := writeSnapshot(t, func(s *checks.Snapshot) {
		s.CollectedAt = s.CollectedAt.Add(24 * time.Hour)
		b := &s.S3.Buckets[0]
		b.Versioning.Status = "Enabled"
		b.Lifecycle.Rules = archive(30)
		b.Encryption = nil
		s.Errors = append(s.Errors, checks.CollectError{Service: "s3", Operation: "GetBucketEncryption", Resource: b.ARN, Region: "us-east-1", Code: "AccessDenied", Message: "denied"})
		scratch := *b
		scratch.Name, scratch.ARN = "vault-scratch", "arn:aws:s3:::vault-scratch"
		scratch.Versioning = &checks.Versioning{Status: ""}
		scratch.Encryption = &checks.Encryption{Rules: []checks.EncryptionRule{}}
		scratch.Lifecycle = &checks.Lifecycle{Rules: []checks.LifecycleRule{}}
		s.S3.Buckets = append(s.S3.Buckets, scratch)
	})
	for from, to := range map[string]string{old: "old.json", cur: "new.json"} {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDiffGolden(t *testing.T) {
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	nightlySnapshots(t)
	for _, tc := range []struct{ format, golden string }{
		{"table", "diff.table.golden"},
		{"json", "diff.json.golden"},
		{"markdown", "diff.md.golden"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			r := runCLI(t, "diff", "old.json", "new.json", "--format", tc.format)
			if r.code != exitFindings {
				t.Fatalf("exit %d, want 1 (new failures); stderr %s", r.code, r.stderr)
			}
			path := filepath.Join(testdata, tc.golden)
			if *update {
				if err := os.MkdirAll(testdata, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(r.stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/coffer -run TestDiffGolden -update)", err)
			}
			if diff := cmp.Diff(string(want), r.stdout); diff != "" {
				t.Errorf("%s differs (-want +got); go test ./cmd/coffer -run TestDiffGolden -update if intended:\n%s", tc.golden, diff)
			}
		})
	}
}

// TestDiffCases checks each kind of change through the CLI, from snapshots and from reports.
func TestDiffCases(t *testing.T) {
	t.Chdir(t.TempDir())
	nightlySnapshots(t)
	r := runCLI(t, "diff", "old.json", "new.json", "--format", "json")
	if r.code != exitFindings {
		t.Fatalf("exit %d stderr %s", r.code, r.stderr)
	}
	var d checks.Diff
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatal(err)
	}
	has := func(list []checks.FindingChange, check, name string, before, after checks.Status) bool {
		for _, fc := range list {
			if fc.CheckID == check && fc.Resource.Name == name && fc.Before == before && fc.After == after {
				return true
			}
		}
		return false
	}
	for _, c := range []struct {
		what          string
		list          []checks.FindingChange
		check, name   string
		before, after checks.Status
	}{
		{"added (new resource)", d.NewFailures, "s3-bucket-versioning", "vault-scratch", "", checks.StatusFail},
		{"added (drift)", d.NewFailures, "s3-bucket-lifecycle-archive", "vault", checks.StatusPass, checks.StatusFail},
		{"resolved", d.Resolved, "s3-bucket-versioning", "vault", checks.StatusFail, checks.StatusPass},
		{"changed", d.Changed, "s3-bucket-default-encryption", "vault", checks.StatusPass, checks.StatusError},
	} {
		if !has(c.list, c.check, c.name, c.before, c.after) {
			t.Errorf("%s: %s on %s %q → %q not listed", c.what, c.check, c.name, c.before, c.after)
		}
	}
	if d.Summary.Unchanged == 0 {
		t.Error("nothing unchanged")
	}
	var config []string
	for _, c := range d.Config {
		config = append(config, c.String())
	}
	for _, want := range []string{
		"bucket vault: lifecycle rule MoveToGlacierAfter14Days transition days 14 → 30",
		"bucket vault: versioning status Suspended → Enabled",
		"bucket vault: encryption read → unreadable",
		"bucket vault-scratch added (us-east-1)",
	} {
		if !strings.Contains(strings.Join(config, "\n"), want) {
			t.Errorf("configuration changes lack %q:\n%s", want, strings.Join(config, "\n"))
		}
	}

	// Removed: the reverse direction resolves what was new, and says the bucket went away.
	r = runCLI(t, "diff", "new.json", "old.json", "--format", "json")
	var back checks.Diff
	if err := json.Unmarshal([]byte(r.stdout), &back); err != nil {
		t.Fatal(err)
	}
	if !has(back.Resolved, "s3-bucket-versioning", "vault-scratch", checks.StatusFail, "") {
		t.Error("reverse diff: the removed bucket's failure is not resolved")
	}
	if r.code != exitFindings || !has(back.NewFailures, "s3-bucket-versioning", "vault", checks.StatusPass, checks.StatusFail) {
		t.Errorf("reverse diff: exit %d, new failures %v", r.code, back.NewFailures)
	}

	// Unchanged: a snapshot against itself.
	r = runCLI(t, "diff", "new.json", "new.json")
	if r.code != exitOK || !strings.Contains(r.stdout, "0 new failures, 0 resolved, 0 changed") || !strings.Contains(r.stdout, "0 configuration changes") {
		t.Errorf("same snapshot: exit %d\n%s", r.code, r.stdout)
	}

	// --fail-on: the new failures are at most HIGH.
	r = runCLI(t, "diff", "old.json", "new.json", "--fail-on", "CRITICAL", "--format", "json")
	if r.code != exitOK {
		t.Errorf("--fail-on CRITICAL: exit %d, want 0", r.code)
	}

	// Reports: scan each snapshot to JSON, diff the reports; same findings diff, no config diff.
	for _, name := range []string{"old", "new"} {
		out := name + ".report.json"
		if r := runCLI(t, "scan", "--snapshot", name+".json", "--format", "json="+out); r.code == exitUsage {
			t.Fatalf("scan %s: %s", name, r.stderr)
		}
	}
	r = runCLI(t, "diff", "old.report.json", "new.report.json", "--format", "json")
	var fromReports checks.Diff
	if err := json.Unmarshal([]byte(r.stdout), &fromReports); err != nil {
		t.Fatalf("%v: %s", err, r.stderr)
	}
	if r.code != exitFindings || fromReports.Old.Kind != checks.InputReport || len(fromReports.Config) != 0 {
		t.Errorf("reports: exit %d, kind %s, %d config changes", r.code, fromReports.Old.Kind, len(fromReports.Config))
	}
	if diff := cmp.Diff(d.NewFailures, fromReports.NewFailures); diff != "" {
		t.Errorf("reports and snapshots give different new failures (-snapshots +reports):\n%s", diff)
	}
	// The table says why there is no configuration diff.
	if r := runCLI(t, "diff", "old.report.json", "new.report.json"); !strings.Contains(r.stdout, "only between two snapshots") {
		t.Errorf("table for reports:\n%s", r.stdout)
	}
	// --output writes the file and nothing on stdout.
	if r := runCLI(t, "diff", "old.json", "new.json", "--format", "markdown", "--output", "diff.md"); r.code != exitFindings || r.stdout != "" {
		t.Errorf("--output: exit %d stdout %q", r.code, r.stdout)
	}
	if data, err := os.ReadFile("diff.md"); err != nil || !strings.HasPrefix(string(data), "## coffer diff") {
		t.Errorf("diff.md: %v %.40q", err, data)
	}
}

func TestDiffRefusesAndBadInput(t *testing.T) {
	t.Chdir(t.TempDir())
	nightlySnapshots(t)
	other := writeSnapshot(t, func(s *checks.Snapshot) { s.Account.ID = "999999999999" })
	if err := os.WriteFile("garbage.json", []byte("{\n  \"findings\": [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("neither.json", []byte(`{"hello": "world"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("badsnap.json", []byte("{\"schema_version\": \"1\", \"s3\": {\"buckets\": 3}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"different accounts", []string{"old.json", other}, "different accounts (123456789012 and 999999999999)"},
		{"missing file", []string{"old.json", "nope.json"}, "read nope.json: no such file"},
		{"truncated", []string{"garbage.json", "new.json"}, "garbage.json: 3:"},
		{"neither", []string{"old.json", "neither.json"}, "neither.json: neither a coffer JSON report"},
		{"bad snapshot", []string{"badsnap.json", "new.json"}, "badsnap.json:1:"},
		{"one argument", []string{"old.json"}, "accepts 2 arg(s)"},
		{"format without a diff", []string{"old.json", "new.json", "--format", "sarif"}, `format "sarif" does not render a diff (formats that do: json, markdown, table)`},
		{"unknown format", []string{"old.json", "new.json", "--format", "xml"}, `unknown format "xml" (known: json, markdown, table)`},
		{"bad fail-on", []string{"old.json", "new.json", "--fail-on", "urgent"}, "--fail-on"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, append([]string{"diff", "--output", "out.txt"}, tc.args...)...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want 2 (stderr %q)", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tc.want)
			}
			if _, err := os.Stat("out.txt"); !os.IsNotExist(err) {
				t.Error("a refused diff wrote its output")
			}
		})
	}
}

// The baseline gate of `coffer scan --baseline` (checks.ApplyBaseline does the matching).
func TestScanBaseline(t *testing.T) {
	t.Chdir(t.TempDir())
	nightlySnapshots(t)
	// Last night's report is the baseline: versioning on vault failed then.
	if r := runCLI(t, "scan", "--snapshot", "old.json", "--format", "json=base.json"); r.code != exitFindings {
		t.Fatalf("baseline scan: exit %d %s", r.code, r.stderr)
	}

	// The same account against its own baseline: everything failing is known, the gate passes.
	r := runCLI(t, "scan", "--snapshot", "old.json", "--format", "json", "--baseline", "base.json")
	if r.code != exitOK {
		t.Errorf("scan against its own baseline: exit %d, want 0 (stderr %s)", r.code, r.stderr)
	}
	var report checks.Report
	if err := json.Unmarshal([]byte(r.stdout), &report); err != nil {
		t.Fatal(err)
	}
	known := 0
	for _, f := range report.Findings {
		if f.Status == checks.StatusFail {
			if !f.InBaseline {
				t.Errorf("%s on %s: FAIL in the baseline but not marked in_baseline", f.CheckID, f.Resource.Name)
			}
			known++
		}
	}
	if known == 0 || report.Summary.Fail != known {
		t.Errorf("baseline failures must stay FAIL in the report: %d marked, summary fail %d", known, report.Summary.Fail)
	}

	// Tonight: new failures (vault-scratch, the 30-day archive rule) fail the gate; the known ones
	// stay marked. The ERROR alone would give 3; a new FAIL gives 1.
	r = runCLI(t, "scan", "--snapshot", "new.json", "--format", "json", "--baseline", "base.json")
	if r.code != exitFindings {
		t.Errorf("new drift against the baseline: exit %d, want 1", r.code)
	}
	report = checks.Report{} // Unmarshal into a used struct would keep stale in_baseline marks
	if err := json.Unmarshal([]byte(r.stdout), &report); err != nil {
		t.Fatal(err)
	}
	for _, f := range report.Findings {
		if f.InBaseline && f.Resource.Name == "vault-scratch" {
			t.Errorf("%s on the new bucket marked as in the baseline", f.CheckID)
		}
	}

	// Waivers compose: a waiver still needs its reason and expiry, and a waived finding stays
	// WAIVED (not in_baseline); with all new failures waived the gate passes... except the ERROR.
	cfg := "waivers:\n"
	for _, f := range report.Findings {
		if f.Status == checks.StatusFail && !f.InBaseline {
			cfg += "  - check: " + f.CheckID + "\n    resource: " + f.Resource.Name + "\n    reason: accepted for the test\n    expires: \"2099-01-01\"\n"
		}
	}
	if err := os.WriteFile("coffer.yaml", []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "scan", "--snapshot", "new.json", "--format", "json", "--baseline", "base.json", "--config", "coffer.yaml")
	if r.code != exitIncomplete {
		t.Errorf("new failures waived, known ones in the baseline, one ERROR: exit %d, want 3 (stderr %s)", r.code, r.stderr)
	}
	report = checks.Report{}
	if err := json.Unmarshal([]byte(r.stdout), &report); err != nil {
		t.Fatal(err)
	}
	for _, f := range report.Findings {
		if f.Status == checks.StatusWaived && f.InBaseline {
			t.Errorf("%s: a WAIVED finding marked in_baseline", f.CheckID)
		}
	}

	// Bad baselines: exit 2 naming the file, nothing written.
	if err := os.WriteFile("broken.json", []byte(`{"schema_version": "1", "findings": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	other := writeSnapshot(t, func(s *checks.Snapshot) { s.Account.ID = "999999999999" })
	if r := runCLI(t, "scan", "--snapshot", other, "--format", "json=other.json"); r.code == exitUsage {
		t.Fatal(r.stderr)
	}
	for _, tc := range []struct{ baseline, want string }{
		{"missing.json", "--baseline missing.json"},
		{"broken.json", "broken.json:1:"},
		{"old.json", "not a coffer JSON report"}, // a snapshot is not a baseline
		{"other.json", "account 999999999999, not 123456789012"},
	} {
		r := runCLI(t, "scan", "--snapshot", "new.json", "--baseline", tc.baseline, "--output", "out.json")
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("--baseline %s: exit %d stderr %q, want 2 and %q", tc.baseline, r.code, r.stderr, tc.want)
		}
		if _, err := os.Stat("out.json"); !os.IsNotExist(err) {
			t.Errorf("--baseline %s: a failed scan wrote its report", tc.baseline)
		}
	}
}
