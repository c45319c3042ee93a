package checks

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseReport(t *testing.T) {
	r := reportOf("123456789012", diffFinding("s3-bucket-versioning", "a", SeverityHigh, StatusFail))
	r.Findings[0].InBaseline = true
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseReport("base.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Findings) != 1 || got.Findings[0].Key() != r.Findings[0].Key() || !got.Findings[0].InBaseline {
		t.Errorf("round trip: %+v", got.Findings)
	}

	tests := []struct{ name, data, want string }{
		{"not json", "{\n  \"findings\": [}\n", "base.json:2:"},
		{"snapshot", `{"schema_version":"1","collected_at":"2026-01-01T00:00:00Z"}`, "base.json: not a coffer JSON report"},
		{"schema", `{"schema_version":"2","findings":[]}`, `schema_version "2" is not supported`},
		{"no arn", `{"schema_version":"1","findings":[{"check_id":"x","status":"FAIL","severity":"LOW","resource":{}}]}`, "findings[0] has no check_id or resource.arn"},
		{"bad status", `{"schema_version":"1","findings":[{"check_id":"x","status":"BROKEN","severity":"LOW","resource":{"arn":"arn:aws:s3:::b"}}]}`, `unknown status "BROKEN"`},
		{"bad severity", `{"schema_version":"1","findings":[{"check_id":"x","status":"FAIL","severity":"URGENT","resource":{"arn":"arn:aws:s3:::b"}}]}`, "base.json"},
		{"trailing", `{"schema_version":"1","findings":[]} {}`, "base.json:1:"},
	}
	for _, tc := range tests {
		_, err := ParseReport("base.json", []byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := LoadReport(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}
