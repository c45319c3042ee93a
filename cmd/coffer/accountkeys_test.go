package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportsWithoutAccountIDsStillMatch: a report written before resources carried account_id
// (the baseline a team adopted coffer with, last night's report) still matches today's report
// finding for finding in `scan --baseline` and `coffer diff`, through its top-level account_id.
func TestReportsWithoutAccountIDsStillMatch(t *testing.T) {
	dir := t.TempDir()
	current := filepath.Join(dir, "current.json")
	if r := runCLI(t, "scan", "--snapshot", "../../fixtures/drifted.json", "--format", "json="+current); r.code == exitUsage {
		t.Fatalf("scan: %s", r.stderr)
	}
	data, err := os.ReadFile(current)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	fails := 0
	for _, f := range doc["findings"].([]any) {
		f := f.(map[string]any)
		delete(f["resource"].(map[string]any), "account_id")
		if f["status"] == "FAIL" {
			fails++
		}
	}
	if fails == 0 {
		t.Fatal("the drifted sample has no FAIL finding: the test would prove nothing")
	}
	old, _ := json.Marshal(doc)
	if n := strings.Count(string(old), `"account_id"`); n != 1 {
		t.Fatalf("the old report has account_id %d times, want once (top level)", n)
	}
	oldFile := filepath.Join(dir, "old.json")
	if err := os.WriteFile(oldFile, old, 0o600); err != nil {
		t.Fatal(err)
	}

	r := runCLI(t, "diff", "--format", "json", oldFile, current)
	if r.code != exitOK {
		t.Fatalf("diff of the same scan, once without account ids: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	var d struct {
		Summary struct{ New, Resolved, Changed, Unchanged int }
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatal(err)
	}
	if d.Summary.New+d.Summary.Resolved+d.Summary.Changed != 0 || d.Summary.Unchanged == 0 {
		t.Errorf("diff summary %+v: want every finding unchanged", d.Summary)
	}

	baselined := filepath.Join(dir, "baselined.json")
	if r := runCLI(t, "scan", "--snapshot", "../../fixtures/drifted.json", "--baseline", oldFile, "--format", "json="+baselined); r.code == exitUsage || r.code == exitFindings {
		t.Fatalf("scan --baseline with the same findings: exit %d (a FAIL was not matched)\n%s", r.code, r.stderr)
	}
	data, err = os.ReadFile(baselined)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Findings []struct {
			Status     string `json:"status"`
			InBaseline bool   `json:"in_baseline"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, f := range rep.Findings {
		if f.InBaseline {
			marked++
		}
	}
	if marked != fails {
		t.Errorf("%d of %d FAIL findings matched the baseline without account ids", marked, fails)
	}
}
