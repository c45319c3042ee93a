package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/coffer-audit/coffer/checks/shellcmd"
)

// PolicyError is a problem in a Rego file (syntax, compile or metadata), with its position.
type PolicyError struct {
	File string
	Line int
	Msg  string
}

func (e *PolicyError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

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

// parseTemplates parses the rule's command templates with the standard functions and the given
// overrides (functions bound to one evaluation).
func (r *loadedRule) parseTemplates(bound template.FuncMap) ([]*template.Template, error) {
	out := make([]*template.Template, 0, len(r.Remediation.Commands))
	for i, cmd := range r.Remediation.Commands {
		t, err := template.New(fmt.Sprintf("%s#%d", r.ID, i+1)).Funcs(templateFuncs).Funcs(bound).Parse(cmd)
		if err != nil {
			return nil, fmt.Errorf("remediation command %d: %w", i+1, err)
		}
		// Every value the template prints is quoted for the shell: the names it fills in come
		// from the audited account, and a reviewer pastes the result into a terminal.
		if err := shellcmd.Escape(t); err != nil {
			return nil, fmt.Errorf("remediation command %d: %w", i+1, err)
		}
		out = append(out, t)
	}
	return out, nil
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
			return nil, &PolicyError{File: dir, Msg: "cannot read policy dir: " + errors.Unwrap(err).Error()}
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

func packageAnnotation(mod *ast.Module) *ast.Annotations {
	for _, a := range mod.Annotations {
		if a.Scope == "package" && a.Custom != nil {
			if _, ok := a.Custom["id"]; ok {
				return a
			}
		}
	}
	return nil
}

type ruleMetadata struct {
	ID           string         `json:"id"`
	Severity     string         `json:"severity"`
	Service      string         `json:"service"`
	ResourceType string         `json:"resource_type"`
	AppliesTo    string         `json:"applies_to"`
	Requires     []string       `json:"requires"`
	Frameworks   map[string]any `json:"frameworks"`
	Remediation  struct {
		Summary  string   `json:"summary"`
		Fix      string   `json:"fix"`
		Commands []string `json:"commands"`
		Rewrites string   `json:"rewrites"`
	} `json:"remediation"`
	Matrix *MatrixColumn `json:"matrix"`
}

var (
	idPattern       = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	requiresPattern = regexp.MustCompile(`^[a-z0-9]+:[A-Z][A-Za-z0-9]+$`)
	knownFrameworks = map[string]bool{FrameworkCIS: true, FrameworkFSBP: true, FrameworkWorkshop: true}
	knownFixClasses = map[FixClass]bool{FixAuto: true, FixOptIn: true, FixManual: true}
	knownTables     = map[string]bool{MatrixBuckets: true, MatrixPrincipals: true}
)

func ruleFromAnnotation(file string, mod *ast.Module, a *ast.Annotations) (Rule, *PolicyError) {
	line := 0
	if a.Location != nil {
		line = a.Location.Row
	}
	fail := func(format string, args ...any) (Rule, *PolicyError) {
		return Rule{}, &PolicyError{File: file, Line: line, Msg: "METADATA: " + fmt.Sprintf(format, args...)}
	}
	raw, err := json.Marshal(a.Custom)
	if err != nil {
		return fail("custom: %v", err)
	}
	var m ruleMetadata
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return fail("custom: %v", err)
	}
	if !idPattern.MatchString(m.ID) {
		return fail("id %q must be kebab-case", m.ID)
	}
	sev, err := ParseSeverity(m.Severity)
	if err != nil {
		return fail("%v", err)
	}
	if a.Title == "" {
		return fail("title is required")
	}
	if m.Service == "" {
		return fail("custom.service is required")
	}
	for _, r := range m.Requires {
		if !requiresPattern.MatchString(r) {
			return fail("requires entry %q must look like service:Operation", r)
		}
	}
	frameworks := map[string][]string{}
	for name, v := range m.Frameworks {
		if !knownFrameworks[name] {
			return fail("unknown framework %q (want %s, %s or %s)", name, FrameworkCIS, FrameworkFSBP, FrameworkWorkshop)
		}
		list, ok := v.([]any)
		if !ok && v != nil {
			return fail("frameworks.%s must be a list", name)
		}
		ids := []string{}
		for _, item := range list {
			s, ok := item.(string)
			if !ok {
				return fail("frameworks.%s: %v must be a quoted string (YAML reads 2.10 as 2.1)", name, item)
			}
			ids = append(ids, s)
		}
		frameworks[name] = ids
	}
	fix := FixClass(m.Remediation.Fix)
	if !knownFixClasses[fix] {
		return fail("remediation.fix %q must be auto, opt-in or manual", m.Remediation.Fix)
	}
	if m.Remediation.Summary == "" {
		return fail("remediation.summary is required")
	}
	if err := checkRewrites(m.Remediation.Rewrites, m.Remediation.Commands); err != nil {
		return fail("remediation.rewrites %v", err)
	}
	if mx := m.Matrix; mx != nil {
		if !knownTables[mx.Table] {
			return fail("matrix.table %q must be %s or %s", mx.Table, MatrixBuckets, MatrixPrincipals)
		}
		if strings.TrimSpace(mx.Column) == "" {
			return fail("matrix.column is required: the header of the column the check shows in")
		}
		if mx.Order < 0 {
			return fail("matrix.order %d must not be negative", mx.Order)
		}
	}
	if !definesRule(mod, "resources") || !definesRule(mod, "deny") {
		return fail("package %s must define both `resources` and `deny`", mod.Package.Path)
	}
	return Rule{
		ID: m.ID, Title: a.Title, Description: strings.TrimSpace(a.Description), Severity: sev,
		Service: m.Service, AppliesTo: m.AppliesTo, Frameworks: frameworks,
		Remediation: RuleRemediation{Summary: m.Remediation.Summary, Commands: m.Remediation.Commands, Fix: fix, Rewrites: m.Remediation.Rewrites},
		Requires:    m.Requires, Matrix: m.Matrix, Package: mod.Package.Path.String(), Source: file,
	}, nil
}

// definesRule reports whether the module has a rule with that name.
func definesRule(mod *ast.Module, name string) bool {
	for _, r := range mod.Rules {
		if r.Head.Name.String() == name || (len(r.Head.Reference) > 0 && r.Head.Reference[0].Value.String() == name) {
			return true
		}
	}
	return false
}

// Rules returns the loaded checks' metadata, sorted by id.
func (e *Engine) Rules() []Rule {
	out := make([]Rule, len(e.rules))
	for i, r := range e.rules {
		out[i] = r.Rule
	}
	return out
}

// EvalOptions carries what evaluation needs besides the snapshot.
type EvalOptions struct {
	Config *Config
	Tool   Tool
	// Now is the clock for the report times and waiver expiry; time.Now when nil.
	Now func() time.Time

	// onCommandLine, when set (by tests), sees every rendered command line with its skeleton.
	onCommandLine func(checkID string, line shellcmd.Line)
}

// Evaluate runs every check on the snapshot. Per-check failures become ERROR findings; the error
// return is reserved for problems that make the whole report meaningless.
func (e *Engine) Evaluate(ctx context.Context, snap *Snapshot, opts EvalOptions) (*Report, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	cfg := opts.Config
	if cfg == nil {
		cfg = DefaultConfig()
	}
	report := &Report{
		SchemaVersion: ReportSchemaVersion, Tool: opts.Tool, AccountID: snap.Account.ID,
		Regions: snap.Regions, StartedAt: now().UTC(), Rules: e.Rules(),
	}
	ev, err := newEvaluation(snap, cfg)
	if err != nil {
		return nil, err
	}
	ev.rules = e.rules
	e.rewritersOnce.Do(func() { e.rewriters = indexRewriters(e.rules) })
	ev.rewriters = e.rewriters
	ev.onCommandLine = opts.onCommandLine
	results := make([][]Finding, len(e.rules))
	notices := make([][]string, len(e.rules))
	// One query per check, at most one per core at a time. Queries of several checks at once
	// shared the lib values they compute, but held the results of all of them until the last was
	// done; with scopes and roles precomputed in Go the sharing no longer pays for that memory
	// (10,000 varied buckets: 755 → 557 MB peak, evaluation 5% slower).
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for _, i := range e.order {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i], notices[i] = ev.run(ctx, e.rules[i])
		}()
	}
	wg.Wait()
	// Rendering needs the snapshot, not its Rego form: let the collector have the input before the
	// findings are rendered and concatenated (that is where the peak of a large account was).
	ev.input = nil
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	report.Notices = append(report.Notices, applyWaivers(results, cfg.Waivers, now())...)
	ev.failVars = map[string]map[string]map[string]any{}
	for _, fs := range results {
		for _, f := range fs {
			if f.Status != StatusFail {
				continue
			}
			if ev.failVars[f.CheckID] == nil {
				ev.failVars[f.CheckID] = map[string]map[string]any{}
			}
			ev.failVars[f.CheckID][f.Resource.ARN] = f.Vars
		}
	}
	for i, rule := range e.rules {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			// Rules are sorted by id and a rule has one finding per resource ARN, so sorting each
			// rule's findings here (in parallel) leaves the concatenation sorted by (check, ARN).
			// Sorted before rendering, so that rendering notices come in that order too.
			slices.SortFunc(results[i], func(a, b Finding) int { return strings.Compare(a.Resource.ARN, b.Resource.ARN) })
			notices[i] = append(notices[i], ev.renderRule(rule, results[i])...)
		}()
	}
	wg.Wait()
	total := 0
	for _, fs := range results {
		total += len(fs)
	}
	report.Findings = make([]Finding, 0, total)
	for i := range results {
		report.Findings = append(report.Findings, results[i]...)
		results[i] = nil
		report.Notices = append(report.Notices, notices[i]...)
	}
	report.Summarize()
	report.FinishedAt = now().UTC()
	return report, nil
}

