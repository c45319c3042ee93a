package checks

import (
	"context"
	"io/fs"
	"testing"

	"github.com/coffer-audit/coffer/policies"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// TestPrecomputedScopesMatchRego: the bucket scopes the engine precomputes (input.coffer.scopes and
// scope_arns) must be what the libraries' Rego fallbacks compute, for every role.
func TestPrecomputedScopesMatchRego(t *testing.T) {
	snap := &Snapshot{Account: Account{ID: "123456789012"}}
	for _, name := range []string{"p1", "p2", "s1", "t1", "a1", "i1", "untagged"} {
		snap.S3.Buckets = append(snap.S3.Buckets, Bucket{Name: name, ARN: "arn:aws:s3:::" + name, Region: "us-east-1"})
	}
	cfg := DefaultConfig()
	cfg.Buckets.Primary = []string{"p1", "p2"}
	cfg.Buckets.Standby = []string{"s1"}
	cfg.Buckets.TrailLogs = []string{"t1"}
	cfg.Buckets.AccessLogs = []string{"a1"}
	cfg.Buckets.Ignore = []string{"i1"}
	ev, err := newEvaluation(snap, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	precomputed := ev.input.(ast.Object)
	coffer := precomputed.Get(ast.StringTerm("coffer")).Value.(ast.Object)
	if coffer.Get(ast.StringTerm("scopes")) == nil || coffer.Get(ast.StringTerm("scope_arns")) == nil {
		t.Fatal("the engine no longer precomputes scopes: update this test and policies/lib")
	}
	bare := ast.NewObject()
	coffer.Foreach(func(k, v *ast.Term) {
		if k.Value.Compare(ast.String("scopes")) != 0 && k.Value.Compare(ast.String("scope_arns")) != 0 {
			bare.Insert(k, v)
		}
	})
	fallback := precomputed.Copy()
	fallback.Insert(ast.StringTerm("coffer"), ast.NewTerm(bare))

	opts := []func(*rego.Rego){rego.Query(`x := {
		"all": data.lib.s3.all_bucket_resources,
		"backup": data.lib.s3.backup_bucket_resources,
		"primary": data.lib.s3.primary_bucket_resources,
		"in_scope": data.lib.resource.buckets_in_scope,
		"backup_buckets": data.lib.resource.backup_buckets,
		"by_role": {r: data.lib.resource.buckets_with_role(r) | some r in ["primary", "standby", "trail-logs", "access-logs", "ignore"]},
		"arns_by_role": {r: data.lib.s3.bucket_arns_with_role(r) | some r in ["primary", "standby", "trail-logs", "access-logs", "ignore"]},
	}`)}
	for _, f := range []string{"lib/s3.rego", "lib/resource.rego"} {
		src, err := fs.ReadFile(policies.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, rego.Module(f, string(src)))
	}
	query, err := rego.New(opts...).PrepareForEval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	eval := func(input ast.Value) ast.Value {
		rs, err := query.Eval(context.Background(), rego.EvalParsedInput(input))
		if err != nil || len(rs) != 1 {
			t.Fatalf("eval: %v (%d results)", err, len(rs))
		}
		v, err := ast.InterfaceToValue(rs[0].Bindings["x"])
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	got, want := eval(precomputed), eval(fallback)
	if got.Compare(want) != 0 {
		t.Errorf("precomputed scopes differ from the Rego fallbacks:\nprecomputed %v\nfallback    %v", got, want)
	}
	if n := got.(ast.Object).Get(ast.StringTerm("backup")).Value.(*ast.Array).Len(); n != 4 {
		t.Errorf("backup scope has %d buckets, want 4 (p1, p2, s1 and untagged, which is primary): %v", n, got)
	}
}
