package checks

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/types"

	"github.com/coffer-audit/coffer/docs"
)

// Policies are compiled against the type of their input, so that a reference to a field the
// input does not have — input.s3.bukets, b.versioning.stauts — fails to load with its file and
// line, instead of being undefined at every evaluation and silently producing no finding.

// NewPolicyCompiler returns an OPA compiler that type-checks policies against the input checks
// see (the snapshot plus the coffer object, see inputSchema). NewEngine compiles with it, and so
// do the Rego tests of the built-in policies.
func NewPolicyCompiler() (*ast.Compiler, error) {
	schema, err := inputSchema()
	if err != nil {
		return nil, err
	}
	typed, err := forTypeChecker(schema, "#")
	if err != nil {
		return nil, fmt.Errorf("input schema: %w", err)
	}
	ss := ast.NewSchemaSet()
	ss.Put(ast.SchemaRootRef, typed)
	// No error limit: once reached, OPA stops before the stage below could drop the null
	// comparisons among the errors, and would report those.
	c := ast.NewCompiler().WithSchemas(ss).SetErrorLimit(0)
	return c.WithStageAfterID(ast.StageCheckTypes, ast.CompilerStageDefinition{
		Name: "CofferAllowNullComparisons", MetricName: "coffer_allow_null_comparisons", Stage: allowNullComparisons,
	}), nil
}

// allowNullComparisons drops the type errors of comparisons with null, such as
// `b.versioning == null`. OPA's schema types cannot say "object or null": it reads
// {"type": "null"} as any, which swallows a union, so forTypeChecker gives a null-able item its
// non-null type, and then `==` between the item and null is a "match error". Such a comparison is
// how a check asks whether coffer could read the item (docs/writing-checks.md), so it must load.
func allowNullComparisons(c *ast.Compiler) *ast.Error {
	c.Errors = slices.DeleteFunc(c.Errors, func(e *ast.Error) bool {
		d, ok := e.Details.(*ast.UnificationErrDetail)
		return ok && (hasNull(d.Left) || hasNull(d.Right))
	})
	return nil
}

// hasNull reports whether the type is null or holds null somewhere ({"a": null} == {"a": x}).
func hasNull(t types.Type) bool {
	switch t := t.(type) {
	case types.Null:
		return true
	case types.Any:
		return slices.ContainsFunc(t, hasNull)
	case *types.Object:
		for _, p := range t.StaticProperties() {
			if hasNull(p.Value) {
				return true
			}
		}
		return t.DynamicValue() != nil && hasNull(t.DynamicValue())
	case *types.Array:
		for i := range t.Len() {
			if hasNull(t.Select(i)) {
				return true
			}
		}
		return t.Dynamic() != nil && hasNull(t.Dynamic())
	case *types.Set:
		return t.Of() != nil && hasNull(t.Of())
	}
	return false
}

// inputSchema is the JSON Schema (draft 2020-12) of what a check sees as `input`: the snapshot's
// (docs/snapshot.schema.json, embedded) with the coffer object newEvaluation adds.
func inputSchema() (map[string]any, error) {
	var schema map[string]any
	if err := json.Unmarshal(docs.SnapshotSchema, &schema); err != nil {
		return nil, fmt.Errorf("docs/snapshot.schema.json: %w", err)
	}
	props, _ := schema["properties"].(map[string]any)
	required, _ := schema["required"].([]any)
	if props == nil || required == nil {
		return nil, fmt.Errorf("docs/snapshot.schema.json: the root has no properties or required list")
	}
	coffer, err := cofferSchema()
	if err != nil {
		return nil, err
	}
	props["coffer"] = coffer
	schema["required"] = append(required, "coffer")
	schema["title"] = "coffer check input"
	schema["description"] = "What a check sees as input: the snapshot plus the coffer object (docs/writing-checks.md)."
	// Not the document published at $id any more.
	delete(schema, "$id")
	return schema, nil
}

// scopeNames are the keys of input.coffer.scopes and scope_arns: "all" and "backup", which are
// always there, and the bucket roles, which are there when some bucket has the role.
var scopeNames = []string{"all", "backup", RolePrimary, RoleStandby, RoleIgnore, RoleTrailLogs, RoleAccessLogs}

