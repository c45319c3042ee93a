package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/coffer-audit/coffer/checks/shellcmd"
)

// EvalOptions carries what evaluation needs besides the snapshot.
type EvalOptions struct {
	Config *Config
	Tool   Tool
	// Now is the clock for the report times and waiver expiry; time.Now when nil.
	Now func() time.Time

	// onCommandLine, when set (by tests), sees every rendered command line with its skeleton.
	onCommandLine func(checkID string, line shellcmd.Line)

	// Cross is what an organisation scan knows about this account's buckets from the other
	// accounts (OrgDirectory.For); nil for a scan of one account.
	Cross *CrossAccount
}

// now is the evaluation's clock.
func (o EvalOptions) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
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
	// The account's own settings and waivers (coffer.yaml accounts:), also in a scan of one
	// account: one coffer.yaml can serve every account's pipeline.
	cfg = cfg.ForAccount(snap.Account.ID)
	report := &Report{
		SchemaVersion: ReportSchemaVersion, Tool: opts.Tool, AccountID: snap.Account.ID,
		Regions: snap.Regions, StartedAt: now().UTC(), Rules: e.Rules(),
	}
	ev, err := newEvaluation(snap, cfg, opts.Cross)
	if err != nil {
		return nil, err
	}
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
	fix    FixSettings
	params map[string]any
	input  ast.Value
	roles  map[string]string
	index  resourceIndex
	byOp   map[string][]CollectError
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

func newEvaluation(snap *Snapshot, cfg *Config, cross *CrossAccount) (*evaluation, error) {
	ev := &evaluation{snap: snap, fix: cfg.FixSettings(), byOp: map[string][]CollectError{}}
	if cross == nil {
		cross = &CrossAccount{}
	}
	ev.roles, _ = bucketRoles(snap, cfg, cross.ReplicatedTo)
	pairs := standbyPairs(snap, cfg, ev.roles, cross)
	// The other side of a cross-account pair, for the checks that compare a primary with its
	// standby (region, replica key); never in scope here: each bucket is judged in its account.
	peers := map[string]any{}
	for name, p := range cross.Peers {
		peers[name] = p
	}

	inputValue, err := toValue(reflect.ValueOf(snap))
	if err != nil {
		return nil, fmt.Errorf("convert snapshot for evaluation: %w", err)
	}
	input := inputValue.(ast.Object)
	// Templates and Rego see the params in their JSON form (numbers as float64, as in input).
	paramsRaw, err := json.Marshal(cfg.Params)
	if err != nil {
		return nil, fmt.Errorf("encode params for evaluation: %w", err)
	}
	if err := json.Unmarshal(paramsRaw, &ev.params); err != nil {
		return nil, fmt.Errorf("decode params for evaluation: %w", err)
	}
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
		"now":          snap.CollectedAt.UTC().Format(time.RFC3339),
		"roles":        ev.roles,
		"standby_of":   pairs,
		"params":       ev.params,
		"scopes":       scopes,
		"scope_arns":   scopeARNs,
		"peer_buckets": peers,
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

	notes := map[string]denyEntry{}
	if rule.hasNotes {
		entries, err := ev.decodeNotes(notesValue)
		if err != nil {
			msg := fmt.Sprintf("check %s returned malformed notes: %v", rule.ID, err)
			return []Finding{ev.finding(rule, ev.accountResource(), StatusError, msg, nil, nil)}, []string{msg}
		}
		for _, n := range entries {
			notes[n.Resource.ARN] = n
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
			// A note explains the PASS (and may say the check does not apply); a note never turns
			// a FAIL into a PASS, so notes on denied resources are not read.
			note, noted := notes[arn]
			msg := note.Msg
			if !noted {
				msg = fmt.Sprintf("%s: %s.", res.Name, strings.TrimSuffix(rule.Title, "."))
			}
			f := ev.finding(rule, res, StatusPass, msg, nil, nil)
			f.NotApplicable = note.NotApplicable
			findings = append(findings, f)
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
	res.AccountID = ev.snap.Account.ID
	if res.Type == "AWS::S3::Bucket" && res.Role == "" {
		res.Role = ev.roles[res.Name]
	}
	return Finding{
		CheckID: rule.ID, Title: rule.Title, Severity: rule.Severity, Status: status, Resource: res,
		Message: msg, Evidence: evidence, Frameworks: rule.Frameworks, Vars: vars,
		Remediation: Remediation{Summary: rule.Remediation.Summary, Commands: []string{}, Fix: rule.Remediation.Fix},
	}
}
