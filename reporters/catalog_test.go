package reporters

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
)

func catalogRules() []checks.Rule {
	return []checks.Rule{{
		ID: "s3-bucket-versioning", Title: "Backup buckets have versioning enabled", Severity: checks.SeverityHigh, Service: "s3",
		AppliesTo: "backup buckets", Description: "Versions survive a delete.\nAnd an overwrite.",
		Frameworks:  map[string][]string{checks.FrameworkFSBP: {"S3.14"}, checks.FrameworkWorkshop: {"6.2"}},
		Remediation: checks.RuleRemediation{Summary: "Enable versioning.", Fix: checks.FixAuto, Commands: []string{"aws s3api put-bucket-versioning --bucket <BUCKET>"}},
		Source:      "policies/s3/versioning.rego",
	}}
}

func TestCatalogFormats(t *testing.T) {
	if got, want := CatalogFormats(), []string{"json", "table"}; !slices.Equal(got, want) {
		t.Errorf("CatalogFormats() = %v, want %v", got, want)
	}
	for _, tc := range []struct{ format, wantErr string }{
		{"table", ""}, {"JSON", ""},
		{"markdown", `format "markdown" does not render the check catalog (formats that do: json, table)`},
		{"yaml", `unknown format "yaml" (known: json, table)`},
	} {
		rep, err := NewCatalog(tc.format, Options{})
		if tc.wantErr == "" {
			if err != nil || rep == nil {
				t.Errorf("NewCatalog(%q) = %v, %v", tc.format, rep, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("NewCatalog(%q) error = %v, want %q", tc.format, err, tc.wantErr)
		}
	}
}

func TestCatalogRenders(t *testing.T) {
	var js bytes.Buffer
	if err := (JSON{}).WriteCatalog(&js, catalogRules()); err != nil {
		t.Fatal(err)
	}
	var back []checks.Rule
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back) != 1 || back[0].ID != "s3-bucket-versioning" {
		t.Fatalf("JSON catalog: %v %v", back, err)
	}
	// Placeholders stay readable, as in the report's JSON.
	if !strings.Contains(js.String(), "<BUCKET>") {
		t.Errorf("JSON catalog escapes the command placeholder:\n%s", js.String())
	}
	var empty bytes.Buffer
	if err := (JSON{}).WriteCatalog(&empty, nil); err != nil || strings.TrimSpace(empty.String()) != "[]" {
		t.Errorf("empty catalog: %q %v, want []", empty.String(), err)
	}

	var tb bytes.Buffer
	if err := (&Table{}).WriteCatalog(&tb, catalogRules()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"s3-bucket-versioning", "HIGH", "S3.14", "6.2", "auto", "–"} {
		if !strings.Contains(tb.String(), want) {
			t.Errorf("table catalog lacks %q:\n%s", want, tb.String())
		}
	}

	var ex bytes.Buffer
	if err := WriteExplanation(&ex, catalogRules()[0]); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"s3-bucket-versioning — Backup buckets have versioning enabled", "aws-fsbp:   S3.14",
		"Why:\n  Versions survive a delete.\n  And an overwrite.", "  aws s3api put-bucket-versioning --bucket <BUCKET>", "Source: policies/s3/versioning.rego"} {
		if !strings.Contains(ex.String(), want) {
			t.Errorf("explanation lacks %q:\n%s", want, ex.String())
		}
	}
}
