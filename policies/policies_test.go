package policies_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/policies"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestRego runs every *_test.rego of the embedded policies through OPA's tester, as `opa test`
// would, so the suite needs no opa binary.
func TestRego(t *testing.T) {
	modules := map[string]*ast.Module{}
	err := fs.WalkDir(policies.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") {
			return err
		}
		src, err := fs.ReadFile(policies.FS, path)
		if err != nil {
			return err
		}
		mod, err := ast.ParseModuleWithOpts(path, string(src), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			return err
		}
		modules[path] = mod
		return nil
	})
	if err != nil {
		t.Fatalf("load policies: %v", err)
	}
	// The tests compile as the engine compiles the checks, type-checked against the input schema.
	// Their partial inputs (`with input as {...}`) still type-check: OPA types a document replaced
	// by `with` as the union of its schema type and the replacement's type.
	compiler, err := checks.NewPolicyCompiler()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	results, err := tester.NewRunner().SetCompiler(compiler).SetModules(modules).RaiseBuiltinErrors(true).RunTests(ctx, nil)
	if err != nil {
		t.Fatalf("run rego tests: %v", err)
	}
	ran := 0
	for r := range results {
		ran++
		name := strings.TrimPrefix(r.Package, "data.") + "." + r.Name
		t.Run(name, func(t *testing.T) {
			if r.Error != nil {
				t.Fatalf("%s: error: %v", r.Location, r.Error)
			}
			if r.Fail {
				t.Fatalf("%s: failed", r.Location)
			}
		})
	}
	if ran == 0 {
		t.Fatal("no Rego tests ran")
	}
}
