package awsclient_test

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayering keeps the SDK plumbing in one place: collect and fix both build on awsclient and
// neither on the other; awsclient knows nothing of coffer; the check model knows no SDK.
//
// Imports are read in-process with go/build (not by running go list), so the test cache notices
// when a source file changes.
func TestLayering(t *testing.T) {
	tests := []struct {
		pkg       string
		forbidden []string // import-path prefixes pkg must not depend on, even indirectly
	}{
		{"checks/fix", []string{module + "/checks/collect", module + "/fixtures/"}},
		{"checks/collect", []string{module + "/checks/fix", module + "/fixtures/"}},
		{"checks/awsclient", []string{module + "/"}},
		{"checks", []string{module + "/checks/awsclient", "github.com/aws/aws-sdk-go-v2/"}},
		{"fixtures/seed", []string{module + "/checks/collect", module + "/checks/fix"}},
	}
	for _, tc := range tests {
		t.Run(tc.pkg, func(t *testing.T) {
			deps := moduleDeps(t, tc.pkg)
			if len(deps) < 2 {
				t.Fatalf("%s: found %d imports, want the package's own", tc.pkg, len(deps))
			}
			for _, d := range deps {
				for _, f := range tc.forbidden {
					if strings.HasPrefix(d, f) {
						t.Errorf("%s depends on %s", tc.pkg, d)
					}
				}
			}
		})
	}
}

const module = "github.com/coffer-audit/coffer"

// moduleDeps returns what the non-test files of pkg (a path in the module) import, following
// imports inside the module; imports from outside it are listed but not followed.
func moduleDeps(t *testing.T, pkg string) []string {
	t.Helper()
	root := filepath.Join("..", "..")
	seen := map[string]bool{}
	var out []string
	var visit func(rel string)
	visit = func(rel string) {
		p, err := build.ImportDir(filepath.Join(root, filepath.FromSlash(rel)), 0)
		if err != nil {
			t.Fatalf("read package %s: %v", rel, err)
		}
		for _, imp := range p.Imports {
			if seen[imp] {
				continue
			}
			seen[imp] = true
			out = append(out, imp)
			if sub, ok := strings.CutPrefix(imp, module+"/"); ok {
				visit(sub)
			}
		}
	}
	visit(pkg)
	return out
}
