package reporters

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/coffer-audit/coffer/checks"
)

func compileReportSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(filepath.Join("..", "docs", "report.schema.json"))
	if err != nil {
		t.Fatalf("compile docs/report.schema.json: %v", err)
	}
	return sch
}

func TestJSONMatchesSchema(t *testing.T) {
	sch := compileReportSchema(t)
	reports := map[string]*checks.Report{
		"golden": goldenReport(),
		"empty":  {SchemaVersion: checks.ReportSchemaVersion, Tool: checks.Tool{Name: "coffer", Version: "dev"}, AccountID: fixtureAccount},
		// Nil lists and maps from the engine still give the contract's empty arrays and objects.
		"nil lists": {SchemaVersion: checks.ReportSchemaVersion, Tool: checks.Tool{Name: "coffer", Version: "dev"}, AccountID: fixtureAccount,
			Findings: []checks.Finding{{CheckID: "s3-bucket-versioning", Title: "t", Severity: checks.SeverityHigh, Status: checks.StatusPass,
				Resource:    checks.Resource{ARN: "arn:aws:s3:::b", Type: "AWS::S3::Bucket", Name: "b", Region: "us-east-1"},
				Frameworks:  map[string][]string{checks.FrameworkCIS: nil},
				Remediation: checks.Remediation{Fix: checks.FixAuto}}}},
		"organisation": orgReport(),
	}
	for name, r := range reports {
		t.Run(name, func(t *testing.T) {
			outs := map[string][]byte{"whole": render(t, FormatJSON, Options{}, r)}
			if len(r.Accounts) > 0 {
				reports, accounts := orgReports()
				outs["streamed"] = stream(t, FormatJSON, Options{}, reports, accounts)
			}
			for how, out := range outs {
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
				if err != nil {
					t.Fatal(err)
				}
				if err := sch.Validate(inst); err != nil {
					t.Errorf("JSON report (%s) does not match docs/report.schema.json:\n%v", how, err)
				}
			}
		})
	}
}

// TestSchemaIsStrict checks that the schema rejects what the contract does not allow, so the
// positive test above means something.
func TestSchemaIsStrict(t *testing.T) {
	sch := compileReportSchema(t)
	tests := []struct {
		name   string
		mutate func(doc map[string]any)
	}{
		{"unknown status", func(d map[string]any) { finding(d, 0)["status"] = "SKIPPED" }},
		{"unknown severity", func(d map[string]any) { finding(d, 0)["severity"] = "INFO" }},
		{"unknown fix", func(d map[string]any) { finding(d, 0)["remediation"].(map[string]any)["fix"] = "maybe" }},
		{"missing check_id", func(d map[string]any) { delete(finding(d, 0), "check_id") }},
		{"extra finding field", func(d map[string]any) { finding(d, 0)["vars"] = map[string]any{} }},
		{"extra top-level field", func(d map[string]any) { d["rules"] = []any{} }},
		{"missing summary", func(d map[string]any) { delete(d, "summary") }},
		{"bad by_severity key", func(d map[string]any) {
			d["summary"].(map[string]any)["by_severity"] = map[string]any{"SEVERE": 1}
		}},
		{"negative count", func(d map[string]any) { d["summary"].(map[string]any)["fail"] = -1 }},
		{"schema version", func(d map[string]any) { d["schema_version"] = "2" }},
		{"bad time", func(d map[string]any) { d["started_at"] = "yesterday" }},
		{"waived without waiver", func(d map[string]any) {
			for _, f := range d["findings"].([]any) {
				if f := f.(map[string]any); f["status"] == "WAIVED" {
					f["waiver"] = nil
				}
			}
		}},
		{"null commands", func(d map[string]any) { finding(d, 0)["remediation"].(map[string]any)["commands"] = nil }},
		{"bad resource account", func(d map[string]any) { finding(d, 0)["resource"].(map[string]any)["account_id"] = "prod" }},
		{"unknown account status", func(d map[string]any) {
			d["accounts"] = []any{map[string]any{"id": "111111111111", "status": "partial"}}
		}},
		{"account without id", func(d map[string]any) { d["accounts"] = []any{map[string]any{"status": "scanned"}} }},
		{"extra account field", func(d map[string]any) {
			d["accounts"] = []any{map[string]any{"id": "111111111111", "status": "scanned", "findings": []any{}}}
		}},
	}
	golden := render(t, FormatJSON, Options{}, goldenReport())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(golden, &doc); err != nil {
				t.Fatal(err)
			}
			tc.mutate(doc)
			b, _ := json.Marshal(doc)
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err == nil {
				t.Errorf("schema accepts a report with %s", tc.name)
			}
		})
	}
}

func finding(doc map[string]any, i int) map[string]any {
	return doc["findings"].([]any)[i].(map[string]any)
}

func TestJSONContract(t *testing.T) {
	out := render(t, FormatJSON, Options{}, goldenReport())
	if !bytes.HasSuffix(out, []byte("}\n")) || bytes.HasSuffix(out, []byte("\n\n")) {
		t.Error("JSON report must end with exactly one newline")
	}
	if !bytes.HasPrefix(out, []byte("{\n  \"schema_version\": \"1\",\n  \"tool\": {")) {
		t.Errorf("JSON report does not start with schema_version, indented by two spaces:\n%.80s", out)
	}
	doc := decodeJSON(t, out)
	var keys [][2]string
	for _, f := range doc["findings"].([]any) {
		f := f.(map[string]any)
		keys = append(keys, [2]string{f["check_id"].(string), f["resource"].(map[string]any)["arn"].(string)})
	}
	for i := 1; i < len(keys); i++ {
		if c := strings.Compare(keys[i-1][0], keys[i][0]); c > 0 || c == 0 && keys[i-1][1] > keys[i][1] {
			t.Errorf("findings not sorted by (check_id, arn): %q before %q", keys[i-1], keys[i])
		}
	}
	if got := len(keys); got != 13 {
		t.Errorf("%d findings, want all 13 (every status)", got)
	}
}
