package checks

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func TestApplyBaseline(t *testing.T) {
	const ver, tls = "s3-bucket-versioning", "s3-bucket-tls-only"
	base := reportOf("123456789012",
		diffFinding(ver, "known", SeverityHigh, StatusFail),
		diffFinding(ver, "was-waived", SeverityHigh, StatusWaived),
		diffFinding(tls, "known", SeverityMedium, StatusFail),
		diffFinding(ver, "fixed", SeverityHigh, StatusFail),
	)
	cur := reportOf("123456789012",
		diffFinding(ver, "known", SeverityHigh, StatusFail),                  // in the baseline: does not fail the gate
		diffFinding(ver, "was-waived", SeverityHigh, StatusFail),             // waiver expired: new to the gate
		diffFinding(tls, "known", SeverityMedium, StatusWaived),              // waived now: stays waived
		diffFinding(ver, "new", SeverityHigh, StatusFail),                    // new drift
		diffFinding("s3-bucket-kms-cmk", "known", SeverityHigh, StatusError), // ERROR is never baselined
	)
	if n := cur.ApplyBaseline(base); n != 1 {
		t.Errorf("ApplyBaseline marked %d findings, want 1", n)
	}
	if !cur.Baselined {
		t.Error("a report compared with a baseline is not Baselined (SARIF would omit baselineState)")
	}
	var marked []string
	for _, f := range cur.Findings {
		if f.InBaseline {
			marked = append(marked, f.CheckID+" "+f.Resource.Name+" "+string(f.Status))
		}
	}
	if diff := cmp.Diff([]string{ver + " known FAIL"}, marked); diff != "" {
		t.Errorf("marked (-want +got):\n%s", diff)
	}
	if got := cur.ExitCode(SeverityLow); got != 1 {
		t.Errorf("exit %d with new failures, want 1", got)
	}

	// Only baseline failures left: the gate passes; ERROR still gives 3.
	onlyKnown := reportOf("123456789012", diffFinding(ver, "known", SeverityHigh, StatusFail), diffFinding(tls, "known", SeverityMedium, StatusFail))
	onlyKnown.ApplyBaseline(base)
	if got := onlyKnown.ExitCode(SeverityLow); got != 0 {
		t.Errorf("exit %d with only baseline failures, want 0", got)
	}
	onlyKnown.Findings = append(onlyKnown.Findings, diffFinding("s3-bucket-kms-cmk", "known", SeverityHigh, StatusError))
	if got := onlyKnown.ExitCode(SeverityLow); got != 3 {
		t.Errorf("exit %d with a baseline failure and an error, want 3", got)
	}
	// Re-applying another baseline recomputes the marks, it does not accumulate them.
	onlyKnown.ApplyBaseline(reportOf("123456789012"))
	if got := onlyKnown.ExitCode(SeverityLow); got != 1 {
		t.Errorf("exit %d after an empty baseline, want 1", got)
	}
	if n := onlyKnown.ApplyBaseline(nil); n != 0 {
		t.Errorf("nil baseline marked %d", n)
	}
	if fresh := reportOf("123456789012"); fresh.ApplyBaseline(nil) != 0 || fresh.Baselined {
		t.Error("no baseline made a report Baselined")
	}
}

// TestInBaselineMatchesSchema: the JSON report with in_baseline stays within docs/report.schema.json,
// and the schema allows it only on a FAIL.
func TestInBaselineMatchesSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(filepath.Join("..", "docs", "report.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := diffFinding("s3-bucket-versioning", "a", SeverityHigh, StatusFail)
	f.Frameworks = map[string][]string{}
	f.Remediation = Remediation{Commands: []string{}, Fix: FixAuto}
	f.InBaseline = true
	r := reportOf("123456789012", f)
	r.Tool = Tool{Name: "coffer", Version: "test"}
	r.Summarize()
	validate := func(r *Report) error {
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return sch.Validate(inst)
	}
	if err := validate(r); err != nil {
		t.Errorf("a report with in_baseline does not match the schema: %v", err)
	}
	r.Findings[0].Status = StatusPass
	if err := validate(r); err == nil {
		t.Error("the schema accepts in_baseline on a PASS")
	}
}
