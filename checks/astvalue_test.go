package checks

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestToValueMatchesJSON holds the direct converter to what the JSON round trip gives, on the sample
// snapshots (every field the collector fills) and on edge cases of nil and empty values.
func TestToValueMatchesJSON(t *testing.T) {
	snaps := map[string]*Snapshot{}
	for _, f := range []string{"../fixtures/workshop-as-built.json", "../fixtures/compliant.json", "../fixtures/drifted.json"} {
		s, err := LoadSnapshot(f)
		if err != nil {
			t.Fatal(err)
		}
		snaps[f] = s
	}
	rot := false
	when := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	snaps["edge cases"] = &Snapshot{
		CollectedAt: when,
		S3: S3{Buckets: []Bucket{
			{Name: "nil-everything"},
			{Name: "empty", Tags: map[string]string{}, Lifecycle: &Lifecycle{Rules: []LifecycleRule{}}, Policy: &Policy{}},
			{Name: "full", CreationDate: &when, Policy: func() *Policy {
				p := ParsePolicy(`{"Statement":{"Effect":"Allow","Action":"s3:*","Principal":"*","Condition":{"NumericLessThan":{"s3:TlsVersion":1.2}}}}`)
				return &p
			}()},
		}},
		KMS: KMS{Keys: []Key{{ID: "k", RotationEnabled: &rot, DeletionDate: &when}}},
	}
	many := &Snapshot{CollectedAt: when}
	for i := range 2*parallelFrom + 7 {
		name := fmt.Sprintf("bucket-%05d", i)
		many.S3.Buckets = append(many.S3.Buckets, Bucket{Name: name, ARN: "arn:aws:s3:::" + name, Tags: map[string]string{"i": fmt.Sprint(i)}, Versioning: &Versioning{Status: "Enabled"}})
	}
	snaps["more buckets than the parallel threshold"] = many
	// Equal configurations are converted once and shared; nearly equal ones (a field omitted,
	// another value, a map with one key more, an empty versus a nil list) must not be.
	near := &Snapshot{CollectedAt: when}
	for i, v := range []Bucket{
		{Versioning: &Versioning{Status: "Enabled"}, Tags: map[string]string{"a": "1"}, Lifecycle: &Lifecycle{Rules: []LifecycleRule{}}},
		{Versioning: &Versioning{Status: "Enabled"}, Tags: map[string]string{"a": "1"}, Lifecycle: &Lifecycle{}},
		{Versioning: &Versioning{Status: "Enabled", MFADelete: "Disabled"}, Tags: map[string]string{"a": "1", "b": "1"}, CreationDate: &when},
		{Versioning: &Versioning{Status: "Enabled"}, Tags: map[string]string{"b": "1"}, Lifecycle: &Lifecycle{Rules: []LifecycleRule{{ID: "x"}}}},
		{Versioning: &Versioning{Status: "Enabled"}, Tags: map[string]string{"a": "1"}, Lifecycle: &Lifecycle{Rules: []LifecycleRule{{ID: "x"}}}},
	} {
		v.Name = fmt.Sprintf("near-%d", i)
		near.S3.Buckets = append(near.S3.Buckets, v, v)
	}
	snaps["equal and nearly equal configurations"] = near
	for name, snap := range snaps {
		t.Run(name, func(t *testing.T) {
			got, err := toValue(reflect.ValueOf(snap))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(snap)
			var generic any
			if err := json.Unmarshal(raw, &generic); err != nil {
				t.Fatal(err)
			}
			want, err := ast.InterfaceToValue(generic)
			if err != nil {
				t.Fatal(err)
			}
			if got.Compare(want) != 0 {
				os.WriteFile(t.TempDir()+"/got.json", []byte(got.String()), 0o600)
				t.Errorf("direct conversion differs from the JSON round trip:\ngot  %.600s\nwant %.600s", got, want)
			}
		})
	}
}

// TestToValueSharesEqualValues: equal configurations become one term (what keeps a large account's
// input small, and lets OPA reuse results of helpers that take a configuration).
func TestToValueSharesEqualValues(t *testing.T) {
	snap := &Snapshot{}
	for _, name := range []string{"a", "b", "c"} {
		status := "Enabled"
		if name == "c" {
			status = "Suspended"
		}
		snap.S3.Buckets = append(snap.S3.Buckets, Bucket{Name: name, Versioning: &Versioning{Status: status}, PublicAccessBlock: &PublicAccessBlock{BlockPublicAcls: true}})
	}
	v, err := toValue(reflect.ValueOf(snap))
	if err != nil {
		t.Fatal(err)
	}
	field := func(i int, name string) *ast.Term {
		return v.(ast.Object).Get(ast.StringTerm("s3")).Get(ast.StringTerm("buckets")).Get(ast.InternedTerm(i)).Get(ast.StringTerm(name))
	}
	if field(0, "versioning") != field(1, "versioning") || field(0, "public_access_block") != field(2, "public_access_block") {
		t.Error("equal configurations were converted to separate terms")
	}
	if field(0, "versioning") == field(2, "versioning") {
		t.Error("different configurations share a term")
	}
}
