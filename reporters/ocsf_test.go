package reporters

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/fixtures/ocsf"
)

// TestOCSFGoldenIsValid constructs every event of the OCSF golden file as py-ocsf-models'
// ComplianceFinding (and its cloud attribute as its Cloud).
func TestOCSFGoldenIsValid(t *testing.T) {
	ocsf.Validate(t, filepath.Join("testdata", "report.ocsf.json.golden"))
}

// TestOCSFValidatorRejects: the validation fails on events that are not right, so that passing it
// means something.
func TestOCSFValidatorRejects(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "report.ocsf.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(ev map[string]any)
		want   string
	}{
		{"severity_id out of range", func(ev map[string]any) { ev["severity_id"] = 7 }, "severity_id"},
		{"no finding_info uid", func(ev map[string]any) { delete(ev["finding_info"].(map[string]any), "uid") }, "uid"},
		{"unknown attribute", func(ev map[string]any) { ev["clouds"] = ev["cloud"] }, "clouds"},
		{"compliance status caption", func(ev map[string]any) { ev["compliance"].(map[string]any)["status"] = "Passed" }, "caption"},
		{"cloud without provider", func(ev map[string]any) { delete(ev["cloud"].(map[string]any), "provider") }, "cloud"},
		{"not a create", func(ev map[string]any) { ev["type_uid"] = 200302 }, "type_uid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var events []map[string]any
			if err := json.Unmarshal(golden, &events); err != nil {
				t.Fatal(err)
			}
			tc.mutate(events[3])
			data, _ := json.Marshal(events)
			path := filepath.Join(t.TempDir(), "bad.ocsf.json")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			err := ocsf.Check(t, path)
			if err == nil || !strings.Contains(err.Error(), "event 3") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("validation error %v, want one about event 3 naming %q", err, tc.want)
			}
		})
	}
}

// TestOCSFMapping checks the fields that carry a finding's verdict, per status.
func TestOCSFMapping(t *testing.T) {
	var events []struct {
		Severity, Status string
		StatusDetail     string               `json:"status_detail"`
		SeverityID       int                  `json:"severity_id"`
		StatusID         int                  `json:"status_id"`
		FindingInfo      struct{ UID string } `json:"finding_info"`
		Compliance       struct {
			Control, Status string
			StatusID        int `json:"status_id"`
			Requirements    []string
		}
		Resources []struct{ UID, Region string }
		Unmapped  struct{ Coffer struct{ Status string } }
	}
	if err := json.Unmarshal(render(t, FormatOCSF, Options{Region: "eu-west-1"}, goldenReport()), &events); err != nil {
		t.Fatal(err)
	}
	asff, err := ASFFFindings(goldenReport(), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != len(asff) {
		t.Fatalf("%d events for %d findings", len(events), len(asff))
	}
	type verdict struct{ Status, Compliance string }
	want := map[string]verdict{
		"PASS": {"Resolved", "Pass"}, "FAIL": {"New", "Fail"}, "ERROR": {"New", "Warning"}, "WAIVED": {"Suppressed", "Fail"},
	}
	for i, ev := range events {
		w := want[ev.Unmapped.Coffer.Status]
		if got := (verdict{ev.Status, ev.Compliance.Status}); got != w {
			t.Errorf("%s %s: %+v, want %+v", ev.Compliance.Control, ev.Unmapped.Coffer.Status, got, w)
		}
		// The same finding has the same id in both formats (sorted alike).
		if ev.FindingInfo.UID != *asff[i].Id {
			t.Errorf("event %d: uid %s, ASFF Id %s", i, ev.FindingInfo.UID, *asff[i].Id)
		}
		if ev.Resources[0].Region == "" {
			t.Errorf("%s on %s: no region", ev.Compliance.Control, ev.Resources[0].UID)
		}
		if ev.Unmapped.Coffer.Status == "WAIVED" && !strings.Contains(ev.StatusDetail, "Legacy uploader") {
			t.Errorf("waived event's status_detail %q lacks the reason", ev.StatusDetail)
		}
	}
	if diff := cmp.Diff([]string{"CIS AWS Foundations Benchmark v3.0.0/3.1", "AWS Foundational Security Best Practices v1.0.0/CloudTrail.1",
		"Personal File Backup with AWS S3 Bucket workshop/6.4"}, events[0].Compliance.Requirements); diff != "" {
		t.Errorf("requirements of %s (-want +got):\n%s", events[0].Compliance.Control, diff)
	}
}
