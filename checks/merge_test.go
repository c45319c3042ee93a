package checks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
)

// TestDetectFile: the kind of an input is decided by the first key only one kind has, reading no
// further (what follows may be gigabytes, or, here, broken); a file that says neither is named.
func TestDetectFile(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       checks.InputKind
		err        string
	}{
		{"report", `{"schema_version": "1", "tool": {"name": "coffer"}, "findings": [`, checks.InputReport, ""},
		{"report without tool", `{"schema_version": "1", "account_id": "1", "regions": ["a", {"b": [1]}], "findings": []}`, checks.InputReport, ""},
		{"snapshot", `{"schema_version": "1", "collector": {}, oops`, checks.InputSnapshot, ""},
		{"organisation snapshot", `{"schema_version": "2", "collected_at": "2026-01-01T00:00:00Z", "accounts": [`, checks.InputSnapshot, ""},
		{"hand-made snapshot", `{"account": {"id": "123456789012"}, "s3": {}}`, checks.InputSnapshot, ""},
		{"neither", `{"schema_version": "1", "name": "x"}`, "", "in.json: neither a coffer JSON report"},
		{"not an object", `[1, 2]`, "", "in.json:1:2: not a coffer JSON report or snapshot"},
		{"not JSON", "\n\n  nope", "", "in.json:3:"},
		{"empty", ``, "", "in.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "in.json")
			if err := os.WriteFile(file, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := checks.DetectFile(file)
			if tc.err != "" {
				if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), filepath.Dir(file)+"/", ""), tc.err) {
					t.Errorf("DetectFile = %q, %v; want an error with %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("DetectFile = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