// evaluation is one snapshot prepared for evaluation: the Rego input converted once and the
// lookups that rendering and error attribution need.
type evaluation struct {
	snap   *Snapshot
	cfg    *Config
	fix    FixSettings
	params map[string]any
	input  ast.Value
	roles  map[string]string
	index  resourceIndex
	byOp   map[string][]CollectError
	rules  []*loadedRule
	// rewriters are the engine's rules that rewrite a whole configuration, by configuration.
	rewriters map[string][]rewriter
	// failVars maps check id → resource ARN → the vars of its FAIL finding (waivers applied); set
	// once all rules have run.
	failVars map[string]map[string]map[string]any

	onCommandLine func(checkID string, line shellcmd.Line)
}

// fails reports whether the check FAILs (unwaived) on the resource.
func (ev *evaluation) fails(checkID, arn string) bool {
	_, ok := ev.failVars[checkID][arn]
	return ok
}

type resourceIndex struct {
	buckets map[string]*Bucket
	roles   map[string]*Role
	users   map[string]*User
	keys    map[string]*Key
	trails  map[string]*Trail
}

func newEvaluation(snap *Snapshot, cfg *Config) (*evaluation, error) {
	ev := &evaluation{snap: snap, cfg: cfg, fix: cfg.FixSettings(), byOp: map[string][]CollectError{}}
	ev.roles = BucketRoles(snap, cfg)
	pairs := StandbyPairs(snap, cfg, ev.roles)

	inputValue, err := toValue(reflect.ValueOf(snap))
	if err != nil {
		return nil, fmt.Errorf("convert snapshot for evaluation: %w", err)
	}
	input := inputValue.(ast.Object)
	paramsRaw, _ := json.Marshal(cfg.Params)
	_ = json.Unmarshal(paramsRaw, &ev.params)
	// The buckets of each scope (as indexes and as ARNs) are computed here once rather than by a
	// Rego function call per bucket in every check (see policies/lib/resource.rego).
	scopes := map[string][]any{"all": {}, "backup": {}}
	scopeARNs := map[string][]any{"all": {}, "backup": {}}
	addTo := func(scope string, i int, arn string) {
		scopes[scope] = append(scopes[scope], i)
		scopeARNs[scope] = append(scopeARNs[scope], arn)
	}
	for i, b := range snap.S3.Buckets {
		role := ev.roles[b.Name]
		addTo(role, i, b.ARN)
		if role != RoleIgnore {
			addTo("all", i, b.ARN)
		}
		if role == RolePrimary || role == RoleStandby {
			addTo("backup", i, b.ARN)
		}
	}
	coffer, err := ast.InterfaceToValue(map[string]any{
		"now":        snap.CollectedAt.UTC().Format(time.RFC3339),
		"roles":      ev.roles,
		"standby_of": pairs,
		"params":     ev.params,
		"scopes":     scopes,
		"scope_arns": scopeARNs,
	})
	if err != nil {
		return nil, fmt.Errorf("convert evaluation context: %w", err)
	}
	input.Insert(ast.StringTerm("coffer"), ast.NewTerm(coffer))
	ev.input = input
	ev.index = resourceIndex{buckets: map[string]*Bucket{}, roles: map[string]*Role{}, users: map[string]*User{}, keys: map[string]*Key{}, trails: map[string]*Trail{}}
	for i := range snap.S3.Buckets {
		b := &snap.S3.Buckets[i]
		ev.index.buckets[b.ARN] = b
		ev.index.buckets[b.Name] = b
	}
	for i := range snap.IAM.Roles {
		ev.index.roles[snap.IAM.Roles[i].ARN] = &snap.IAM.Roles[i]
	}
	for i := range snap.IAM.Users {
		ev.index.users[snap.IAM.Users[i].ARN] = &snap.IAM.Users[i]
	}
	for i := range snap.KMS.Keys {
		ev.index.keys[snap.KMS.Keys[i].ARN] = &snap.KMS.Keys[i]
	}
	for i := range snap.CloudTrail.Trails {
		ev.index.trails[snap.CloudTrail.Trails[i].ARN] = &snap.CloudTrail.Trails[i]
	}
	for _, ce := range snap.Errors {
		op := ce.Service + ":" + ce.Operation
		ev.byOp[op] = append(ev.byOp[op], ce)
	}
	return ev, nil
}

