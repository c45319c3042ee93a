package checks_test

import (
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
)

// TestParseSnapshotErrors: each way a snapshot can be wrong is named, with its position when the
// JSON itself is at fault, and a snapshot of another schema is named as such before any field
// error its new fields would cause.
func TestParseSnapshotErrors(t *testing.T) {
	v := checks.SnapshotSchemaVersion
	tests := []struct{ name, data, want string }{
		{"not JSON", "{\n  \"schema_version\": ,", "s.json:2:22: invalid character ','"},
		{"truncated", `{"schema_version": "` + v + `", "account": {"id": "1"`, "s.json:1:"},
		{"no schema_version", `{"account": {"id": "1"}}`, "not a coffer snapshot: no schema_version"},
		{"another schema with new fields", `{"schema_version": "99", "new_field": true}`, `schema_version "99" is not supported`},
		{"another schema", `{"schema_version": "99", "account": {"id": "1"}}`, `schema_version "99" is not supported`},
		{"unknown field", "{\"schema_version\": \"" + v + "\",\n \"acount\": {}}", `s.json:2:2: unknown field "acount"`},
		{"trailing data", `{"schema_version": "` + v + `", "account": {"id": "1"}} {}`, "unexpected data after the snapshot"},
		{"no account id", `{"schema_version": "` + v + `", "account": {}}`, "account.id is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checks.ParseSnapshot("s.json", []byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseSnapshot error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := checks.ParseSnapshot("s.json", []byte(`{"schema_version": "`+v+`", "account": {"id": "1"}}`)); err != nil {
		t.Errorf("a minimal valid snapshot was rejected: %v", err)
	}
}