// cofferSchema describes the object newEvaluation inserts as input.coffer. A test validates the
// real object against it, so the two cannot drift apart.
func cofferSchema() (map[string]any, error) {
	params, err := jsonSchemaOfStruct(reflect.TypeFor[Params]())
	if err != nil {
		return nil, fmt.Errorf("coffer.params: %w", err)
	}
	stringMap := map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}
	scopes := func(item string) map[string]any {
		props := map[string]any{}
		for _, s := range scopeNames {
			props[s] = map[string]any{"type": "array", "items": map[string]any{"type": item}}
		}
		return closedObject(props, "all", "backup")
	}
	return closedObject(map[string]any{
		"now":        map[string]any{"type": "string", "format": "date-time"},
		"roles":      stringMap,
		"standby_of": stringMap,
		"params":     params,
		"scopes":     scopes("integer"),
		"scope_arns": scopes("string"),
		// Buckets of other accounts paired with this account's (an organisation scan), by name.
		"peer_buckets": map[string]any{"type": "object", "additionalProperties": closedObject(map[string]any{
			"account_id": map[string]any{"type": "string"},
			"role":       map[string]any{"type": "string"},
			"bucket":     map[string]any{"$ref": "#/$defs/Bucket"},
		}, "account_id", "role", "bucket")},
	}, "now", "roles", "standby_of", "params", "scopes", "scope_arns", "peer_buckets"), nil
}

func closedObject(props map[string]any, required ...string) map[string]any {
	req := make([]any, len(required))
	for i, r := range required {
		req[i] = r
	}
	return map[string]any{"type": "object", "additionalProperties": false, "properties": props, "required": req}
}

// jsonSchemaOfStruct describes a struct of scalars and string lists by its JSON field names, as
// newEvaluation passes the params to Rego (through encoding/json). Params is written by hand in
// coffer.yaml; deriving its schema keeps a new parameter from being a type error in the checks.
func jsonSchemaOfStruct(t reflect.Type) (map[string]any, error) {
	props := map[string]any{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			return nil, fmt.Errorf("field %s has no JSON name", f.Name)
		}
		var s map[string]any
		switch k := f.Type.Kind(); {
		case k == reflect.String:
			s = map[string]any{"type": "string"}
		case k == reflect.Bool:
			s = map[string]any{"type": "boolean"}
		case k >= reflect.Int && k <= reflect.Uint64:
			s = map[string]any{"type": "integer"}
		case k == reflect.Float32 || k == reflect.Float64:
			s = map[string]any{"type": "number"}
		case k == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
			s = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
		default:
			return nil, fmt.Errorf("field %s: type %s has no schema here", f.Name, f.Type)
		}
		props[name] = s
		required = append(required, name)
	}
	return closedObject(props, required...), nil
}

// forTypeChecker rewrites a JSON Schema into one that OPA's type checker reads as the same type.
// OPA (v1/ast/compile.go, schemaParser) turns a schema into a type without validating data, and
// reads only part of the language:
//
//   - It ignores oneOf, so a nullable item `oneOf: [{type: null}, {$ref: …}]` became `any` and
//     nothing below it was checked. oneOf becomes anyOf (for a type the two are the same union).
//   - It types {type: null} as `any`, and a union with `any` is `any`: null alternatives are
//     dropped. A null item has no fields, so no reference below it is lost, and comparing the
//     item with null still type-checks.
//   - A type list keeps one type (["object", "null"] is an object): null is dropped, and a list
//     of two other types is refused rather than read as the first.
//   - const and enum without a type are `any`: the type of their values is added.
//   - It types an object with properties as closed whatever additionalProperties says, and one
//     without as object[any: any] (the type of additionalProperties is not used). Every object
//     with properties must therefore say additionalProperties: false, or the checker would refuse
//     fields the schema allows.
//
// Any other keyword is refused, with its JSON pointer: a schema change that OPA would misread must
// be taught here, not discovered as a check that silently stopped being checked.
func forTypeChecker(node map[string]any, ptr string) (map[string]any, error) {
	out := make(map[string]any, len(node))
	for k, v := range node {
		at := ptr + "/" + k
		switch k {
		case "$schema", "$id", "$ref", "$comment", "title", "description", "required", "format", "pattern",
			"minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "default", "examples":
			// Validation keywords and annotations: they constrain values, not the shape of the type.
			out[k] = v
		case "properties", "$defs":
			subs, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: want an object of schemas", at)
			}
			conv := make(map[string]any, len(subs))
			for name, sub := range subs {
				s, err := subSchema(sub, at+"/"+name)
				if err != nil {
					return nil, err
				}
				conv[name] = s
			}
			out[k] = conv
		case "items", "additionalProperties":
			if b, ok := v.(bool); ok {
				out[k] = b
				continue
			}
			s, err := subSchema(v, at)
			if err != nil {
				return nil, err
			}
			out[k] = s
		case "oneOf", "anyOf":
			alts, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s: want a list of schemas", at)
			}
			var kept []any
			for i, alt := range alts {
				if m, ok := alt.(map[string]any); ok && len(m) == 1 && m["type"] == "null" {
					continue
				}
				s, err := subSchema(alt, fmt.Sprintf("%s/%d", at, i))
				if err != nil {
					return nil, err
				}
				kept = append(kept, s)
			}
			if _, both := out["anyOf"]; both {
				return nil, fmt.Errorf("%s: oneOf and anyOf together", ptr)
			}
			if len(kept) > 0 {
				out["anyOf"] = kept
			}
		case "type":
			t, err := singleType(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			out[k] = t
		case "const", "enum":
			out[k] = v
		default:
			return nil, fmt.Errorf("%s: OPA's type checker does not read %q; teach checks.forTypeChecker what it means for a type", at, k)
		}
	}
	if _, ok := out["properties"]; ok && node["additionalProperties"] != false {
		return nil, fmt.Errorf("%s: an object with properties must say additionalProperties: false (OPA types it as closed)", ptr)
	}
	if _, typed := out["type"]; !typed {
		values, _ := node["enum"].([]any)
		if c, ok := node["const"]; ok {
			values = append(values, c)
		}
		if t := typeOfValues(values); t != "" {
			out["type"] = t
		}
	}
	return out, nil
}

