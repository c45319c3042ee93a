package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/reporters"
)

// TestSARIFSplitFilesAreWritten: scan writes every file reporters.OutputFiles names for a SARIF
// log beyond what GitHub shows, not the unsplit one, and says so on stderr. (The naming and the
// categories are reporters' and tested there.)
func TestSARIFSplitFilesAreWritten(t *testing.T) {
	report := &checks.Report{SchemaVersion: "1", Tool: checks.Tool{Name: "coffer", Version: "test"}, AccountID: "123456789012",
		Rules: []checks.Rule{{ID: "s3-bucket-versioning", Title: "t", Description: "d", Severity: checks.SeverityHigh, Service: "s3", Remediation: checks.RuleRemediation{Summary: "s", Fix: checks.FixAuto}}}}
	for i := range reporters.SARIFResultsPerFile + 1 {
		name := fmt.Sprintf("b-%05d", i)
		report.Findings = append(report.Findings, checks.Finding{CheckID: "s3-bucket-versioning", Title: "t", Severity: checks.SeverityHigh, Status: checks.StatusFail,
			Resource: checks.Resource{ARN: "arn:aws:s3:::" + name, Type: "AWS::S3::Bucket", Name: name, Region: "us-east-1"}, Message: "m",
			Remediation: checks.Remediation{Summary: "s", Commands: []string{"aws s3api put-bucket-versioning --bucket " + name}, Fix: checks.FixAuto}})
	}
	dir := t.TempDir()
	var stderr bytes.Buffer
	a := &app{stdout: &bytes.Buffer{}, stderr: &stderr}
	if err := a.writeReports(report, []output{{format: "sarif", file: filepath.Join(dir, "coffer.sarif")}}, reporters.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"coffer.part-1.sarif", "coffer.part-2.sarif"} {
		if fi, err := os.Stat(filepath.Join(dir, part)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v (stderr %s)", part, err, stderr.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "coffer.sarif")); !os.IsNotExist(err) {
		t.Error("the unsplit file should not be written")
	}
	if !strings.Contains(stderr.String(), "SARIF split into") {
		t.Errorf("stderr does not say the log was split: %q", stderr.String())
	}
}

// TestScanOrganisationSnapshotSplitsSARIF: the SARIF file of an organisation, written account by
// account, is split as a whole report's is: beyond the runs GitHub takes per upload, into
// NAME.part-N.sarif files of at most 20 runs, an account's runs in one file, no NAME.sarif, and a
// notice naming the files; an organisation that fits is NAME.sarif alone, without a notice. When
// a report written after the scan fails, no SARIF file is left. On stdout the log stays one,
// with a notice that GitHub will not take it.
func TestScanOrganisationSnapshotSplitsSARIF(t *testing.T) {
	orgOf := func(n int) string {
		var accounts []checks.OrgAccount
		for i := range n {
			accounts = append(accounts, fixtureAccount(t, "drifted.json", fmt.Sprintf("%012d", 100000000001+i), fmt.Sprintf("member-%d", i)))
		}
		accounts = append(accounts, checks.OrgAccount{ID: "999999999999", Name: "old", Status: checks.AccountSkipped, Error: "SUSPENDED"})
		return writeOrgSnapshot(t, accounts...)
	}
	tests := []struct {
		name       string
		accounts   int
		failLater  bool // a markdown report to a folder's path fails after the scan
		stdout     bool // SARIF to stdout instead of DIR/x.sarif
		wantCode   int
		wantFiles  []string
		wantNotice string // in stderr; "" = no split notice
	}{
		{name: "beyond 20 runs", accounts: 25, wantCode: exitFindings,
			wantFiles: []string{"x.part-1.sarif", "x.part-2.sarif"}, wantNotice: "SARIF split into DIR/x.part-1..2.sarif"},
		{name: "fits", accounts: 3, wantCode: exitFindings, wantFiles: []string{"x.sarif"}},
		{name: "a later report fails", accounts: 25, failLater: true, wantCode: exitUsage, wantFiles: []string{"md"}},
		{name: "stdout", accounts: 25, stdout: true, wantCode: exitFindings},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := orgOf(tc.accounts)
			dir := t.TempDir()
			args := []string{"scan", "--snapshot", snap, "--format", "sarif=" + filepath.Join(dir, "x.sarif")}
			if tc.stdout {
				args[len(args)-1] = "sarif"
			}
			if tc.failLater {
				if err := os.Mkdir(filepath.Join(dir, "md"), 0o755); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--format", "markdown="+filepath.Join(dir, "md"))
			}
			r := runCLI(t, args...)
			if r.code != tc.wantCode {
				t.Fatalf("exit %d, want %d: %s", r.code, tc.wantCode, r.stderr)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if !slices.Equal(names, tc.wantFiles) {
				t.Fatalf("%s holds %v, want %v (stderr %s)", dir, names, tc.wantFiles, r.stderr)
			}
			if want := strings.ReplaceAll(tc.wantNotice, "DIR", dir); (want != "") != strings.Contains(r.stderr, "SARIF split into") || !strings.Contains(r.stderr, want) {
				t.Errorf("stderr %q, want the notice %q", r.stderr, want)
			}
			if strings.Contains(r.stderr, "scan in shards") != tc.stdout {
				t.Errorf("stderr %q: want the notice to scan in shards only for stdout", r.stderr)
			}
			if tc.failLater {
				return
			}
			logs := map[string][]byte{}
			for _, name := range names {
				data, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				logs[name] = data
			}
			if tc.stdout {
				logs["stdout"] = []byte(r.stdout)
			}
			fileOf := map[string]string{} // account → file
			for name, data := range logs {
				var log struct {
					Runs []struct {
						AutomationDetails struct {
							ID string `json:"id"`
						} `json:"automationDetails"`
					} `json:"runs"`
				}
				if err := json.Unmarshal(data, &log); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if len(log.Runs) > reporters.MaxSARIFRuns && !tc.stdout {
					t.Errorf("%s has %d runs; GitHub takes %d", name, len(log.Runs), reporters.MaxSARIFRuns)
				}
				for _, run := range log.Runs {
					acct := strings.Split(run.AutomationDetails.ID, "/")[1]
					if other, ok := fileOf[acct]; ok && other != name {
						t.Errorf("account %s has runs in %s and %s", acct, other, name)
					}
					fileOf[acct] = name
				}
			}
			// Every member and the organisation run (the suspended account).
			if len(fileOf) != tc.accounts+1 || fileOf["organisation"] == "" {
				t.Errorf("runs of %d accounts, want %d and the organisation: %v", len(fileOf), tc.accounts, fileOf)
			}
		})
	}
}