type denyEntry struct {
	Resource Resource       `json:"resource"`
	Msg      string         `json:"msg"`
	Evidence *Evidence      `json:"evidence"`
	Vars     map[string]any `json:"vars"`
}

// run evaluates one rule.
func (ev *evaluation) run(ctx context.Context, rule *loadedRule) ([]Finding, []string) {
	rs, err := rule.query.Eval(ctx, rego.EvalParsedInput(ev.input), rego.EvalGenerateJSON(astResult))
	if err == nil && len(rs) == 0 {
		err = errors.New("the query had no result (resources or deny undefined)")
	}
	if err != nil {
		msg := fmt.Sprintf("check %s could not be evaluated: %v", rule.ID, err)
		return []Finding{ev.finding(rule, ev.accountResource(), StatusError, msg, nil, nil)}, []string{msg}
	}
	return ev.assemble(rule, rs[0].Bindings["resources"], rs[0].Bindings["deny"], rs[0].Bindings["notes"])
}

// assemble turns one rule's resources, deny and notes into findings.
func (ev *evaluation) assemble(rule *loadedRule, resourcesValue, denyValue, notesValue any) ([]Finding, []string) {
	resources, err := ev.decodeResources(resourcesValue)
	if err != nil {
		msg := fmt.Sprintf("check %s returned malformed resources: %v", rule.ID, err)
		return []Finding{ev.finding(rule, ev.accountResource(), StatusError, msg, nil, nil)}, []string{msg}
	}
	denies, err := ev.decodeDenies(denyValue)
	if err != nil {
		msg := fmt.Sprintf("check %s returned malformed deny entries: %v", rule.ID, err)
		return []Finding{ev.finding(rule, ev.accountResource(), StatusError, msg, nil, nil)}, []string{msg}
	}

	notes := map[string]string{}
	if rule.hasNotes {
		entries, err := ev.decodeDenies(notesValue)
		if err != nil {
			msg := fmt.Sprintf("check %s returned malformed notes: %v", rule.ID, err)
			return []Finding{ev.finding(rule, ev.accountResource(), StatusError, msg, nil, nil)}, []string{msg}
		}
		for _, n := range entries {
			notes[n.Resource.ARN] = n.Msg
		}
	}

	inScope := make(map[string]Resource, len(resources))
	for _, r := range resources {
		inScope[r.ARN] = r
	}
	denied := map[string][]denyEntry{}
	for _, d := range denies {
		if d.Resource.ARN == "" {
			msg := fmt.Sprintf("check %s returned a deny entry without a resource ARN: %q", rule.ID, d.Msg)
			return []Finding{ev.finding(rule, ev.accountResource(), StatusError, msg, nil, nil)}, []string{msg}
		}
		denied[d.Resource.ARN] = append(denied[d.Resource.ARN], d)
		if _, ok := inScope[d.Resource.ARN]; !ok {
			inScope[d.Resource.ARN] = d.Resource
		}
	}

	errored := ev.errorsFor(rule, inScope)
	findings := make([]Finding, 0, len(inScope)+len(errored))
	for arn, msg := range errored {
		res, ok := inScope[arn]
		if !ok {
			res = msg.resource
		}
		findings = append(findings, ev.finding(rule, res, StatusError, msg.text, nil, nil))
	}
	for arn, res := range inScope {
		if _, bad := errored[arn]; bad {
			continue
		}
		ds := denied[arn]
		if len(ds) == 0 {
			msg, noted := notes[arn]
			if !noted {
				msg = fmt.Sprintf("%s: %s.", res.Name, strings.TrimSuffix(rule.Title, "."))
			}
			findings = append(findings, ev.finding(rule, res, StatusPass, msg, nil, nil))
			continue
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i].Msg < ds[j].Msg })
		msgs := make([]string, len(ds))
		vars := map[string]any{}
		for i, d := range ds {
			msgs[i] = d.Msg
			for k, v := range d.Vars {
				vars[k] = v
			}
		}
		findings = append(findings, ev.finding(rule, res, StatusFail, strings.Join(msgs, " "), ds[0].Evidence, vars))
	}
	return findings, nil
}

