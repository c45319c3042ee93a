package checks

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// denyEntry is one entry of a check's `deny` set or of its `notes` set.
type denyEntry struct {
	Resource Resource
	Msg      string
	Evidence *Evidence
	Vars     map[string]any
	// NotApplicable is a note's `not_applicable: true`: the PASS it explains is because the check
	// does not apply to the resource.
	NotApplicable bool
}

// astResult keeps query results as OPA values: they are decoded straight into findings, and only
// the evidence and vars of failures become Go values. (Converting every result to Go maps first
// copied each check's whole result once more, at the time of the evaluation's peak memory.)
func astResult(t *ast.Term, _ *rego.EvalContext) (any, error) { return t.Value, nil }

// decodeResources reads the `resources` set.
func (ev *evaluation) decodeResources(v any) ([]Resource, error) {
	set, ok := v.(ast.Set)
	if !ok {
		return nil, fmt.Errorf("resources is %s, want a set", typeName(v))
	}
	out := make([]Resource, 0, set.Len())
	err := set.Iter(func(item *ast.Term) error {
		r, err := ev.decodeResource(item.Value)
		out = append(out, r)
		return err
	})
	return out, err
}

// decodeResource reads a resource object, or the ARN of a resource in the snapshot, which the
// index completes: on large accounts the bucket checks name their thousands of resources by ARN,
// so Rego neither builds nor converts an object per bucket per check.
func (ev *evaluation) decodeResource(v ast.Value) (Resource, error) {
	if arn, ok := v.(ast.String); ok {
		return ev.resourceByARN(string(arn))
	}
	obj, ok := v.(ast.Object)
	if !ok {
		return Resource{}, fmt.Errorf("resource %v is neither an object nor an ARN", v)
	}
	r := Resource{ARN: stringField(obj, "arn"), Type: stringField(obj, "type"), Name: stringField(obj, "name"), Region: stringField(obj, "region"), Role: stringField(obj, "role")}
	if r.ARN == "" {
		return Resource{}, fmt.Errorf("resource %v has no arn", v)
	}
	return r, nil
}

// stringField is obj[key] when it is a string, else "".
func stringField(obj ast.Object, key string) string {
	if t := obj.Get(ast.InternedTerm(key)); t != nil {
		if s, ok := t.Value.(ast.String); ok {
			return string(s)
		}
	}
	return ""
}

func (ev *evaluation) resourceByARN(arn string) (Resource, error) {
	if b := ev.index.buckets[arn]; b != nil && b.ARN == arn {
		return Resource{ARN: b.ARN, Type: "AWS::S3::Bucket", Name: b.Name, Region: b.Region, Role: ev.roles[b.Name]}, nil
	}
	if k := ev.index.keys[arn]; k != nil {
		return Resource{ARN: k.ARN, Type: "AWS::KMS::Key", Name: k.ID, Region: k.Region}, nil
	}
	if t := ev.index.trails[arn]; t != nil {
		return Resource{ARN: t.ARN, Type: "AWS::CloudTrail::Trail", Name: t.Name, Region: t.HomeRegion}, nil
	}
	if u := ev.index.users[arn]; u != nil {
		return Resource{ARN: u.ARN, Type: "AWS::IAM::User", Name: u.Name, Region: "global"}, nil
	}
	if r := ev.index.roles[arn]; r != nil {
		return Resource{ARN: r.ARN, Type: "AWS::IAM::Role", Name: r.Name, Region: "global"}, nil
	}
	if arn == "" {
		return Resource{}, errors.New("resource is an empty string")
	}
	return Resource{}, fmt.Errorf("resource %q is not the ARN of a bucket, key, trail, user or role in the snapshot; give a resource object", arn)
}

// decodeDenies reads the `deny` set.
func (ev *evaluation) decodeDenies(v any) ([]denyEntry, error) { return ev.decodeEntries("deny", v) }

// decodeNotes reads the optional `notes` set: entries like deny's that explain a PASS, and may
// say the check does not apply to the resource (not_applicable: true).
func (ev *evaluation) decodeNotes(v any) ([]denyEntry, error) { return ev.decodeEntries("notes", v) }

// decodeEntries reads the set named set ("deny" or "notes"), so that errors name the set the
// check got wrong.
func (ev *evaluation) decodeEntries(set string, v any) ([]denyEntry, error) {
	entries, ok := v.(ast.Set)
	if !ok {
		return nil, fmt.Errorf("%s is %s, want a set", set, typeName(v))
	}
	out := make([]denyEntry, 0, entries.Len())
	err := entries.Iter(func(item *ast.Term) error {
		obj, ok := item.Value.(ast.Object)
		if !ok {
			return fmt.Errorf("%s entry %v is not an object", set, item)
		}
		resource := obj.Get(ast.InternedTerm("resource"))
		if resource == nil {
			return fmt.Errorf("%s entry %v has no resource", set, item)
		}
		res, err := ev.decodeResource(resource.Value)
		if err != nil {
			return fmt.Errorf("%s entry %v: %w", set, item, err)
		}
		d := denyEntry{Resource: res, Msg: stringField(obj, "msg")}
		if e, ok := valueField(obj, "evidence").(ast.Object); ok {
			value, err := goValue(valueField(e, "value"))
			if err != nil {
				return fmt.Errorf("%s entry %v: evidence: %w", set, item, err)
			}
			d.Evidence = &Evidence{Path: stringField(e, "path"), Value: jsonValue(value)}
		}
		if vars, ok := valueField(obj, "vars").(ast.Object); ok {
			converted, err := goValue(vars)
			if err != nil {
				return fmt.Errorf("%s entry %v: vars: %w", set, item, err)
			}
			d.Vars, _ = converted.(map[string]any)
		}
		if set == "notes" {
			switch na := valueField(obj, "not_applicable").(type) {
			case nil:
			case ast.Boolean:
				d.NotApplicable = bool(na)
			default:
				return fmt.Errorf("notes entry %v: not_applicable is %s, want a boolean", item, ast.ValueName(na))
			}
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// valueField is obj[key], nil when absent.
func valueField(obj ast.Object, key string) ast.Value {
	if t := obj.Get(ast.InternedTerm(key)); t != nil {
		return t.Value
	}
	return nil
}

// goValue converts an OPA value to Go as query results are (sets sorted); nil stays nil.
func goValue(v ast.Value) (any, error) {
	if v == nil {
		return nil, nil
	}
	return ast.JSONWithOpt(v, ast.JSONOpt{SortSets: true})
}

// typeName names what a check returned instead of a set.
func typeName(v any) string {
	if v, ok := v.(ast.Value); ok {
		return ast.ValueName(v)
	}
	return fmt.Sprintf("%T", v)
}

// jsonValue turns OPA's json.Number into a plain number so evidence marshals as JSON numbers. A
// number beyond float64 (Rego numbers are unbounded) stays a json.Number: its float would be ±Inf,
// which encoding/json refuses, and the number as written is valid JSON.
func jsonValue(v any) any {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
		if f, err := n.Float64(); err == nil {
			return f
		}
		return n
	}
	return v
}
