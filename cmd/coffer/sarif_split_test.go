package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
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