// renderRule fills in the remediation commands of a rule's FAIL and WAIVED findings. It runs after every rule
// has been evaluated, because the merge functions need the other failures: two checks that each
// rewrite a bucket's whole lifecycle configuration, or several buckets added to one trail's event
// selectors, must print commands that include each other's changes so they can run in any order.
func (ev *evaluation) renderRule(rule *loadedRule, findings []Finding) []string {
	var notices []string
	templates, err := rule.parseTemplates(ev.funcs())
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", rule.ID, err)}
	}
	for i := range findings {
		// Waived findings keep their commands too: they are what to run when the waiver ends.
		if findings[i].Status != StatusFail && findings[i].Status != StatusWaived {
			continue
		}
		cmds, err := ev.render(templates, &findings[i])
		if err != nil {
			notices = append(notices, fmt.Sprintf("%s on %s: remediation commands could not be rendered: %v", rule.ID, findings[i].Resource.ARN, err))
		}
		findings[i].Remediation.Commands = cmds
		if findings[i].Remediation.Fix == FixAuto && hasPlaceholder(cmds) {
			// A command with a placeholder cannot run unattended: the user must supply the value.
			findings[i].Remediation.Fix = FixManual
		}
	}
	return notices
}

type erroredResource struct {
	resource Resource
	text     string
}

