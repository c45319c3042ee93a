package checks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// PolicyError is a problem in a Rego file (syntax, compile or metadata), with its position.
type PolicyError struct {
	File string
	Line int
	Msg  string
	// Err is the underlying error when there is one (a policy dir that cannot be read), so that
	// errors.Is(err, fs.ErrNotExist) works through a PolicyError.
	Err error
}

func (e *PolicyError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Unwrap returns the underlying error, nil for a problem in a policy's text.
func (e *PolicyError) Unwrap() error { return e.Err }

// PolicyErrors is every problem found while loading policies.
type PolicyErrors []*PolicyError

func (e PolicyErrors) Error() string {
	msgs := make([]string, len(e))
	for i, pe := range e {
		msgs[i] = pe.Error()
	}
	return strings.Join(msgs, "\n")
}

// Engine evaluates the loaded checks against snapshots. Queries are prepared once; an Engine is
// safe for concurrent use.
type Engine struct {
	rules []*loadedRule
	// order is the order rules are started in: the bucket checks, which dominate on large
	// accounts, first, so that the cheap account-wide ones fill the cores at the end.
	order []int

	// rewriters are the rules whose commands rewrite a whole configuration, by configuration
	// (remediation.rewrites); built on first use by Evaluate.
	rewritersOnce sync.Once
	rewriters     map[string][]rewriter
}

type loadedRule struct {
	Rule
	query rego.PreparedEvalQuery
	// hasNotes is set when the package defines the optional `notes` rule.
	hasNotes bool
}

// EngineOptions says which policies to load besides the built-in ones.
type EngineOptions struct {
	// BuiltIn is the embedded policy tree (policies.FS); nil loads none.
	BuiltIn fs.FS
	// PolicyDirs are folders of user .rego files, loaded recursively.
	PolicyDirs []string
}

// NewEngine parses, validates and compiles the policies and prepares one query per check. The
// policies are type-checked against the input (NewPolicyCompiler): a reference to a field the
// snapshot does not have is a PolicyError naming the file and line.
func NewEngine(ctx context.Context, opts EngineOptions) (*Engine, error) {
	modules := map[string]*ast.Module{}
	var errs PolicyErrors
	add := func(name, src string) {
		mod, err := ast.ParseModuleWithOpts(name, src, ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			errs = append(errs, astErrors(name, err)...)
			return
		}
		modules[name] = mod
	}
	if opts.BuiltIn != nil {
		err := fs.WalkDir(opts.BuiltIn, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !isPolicyFile(p) {
				return err
			}
			src, err := fs.ReadFile(opts.BuiltIn, p)
			if err != nil {
				return err
			}
			add("embedded:policies/"+p, string(src))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read built-in policies: %w", err)
		}
	}
	for _, dir := range opts.PolicyDirs {
		info, err := os.Stat(dir)
		if err != nil {
			return nil, &PolicyError{File: dir, Msg: "cannot read policy dir: " + withoutPath(err), Err: err}
		}
		if !info.IsDir() {
			return nil, &PolicyError{File: dir, Msg: "not a directory"}
		}
		err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !isPolicyFile(p) {
				return err
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			add(p, string(src))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read policy dir %s: %w", dir, err)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	compiler, err := NewPolicyCompiler()
	if err != nil {
		return nil, err
	}
	compiler.Compile(modules)
	if compiler.Failed() {
		return nil, astErrors("", compiler.Errors)
	}

	e := &Engine{}
	seen := map[string]string{}
	names := SortedKeys(modules)
	for _, name := range names {
		mod := modules[name]
		meta := packageAnnotation(mod)
		if meta == nil {
			continue
		}
		rule, err := ruleFromAnnotation(name, mod, meta)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := seen[rule.ID]; dup {
			errs = append(errs, &PolicyError{File: name, Line: meta.Location.Row, Msg: fmt.Sprintf("check id %q is already defined in %s", rule.ID, prev)})
			continue
		}
		seen[rule.ID] = name
		lr := &loadedRule{Rule: rule}
		if _, err := lr.parseTemplates(nil); err != nil {
			errs = append(errs, &PolicyError{File: name, Line: meta.Location.Row, Msg: err.Error()})
			continue
		}
		q := fmt.Sprintf("resources := %[1]s.resources; deny := %[1]s.deny", rule.Package)
		if definesRule(mod, "notes") {
			lr.hasNotes = true
			q += fmt.Sprintf("; notes := %s.notes", rule.Package)
		}
		var perr error
		lr.query, perr = rego.New(rego.Query(q), rego.Compiler(compiler)).PrepareForEval(ctx)
		if perr != nil {
			errs = append(errs, &PolicyError{File: name, Line: meta.Location.Row, Msg: fmt.Sprintf("prepare query: %v", perr)})
			continue
		}
		e.rules = append(e.rules, lr)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	sort.Slice(e.rules, func(i, j int) bool { return e.rules[i].ID < e.rules[j].ID })
	for i := range e.rules {
		e.order = append(e.order, i)
	}
	sort.SliceStable(e.order, func(a, b int) bool {
		return e.rules[e.order[a]].Service == "s3" && e.rules[e.order[b]].Service != "s3"
	})
	return e, nil
}

// withoutPath is the text of err without the operation and path that an *fs.PathError repeats
// (the PolicyError names the path already); any other error is its whole text.
func withoutPath(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Err != nil {
		return pe.Err.Error()
	}
	return err.Error()
}

func isPolicyFile(p string) bool {
	return strings.HasSuffix(p, ".rego") && !strings.HasSuffix(p, "_test.rego")
}

func astErrors(file string, err error) PolicyErrors {
	var astErrs ast.Errors
	if !errors.As(err, &astErrs) {
		return PolicyErrors{{File: file, Msg: err.Error()}}
	}
	out := make(PolicyErrors, 0, len(astErrs))
	for _, e := range astErrs {
		pe := &PolicyError{File: file, Msg: policyErrorMsg(e)}
		if e.Location != nil {
			if e.Location.File != "" {
				pe.File = e.Location.File
			}
			pe.Line = e.Location.Row
		}
		out = append(out, pe)
	}
	return out
}

// Rules returns the loaded checks' metadata, sorted by id.
func (e *Engine) Rules() []Rule {
	out := make([]Rule, len(e.rules))
	for i, r := range e.rules {
		out[i] = r.Rule
	}
	return out
}
