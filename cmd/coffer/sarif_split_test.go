package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/reporters"
)

func TestSARIFSplitsBeyondWhatGitHubShows(t *testing.T) {
	report := &checks.Report{SchemaVersion: "1", Tool: checks.Tool{Name: "coffer", Version: "test"}, AccountID: "123456789012",
		Rules: []checks.Rule{{ID: "s3-bucket-versioning", Title: "t", Description: "d", Severity: checks.SeverityHigh, Service: "s3", Remediation: checks.RuleRemediation{Summary: "s", Fix: checks.FixAuto}}}}
	for i := range sarifResultsPerFile + 1 {
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
	total := 0
	categories := map[string]bool{}
	for _, part := range []string{"coffer.part-1.sarif", "coffer.part-2.sarif"} {
		data, err := os.ReadFile(filepath.Join(dir, part))
		if err != nil {
			t.Fatalf("%s: %v (stderr %s)", part, err, stderr.String())
		}
		var log struct {
			Runs []struct {
				Results           []json.RawMessage   `json:"results"`
				AutomationDetails struct{ ID string } `json:"automationDetails"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(data, &log); err != nil {
			t.Fatal(err)
		}
		total += len(log.Runs[0].Results)
		if len(log.Runs[0].Results) > sarifResultsPerFile {
			t.Errorf("%s has %d results", part, len(log.Runs[0].Results))
		}
		categories[log.Runs[0].AutomationDetails.ID] = true
	}
	if total != sarifResultsPerFile+1 || len(categories) != 2 {
		t.Errorf("results %d in %d categories, want %d in 2", total, len(categories), sarifResultsPerFile+1)
	}
	if _, err := os.Stat(filepath.Join(dir, "coffer.sarif")); !os.IsNotExist(err) {
		t.Error("the unsplit file should not be written")
	}
}