// errorsFor attributes collection errors to the check's resources: a failed read that the check
// requires makes the resource ERROR; a failed listing (no resource) makes every resource of the
// check ERROR, and an account-wide resource too, since resources may be missing from scope
// altogether.
func (ev *evaluation) errorsFor(rule *loadedRule, inScope map[string]Resource) map[string]erroredResource {
	out := map[string]erroredResource{}
	add := func(target string, res Resource, reason string) {
		if prev, dup := out[target]; dup {
			reason = prev.text + "; " + reason
		}
		out[target] = erroredResource{resource: res, text: reason}
	}
	for _, op := range rule.Requires {
		for _, ce := range ev.byOp[op] {
			reason := fmt.Sprintf("could not read %s: %s failed", nameOr(ce.Resource, "the account"), op)
			if ce.Region != "" {
				reason += " in " + ce.Region
			}
			reason += fmt.Sprintf(" (%s: %s)", ce.Code, ce.Message)
			target := ce.Resource
			res, ok := inScope[target]
			if !ok {
				if b, isBucket := ev.index.buckets[target]; isBucket {
					// A bucket outside this check's scope does not make the check blind.
					res, ok = inScope[b.ARN]
					if !ok {
						continue
					}
					target = b.ARN
				}
			}
			if !ok {
				res = ev.errorResource(ce)
				target = res.ARN
			}
			add(target, res, reason)
			if ce.Resource == "" {
				// An account- or region-wide read failed (a listing, the credential report, the
				// account summary): every verdict of this check rests on data that is missing, so
				// none of its resources can PASS or FAIL. Without this, a denied
				// cloudtrail:DescribeTrails made cloudtrail-multi-region FAIL ("no trail").
				for arn, r := range inScope {
					if arn != target {
						add(arn, r, reason)
					}
				}
			}
		}
	}
	return out
}

func nameOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (ev *evaluation) accountResource() Resource {
	part := ev.snap.Account.Partition
	if part == "" {
		part = "aws"
	}
	return Resource{ARN: fmt.Sprintf("arn:%s:iam::%s:root", part, ev.snap.Account.ID), Type: "AWS::::Account", Name: ev.snap.Account.ID, Region: nameOr(ev.snap.Account.HomeRegion, "global")}
}

// errorResource names what a failed call was about when it is not a resource in scope.
func (ev *evaluation) errorResource(ce CollectError) Resource {
	if ce.Resource == "" {
		r := ev.accountResource()
		if ce.Region != "" {
			r.ARN = fmt.Sprintf("arn:%s:%s:%s:%s:*", nameOr(ev.snap.Account.Partition, "aws"), ce.Service, ce.Region, ev.snap.Account.ID)
			r.Type = "AWS::" + strings.ToUpper(ce.Service) + "::Region"
			r.Name = ce.Service + " in " + ce.Region
			r.Region = ce.Region
		}
		return r
	}
	return Resource{ARN: ce.Resource, Type: "AWS::" + strings.ToUpper(ce.Service) + "::Resource", Name: lastSegment(ce.Resource), Region: nameOr(ce.Region, "global")}
}

func lastSegment(arn string) string {
	if i := strings.LastIndexAny(arn, ":/"); i >= 0 && i < len(arn)-1 {
		return arn[i+1:]
	}
	return arn
}

func (ev *evaluation) finding(rule *loadedRule, res Resource, status Status, msg string, evidence *Evidence, vars map[string]any) Finding {
	if res.Type == "AWS::S3::Bucket" && res.Role == "" {
		res.Role = ev.roles[res.Name]
	}
	return Finding{
		CheckID: rule.ID, Title: rule.Title, Severity: rule.Severity, Status: status, Resource: res,
		Message: msg, Evidence: evidence, Frameworks: rule.Frameworks, Vars: vars,
		Remediation: Remediation{Summary: rule.Remediation.Summary, Commands: []string{}, Fix: rule.Remediation.Fix},
	}
}

// CommandData is what remediation templates see (docs/writing-checks.md).
type CommandData struct {
	AccountID string
	Partition string
	Resource  Resource
	Bucket    *Bucket
	Role      *Role
	User      *User
	Key       *Key
	Trail     *Trail
	Snapshot  *Snapshot
	Params    map[string]any
	Fix       FixSettings
	Vars      map[string]any
}

