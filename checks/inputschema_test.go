package checks

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestInputSchemaDescribesTheInput validates the input the engine builds for each sample account
// (snapshot and coffer object) against the schema policies are compiled with: a field the engine
// gives checks but the schema lacks would make every check that reads it fail to load. Broken
// inputs must be rejected, so that a pass means something.
func TestInputSchemaDescribesTheInput(t *testing.T) {
	raw, err := inputSchema()
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("input.schema.json", reparse(t, raw)); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("input.schema.json")
	if err != nil {
		t.Fatalf("compile the input schema: %v", err)
	}
	cfg, err := LoadConfig(filepath.Join("..", "fixtures", "coffer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	inputOf := func(t *testing.T, fixture string) map[string]any {
		t.Helper()
		snap, err := LoadSnapshot(filepath.Join("..", "fixtures", fixture))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := newEvaluation(snap, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err := ast.JSON(ev.input)
		if err != nil {
			t.Fatal(err)
		}
		return reparse(t, v).(map[string]any)
	}
	for _, fixture := range []string{"drifted.json", "compliant.json", "workshop-as-built.json"} {
		t.Run(fixture, func(t *testing.T) {
			if err := schema.Validate(inputOf(t, fixture)); err != nil {
				t.Errorf("the engine's input does not match the input schema:\n%v", err)
			}
		})
	}

	coffer := func(in map[string]any) map[string]any { return in["coffer"].(map[string]any) }
	broken := []struct {
		name   string
		break_ func(in map[string]any)
	}{
		{"no coffer object", func(in map[string]any) { delete(in, "coffer") }},
		{"unknown coffer field", func(in map[string]any) { coffer(in)["clock"] = "now" }},
		{"unknown param", func(in map[string]any) { coffer(in)["params"].(map[string]any)["archive_after_dayz"] = 1 }},
		{"param of the wrong type", func(in map[string]any) { coffer(in)["params"].(map[string]any)["archive_after_days"] = "14" }},
		{"unknown scope", func(in map[string]any) { coffer(in)["scopes"].(map[string]any)["primaries"] = []any{} }},
		{"scope of ARNs as indexes", func(in map[string]any) { coffer(in)["scopes"].(map[string]any)["all"] = []any{"arn:aws:s3:::b"} }},
		{"unknown snapshot field", func(in map[string]any) { in["s3"].(map[string]any)["bukets"] = []any{} }},
	}
	for _, tc := range broken {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			in := inputOf(t, "drifted.json")
			tc.break_(in)
			if err := schema.Validate(in); err == nil {
				t.Error("the input schema accepted a broken input")
			}
		})
	}
}

// reparse turns a Go value into what jsonschema validates (numbers as json.Number).
func reparse(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestForTypeChecker covers each rewrite of the schema for OPA's type checker, and the schemas
// it refuses because OPA would read them as another type.
func TestForTypeChecker(t *testing.T) {
	obj := func(props string) string {
		return `{"type": "object", "additionalProperties": false, "properties": ` + props + `}`
	}
	tests := []struct {
		name, schema, want, err string
	}{
		{"nullable item: oneOf with null becomes anyOf without it",
			obj(`{"v": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/V"}]}}`),
			obj(`{"v": {"anyOf": [{"$ref": "#/$defs/V"}]}}`), ""},
		{"a union of two types stays a union",
			`{"anyOf": [{"type": "string"}, {"type": "null"}, {"type": "boolean"}]}`,
			`{"anyOf": [{"type": "string"}, {"type": "boolean"}]}`, ""},
		{"type list keeps its one non-null type",
			`{"type": ["array", "null"], "items": {"type": ["integer", "null"]}}`,
			`{"type": "array", "items": {"type": "integer"}}`, ""},
		{"enum gets the type of its values", `{"enum": ["", "Enabled", "Suspended"]}`, `{"enum": ["", "Enabled", "Suspended"], "type": "string"}`, ""},
		{"const gets the type of its value", `{"const": "1"}`, `{"const": "1", "type": "string"}`, ""},
		{"enum of mixed types stays untyped", `{"enum": ["a", 1]}`, `{"enum": ["a", 1]}`, ""},
		{"maps, $defs and annotations are kept",
			`{"$defs": {"M": {"type": "object", "additionalProperties": {"type": "string"}}}, "description": "d", "format": "date-time", "pattern": "^x$"}`,
			`{"$defs": {"M": {"type": "object", "additionalProperties": {"type": "string"}}}, "description": "d", "format": "date-time", "pattern": "^x$"}`, ""},
		{"open object with properties", `{"type": "object", "properties": {"a": {"type": "string"}}}`, "", "#: an object with properties must say additionalProperties: false"},
		{"open object deep down", obj(`{"a": {"type": "object", "properties": {"b": {"type": "string"}}}}`), "", "#/properties/a: an object with properties"},
		{"two types", obj(`{"a": {"type": ["string", "integer", "null"]}}`), "", "#/properties/a/type: types integer, string: OPA would read only one of them"},
		{"unknown keyword", obj(`{"a": {"type": "object", "patternProperties": {"^x": {}}}}`), "", `#/properties/a/patternProperties: OPA's type checker does not read "patternProperties"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var in map[string]any
			if err := json.Unmarshal([]byte(tc.schema), &in); err != nil {
				t.Fatal(err)
			}
			got, err := forTypeChecker(in, "#")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
