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