func subSchema(v any, ptr string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a schema object", ptr)
	}
	return forTypeChecker(m, ptr)
}

// singleType is the one type of a type keyword once null is dropped.
func singleType(v any) (any, error) {
	list, ok := v.([]any)
	if !ok {
		return v, nil
	}
	var kept []string
	for _, t := range list {
		if s, _ := t.(string); s != "null" {
			kept = append(kept, fmt.Sprint(t))
		}
	}
	switch len(kept) {
	case 0:
		return "null", nil
	case 1:
		return kept[0], nil
	}
	sort.Strings(kept)
	return nil, fmt.Errorf("types %s: OPA would read only one of them", strings.Join(kept, ", "))
}

// typeOfValues is the JSON type shared by every value (nulls aside), or "" when there is none.
func typeOfValues(values []any) string {
	t := ""
	for _, v := range values {
		var vt string
		switch v.(type) {
		case nil:
			continue
		case string:
			vt = "string"
		case bool:
			vt = "boolean"
		case float64, json.Number:
			vt = "number"
		default:
			return ""
		}
		if t != "" && t != vt {
			return ""
		}
		t = vt
	}
	return t
}

// policyErrorMsg is the message of a compile error. For a reference to a field the input does not
// have, it ends the reference at that field (OPA's goes on with the variables it generated, like
// input.s3.bukets[__local0__]) and says which fields are there, which OPA keeps in details that
// only its own CLI prints.
func policyErrorMsg(e *ast.Error) string {
	switch d := e.Details.(type) {
	case *ast.RefErrInvalidDetail:
		if d.Have != nil || len(d.OneOf) == 0 || d.Pos <= 0 || d.Pos >= len(d.Ref) {
			break
		}
		fields := make([]string, len(d.OneOf))
		for i, v := range d.OneOf {
			fields[i] = v.String()
		}
		return fmt.Sprintf("undefined ref: %v: %v has no field %v (it has %s)", d.Ref[:d.Pos+1], d.Ref[:d.Pos], d.Ref[d.Pos], strings.Join(fields, ", "))
	case *ast.RefErrUnsupportedDetail:
		if _, fn := d.Have.(*types.Function); fn || d.Pos < 0 || d.Pos+1 >= len(d.Ref) {
			break
		}
		return fmt.Sprintf("undefined ref: %v: %v is %s, which has no field %v", d.Ref[:d.Pos+2], d.Ref[:d.Pos+1], types.Sprint(d.Have), d.Ref[d.Pos+1])
	case *ast.UnificationErrDetail:
		return fmt.Sprintf("match error: %s compared with %s, which can never be equal", types.Sprint(d.Left), types.Sprint(d.Right))
	}
	return e.Message
}
