package policies_test

import (
	"context"
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/policies"
)

// The catalog (the checks in this folder, with their METADATA) is the one source of check
// knowledge: the tests below fail when a check is added without what the others rely on, or when
// Go outside the fixers starts to know checks by id again (DESIGN §12).

func catalog(t *testing.T) []checks.Rule {
	t.Helper()
	e, err := checks.NewEngine(context.Background(), checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		t.Fatalf("load policies: %v", err)
	}
	return e.Rules()
}

// TestCatalogEveryCheckHasARegoTest: every check has a <name>_test.rego beside it with at least
// one test_fail_* and one test_pass_* rule.
func TestCatalogEveryCheckHasARegoTest(t *testing.T) {
	rules := catalog(t)
	if len(rules) == 0 {
		t.Fatal("no checks loaded")
	}
	for _, r := range rules {
		if problem := regoTestProblem(policies.FS, r.Source); problem != "" {
			t.Errorf("%s: %s", r.ID, problem)
		}
	}
}

// regoTestProblem says what is wrong with the Rego test of the check loaded from source
// ("embedded:policies/s3/versioning.rego"), or "".
func regoTestProblem(fsys fs.FS, source string) string {
	file, ok := strings.CutPrefix(source, "embedded:policies/")
	if !ok {
		return "not a built-in check: " + source
	}
	testFile := strings.TrimSuffix(file, ".rego") + "_test.rego"
	src, err := fs.ReadFile(fsys, testFile)
	if err != nil {
		return "no " + path.Join("policies", testFile)
	}
	mod, err := ast.ParseModuleWithOpts(testFile, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return err.Error()
	}
	var pass, fail bool
	for _, rule := range mod.Rules {
		name := rule.Head.Name.String()
		if len(rule.Head.Reference) > 0 {
			name = rule.Head.Reference[0].Value.String()
		}
		pass = pass || strings.HasPrefix(name, "test_pass_")
		fail = fail || strings.HasPrefix(name, "test_fail_")
	}
	if !pass || !fail {
		return path.Join("policies", testFile) + " needs at least one test_fail_* and one test_pass_* rule"
	}
	return ""
}

func TestCatalogRegoTestProblem(t *testing.T) {
	file := func(src string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(src)} }
	fsys := fstest.MapFS{
		"s3/good.rego":           file(""),
		"s3/good_test.rego":      file("package x_test\nimport rego.v1\ntest_pass_a if true\ntest_fail_b if true\n"),
		"s3/untested.rego":       file(""),
		"s3/only_pass.rego":      file(""),
		"s3/only_pass_test.rego": file("package x_test\nimport rego.v1\ntest_pass_a if true\n"),
		"s3/broken.rego":         file(""),
		"s3/broken_test.rego":    file("package x_test\ntest_pass_a if {"),
	}
	tests := []struct{ source, want string }{
		{"embedded:policies/s3/good.rego", ""},
		{"embedded:policies/s3/untested.rego", "no policies/s3/untested_test.rego"},
		{"embedded:policies/s3/only_pass.rego", "needs at least one test_fail_* and one test_pass_* rule"},
		{"embedded:policies/s3/broken.rego", "s3/broken_test.rego:"},
		{"/home/me/rules/x.rego", "not a built-in check"},
	}
	for _, tc := range tests {
		got := regoTestProblem(fsys, tc.source)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("regoTestProblem(%s) = %q, want %q", tc.source, got, tc.want)
		}
	}
}

// productionGo are the folders whose Go must not know checks by id: the reporters and the CLI
// (everything they show about a check comes from its Rule) and the engine itself (the merge of
// commands finds the checks that rewrite one configuration from METADATA). checks/fix keeps its
// fixers keyed by id, and fixtures/seed states what each scenario violates, by id.
var productionGo = []struct {
	dir       string
	recursive bool
}{
	{"../reporters", true},
	{"../cmd", true},
	{"../checks", false},
}

// TestCatalogIDsAreNotSpelledInGo: no catalog check id appears in a string of the production Go
// of productionGo. Comments may name checks (as examples); a string literal is knowledge.
func TestCatalogIDsAreNotSpelledInGo(t *testing.T) {
	var ids []string
	for _, r := range catalog(t) {
		ids = append(ids, r.ID)
	}
	files := 0
	for _, d := range productionGo {
		err := filepath.WalkDir(d.dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				if p != d.dir && (!d.recursive || e.Name() == "testdata") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files++
			for _, hit := range spelledIDs(p, src, ids) {
				t.Errorf("%s: check id %q spelled in Go; put what the code needs to know in the check's METADATA (docs/writing-checks.md)", hit.pos, hit.id)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 10 {
		t.Fatalf("read only %d Go files: is the test running in policies/?", files)
	}
}

type idHit struct {
	pos string
	id  string
}

// spelledIDs returns where the ids occur, as whole words, in the string literals of the Go source.
func spelledIDs(filename string, src []byte, ids []string) []idHit {
	res := make([]*regexp.Regexp, len(ids))
	for i, id := range ids {
		// A whole word: not part of a longer id.
		res[i] = regexp.MustCompile(`(^|[^a-z0-9-])` + regexp.QuoteMeta(id) + `($|[^a-z0-9-])`)
	}
	var hits []idHit
	fset := token.NewFileSet()
	file := fset.AddFile(filename, -1, len(src))
	var s scanner.Scanner
	s.Init(file, src, nil, 0) // comments are skipped
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok != token.STRING {
			continue
		}
		text, err := strconv.Unquote(lit)
		if err != nil {
			text = lit
		}
		for i, re := range res {
			if re.MatchString(text) {
				hits = append(hits, idHit{fset.Position(pos).String(), ids[i]})
			}
		}
	}
	return hits
}

func TestCatalogSpelledIDs(t *testing.T) {
	src := []byte("package x\n\n" +
		"// s3-bucket-versioning in a comment is an example\n" +
		"var a = \"s3-bucket-versioning\"\n" +
		"var b = `check s3-bucket-tls-only, then`\n" +
		"var c = \"s3-bucket-versioning-extra and pre-s3-bucket-tls-only\" /* s3-bucket-tls-only */\n" +
		"var d = 's'\n")
	got := spelledIDs("x.go", src, []string{"s3-bucket-versioning", "s3-bucket-tls-only"})
	want := []idHit{{"x.go:4:9", "s3-bucket-versioning"}, {"x.go:5:9", "s3-bucket-tls-only"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(idHit{})); diff != "" {
		t.Errorf("hits (-want +got):\n%s", diff)
	}
}