func (ev *evaluation) render(templates []*template.Template, f *Finding) ([]string, error) {
	data := CommandData{
		AccountID: ev.snap.Account.ID, Partition: nameOr(ev.snap.Account.Partition, "aws"), Resource: f.Resource,
		Bucket: ev.index.buckets[f.Resource.ARN], Role: ev.index.roles[f.Resource.ARN], User: ev.index.users[f.Resource.ARN],
		Key: ev.index.keys[f.Resource.ARN], Trail: ev.index.trails[f.Resource.ARN],
		Snapshot: ev.snap, Params: ev.params, Fix: ev.fix.ForRegion(f.Resource.Region), Vars: f.Vars,
	}
	if data.Vars == nil {
		data.Vars = map[string]any{}
	}
	lines, err := renderLines(templates, data)
	cmds := make([]string, len(lines))
	for i, l := range lines {
		cmds[i] = l.Text
		if ev.onCommandLine != nil {
			ev.onCommandLine(f.CheckID, l)
		}
	}
	return cmds, err
}

// renderLines renders the templates into command lines. A template whose function refuses to
// rewrite a configuration it cannot carry over exactly (RefusedRewrite) prints a one-line note
// saying so instead of its command.
func renderLines(templates []*template.Template, data CommandData) ([]shellcmd.Line, error) {
	lines := []shellcmd.Line{}
	var errs []error
	for _, t := range templates {
		var sb strings.Builder
		if err := t.Execute(&sb, data); err != nil {
			var refused *RefusedRewrite
			if errors.As(err, &refused) {
				lines = append(lines, shellcmd.Line{Text: shellcmd.Note("not printed: " + refused.Error()), Note: true})
				continue
			}
			errs = append(errs, err)
			continue
		}
		out, err := shellcmd.Lines(sb.String())
		if err != nil {
			errs = append(errs, fmt.Errorf("template %s: %w", t.Name(), err))
			continue
		}
		lines = append(lines, out...)
	}
	return lines, errors.Join(errs...)
}

var placeholderRE = regexp.MustCompile(`<[A-Z][A-Z0-9_]*>`)

func hasPlaceholder(cmds []string) bool {
	for _, c := range cmds {
		if placeholderRE.MatchString(c) {
			return true
		}
	}
	return false
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

// decodeDenies reads the `deny` (or `notes`) set.
func (ev *evaluation) decodeDenies(v any) ([]denyEntry, error) {
	set, ok := v.(ast.Set)
	if !ok {
		return nil, fmt.Errorf("deny is %s, want a set", typeName(v))
	}
	out := make([]denyEntry, 0, set.Len())
	err := set.Iter(func(item *ast.Term) error {
		obj, ok := item.Value.(ast.Object)
		if !ok {
			return fmt.Errorf("deny entry %v is not an object", item)
		}
		resource := obj.Get(ast.InternedTerm("resource"))
		if resource == nil {
			return fmt.Errorf("deny entry %v has no resource", item)
		}
		res, err := ev.decodeResource(resource.Value)
		if err != nil {
			return fmt.Errorf("deny entry %v: %w", item, err)
		}
		d := denyEntry{Resource: res, Msg: stringField(obj, "msg")}
		if e, ok := valueField(obj, "evidence").(ast.Object); ok {
			value, err := goValue(valueField(e, "value"))
			if err != nil {
				return fmt.Errorf("deny entry %v: evidence: %w", item, err)
			}
			d.Evidence = &Evidence{Path: stringField(e, "path"), Value: jsonValue(value)}
		}
		if vars, ok := valueField(obj, "vars").(ast.Object); ok {
			converted, err := goValue(vars)
			if err != nil {
				return fmt.Errorf("deny entry %v: vars: %w", item, err)
			}
			d.Vars, _ = converted.(map[string]any)
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

// jsonValue turns OPA's json.Number into a plain number so evidence marshals as JSON numbers.
func jsonValue(v any) any {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
		f, _ := n.Float64()
		return f
	}
	return v
}
