// Package fix plans and applies remediations for FAIL findings (DESIGN §8): a Plan lists every
// change with its before and after configuration and the equivalent AWS CLI command; Apply makes
// the changes through the SDK, re-reading each configuration live and merging into it, and keeps
// a journal a user can undo by hand from. Run is the whole `scan --fix` flow — plan, confirm,
// apply, re-scan, verify — with the confirmation, the clients and the re-scan injected.
//
// Safety rules every fixer follows: auto fixes only add hardening; opt-in fixes run only when
// named; manual ones never run. Nothing is ever deleted (objects, versions, keys, trails,
// policies, principals): access changes are detaches and deactivations. Object Lock is only ever
// set in GOVERNANCE mode. A fixer whose live re-read shows the configuration is already fine
// makes no call.
package fix

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/coffer-audit/coffer/checks"
)

// IncludeAllOptIn names every opt-in check in --fix-include.
const IncludeAllOptIn = "all-opt-in"

// Plan is what --fix will do: the changes in the order they are applied, and the failing findings
// it leaves to the user.
type Plan struct {
	AccountID string     `json:"account_id"`
	Changes   []*Change  `json:"changes"`
	NotFixed  []NotFixed `json:"not_fixed"`
}

// Change is one remediation of one finding.
type Change struct {
	// N numbers the change in the plan, from 1.
	N        int             `json:"n"`
	CheckID  string          `json:"check_id"`
	Fix      checks.FixClass `json:"fix"`
	Resource checks.Resource `json:"resource"`
	// Target is what the change modifies, when it is not the finding's resource (the trail that
	// gets a bucket's data events). Changes to one target run one after the other.
	Target      string `json:"target"`
	Description string `json:"description"`
	// Before and After are the configuration as the snapshot shows it and as the change leaves it
	// (the journal records what was really read and written).
	Before   any      `json:"before"`
	After    any      `json:"after"`
	APICalls []string `json:"api_calls"`
	Commands []string `json:"commands"`
	// DependsOn are the numbers of changes that must succeed first.
	DependsOn []int    `json:"depends_on,omitempty"`
	Notes     []string `json:"notes,omitempty"`

	phase, order int
	region       string
	needsKey     string // ARN of a KMS key this change makes a bucket or trail use
	ownCommands  bool   // Commands describe this change better than the finding's commands
	apply        applyFunc
	// rewrites names the whole configuration the change rewrites ("lifecycle"), and after computes
	// its After from the configuration before it, so that a change that follows another one to the
	// same configuration shows the state that one leaves (see chain).
	rewrites string
	after    func(before any) (any, error)
}

// NotFixed is a failing finding --fix leaves alone, with why and the commands to run by hand.
type NotFixed struct {
	CheckID  string          `json:"check_id"`
	Severity checks.Severity `json:"severity"`
	Fix      checks.FixClass `json:"fix"`
	Resource checks.Resource `json:"resource"`
	Reason   string          `json:"reason"`
	Commands []string        `json:"commands"`
}

// applyFunc re-reads the live configuration and changes it when needed. It returns what it saw and
// wrote (also on error, so the journal is complete).
type applyFunc func(ctx context.Context, cl *Clients, acct string) (*execution, error)

// execution is what one change did: the live configuration before and after, and the mutating
// calls it made (none when the live configuration was already fine).
type execution struct {
	Before any
	After  any
	Calls  []string
}

func (e *execution) call(op string) { e.Calls = append(e.Calls, op) }

// fixer plans the change for one check's FAIL finding.
type fixer struct {
	// phase orders changes across resources: account-wide settings and KMS keys (phase 0) come
	// before the buckets and trails that depend on them (phase 1).
	phase int
	// order sorts the changes of one target: versioning before Object Lock, and so on.
	order int
	// plan returns the change, or a reason the finding cannot be fixed automatically.
	plan func(pc *planContext, f *checks.Finding) (*Change, string)
}

// fixers are the remediations coffer knows, by check id (DESIGN §4).
var fixers = map[string]fixer{
	"s3-account-public-access-block": {phase: 0, order: 0, plan: planAccountBPA},
	"kms-key-in-use-healthy":         {phase: 0, order: 10, plan: planKeyHealthy},
	"kms-key-rotation":               {phase: 0, order: 20, plan: planKeyRotation},
	"iam-password-policy":            {phase: 0, order: 30, plan: planPasswordPolicy},
	"s3-bucket-public-access-block":  {phase: 1, order: 10, plan: planBucketBPA},
	"s3-bucket-versioning":           {phase: 1, order: 20, plan: planVersioning},
	"s3-bucket-object-lock":          {phase: 1, order: 30, plan: planObjectLock},
	"s3-bucket-acls-disabled":        {phase: 1, order: 40, plan: planOwnership},
	"s3-bucket-default-encryption":   {phase: 1, order: 50, plan: planDefaultEncryption},
	"s3-bucket-kms-cmk":              {phase: 1, order: 55, plan: planBucketCMK},
	"s3-bucket-tls-only":             {phase: 1, order: 60, plan: planTLSOnly},
	"s3-bucket-lifecycle-archive":    {phase: 1, order: 70, plan: planLifecycleArchive},
	"s3-bucket-lifecycle-hygiene":    {phase: 1, order: 75, plan: planLifecycleHygiene},
	"s3-bucket-access-logging":       {phase: 1, order: 80, plan: planAccessLogging},
	"iam-no-s3-full-access":          {phase: 1, order: 10, plan: planDetachFullAccess},
	"iam-unused-credentials":         {phase: 1, order: 20, plan: planDeactivateKeys},
	"iam-backup-role-mfa":            {phase: 1, order: 30, plan: planTrustMFA},
	"cloudtrail-multi-region":        {phase: 1, order: 10, plan: planMultiRegion},
	"cloudtrail-log-validation":      {phase: 1, order: 20, plan: planLogValidation},
	"cloudtrail-kms-encryption":      {phase: 1, order: 30, plan: planTrailKMS},
	"cloudtrail-s3-data-events":      {phase: 1, order: 40, plan: planDataEvents},
}

// Fixable lists the check ids coffer has a fixer for, sorted.
func Fixable() []string { return checks.SortedKeys(fixers) }

// NewPlan builds the changes for the report's FAIL findings: every auto fix, and the opt-in fixes
// named in include (IncludeAllOptIn for all). An id in include that is not an opt-in check of the
// report is an error. Failing findings that are not fixed are listed with their commands.
func NewPlan(report *checks.Report, snap *checks.Snapshot, cfg *checks.Config, include []string) (*Plan, error) {
	if cfg == nil {
		cfg = checks.DefaultConfig()
	}
	included, err := resolveInclude(report, include)
	if err != nil {
		return nil, err
	}
	pc := newPlanContext(snap, cfg)
	for _, f := range report.Findings {
		if f.CheckID == "kms-key-in-use-healthy" && f.Status == checks.StatusFail &&
			(f.Remediation.Fix == checks.FixAuto || f.Remediation.Fix == checks.FixOptIn && included[f.CheckID]) {
			pc.healing[f.Resource.ARN] = true
		}
	}
	plan := &Plan{AccountID: snap.Account.ID}
	for i := range report.Findings {
		f := &report.Findings[i]
		if f.Status != checks.StatusFail {
			continue
		}
		notFixed := func(reason string, commands []string) {
			plan.NotFixed = append(plan.NotFixed, NotFixed{
				CheckID: f.CheckID, Severity: f.Severity, Fix: f.Remediation.Fix, Resource: f.Resource,
				Reason: reason, Commands: nonNil(commands),
			})
		}
		switch f.Remediation.Fix {
		case checks.FixManual:
			reason := "manual fix"
			if rule, ok := report.RuleByID(f.CheckID); ok && rule.Remediation.Fix != checks.FixManual {
				reason = "needs a value coffer.yaml does not give (see the placeholder in the commands)"
				if settings := placeholderSettings(f.Remediation.Commands, f.Resource.Region); len(settings) > 0 {
					reason = "needs a value coffer.yaml does not give: set " + strings.Join(settings, " and ")
				}
			}
			notFixed(reason, f.Remediation.Commands)
			continue
		case checks.FixOptIn:
			if !included[f.CheckID] {
				notFixed("opt-in: add --fix-include "+f.CheckID+" to apply", f.Remediation.Commands)
				continue
			}
		case checks.FixAuto:
		default:
			notFixed(fmt.Sprintf("unknown fix class %q", f.Remediation.Fix), f.Remediation.Commands)
			continue
		}
		fx, ok := fixers[f.CheckID]
		if !ok {
			notFixed("coffer has no automatic fix for this check", f.Remediation.Commands)
			continue
		}
		ch, reason := fx.plan(pc, f)
		if ch == nil {
			notFixed(reason, f.Remediation.Commands)
			continue
		}
		ch.CheckID, ch.Fix, ch.Resource = f.CheckID, f.Remediation.Fix, f.Resource
		ch.phase, ch.order = fx.phase, fx.order
		if ch.Target == "" {
			ch.Target = f.Resource.ARN
		}
		if ch.region == "" {
			ch.region = f.Resource.Region
		}
		// The finding's commands are rendered merge-aware across findings (two changes to one
		// trail or lifecycle print the same combined configuration), so they are preferred unless
		// the fixer does something narrower than the rule's commands (detach only, keep a key).
		if !ch.ownCommands && len(f.Remediation.Commands) > 0 {
			ch.Commands = f.Remediation.Commands
		}
		ch.Commands = nonNil(ch.Commands)
		plan.Changes = append(plan.Changes, ch)
		if reason != "" {
			// A partial fix: the rest of the finding is the user's.
			notFixed(reason, f.Remediation.Commands)
		}
	}
	plan.supersede()
	plan.order()
	plan.chain()
	plan.link(pc)
	sort.SliceStable(plan.NotFixed, func(i, j int) bool {
		a, b := plan.NotFixed[i], plan.NotFixed[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.CheckID != b.CheckID {
			return a.CheckID < b.CheckID
		}
		return a.Resource.ARN < b.Resource.ARN
	})
	return plan, nil
}

func resolveInclude(report *checks.Report, include []string) (map[string]bool, error) {
	optIn := map[string]bool{}
	for _, r := range report.Rules {
		if r.Remediation.Fix == checks.FixOptIn {
			optIn[r.ID] = true
		}
	}
	out := map[string]bool{}
	for _, id := range include {
		id = strings.TrimSpace(id)
		switch {
		case id == IncludeAllOptIn:
			for k := range optIn {
				out[k] = true
			}
		case optIn[id]:
			out[id] = true
		default:
			if rule, ok := report.RuleByID(id); ok {
				return nil, fmt.Errorf("--fix-include %s: the check's fix is %s, not opt-in (opt-in checks: %s)", id, rule.Remediation.Fix, strings.Join(checks.SortedKeys(optIn), ", "))
			}
			return nil, fmt.Errorf("--fix-include %s: no such check (opt-in checks: %s, or %s)", id, strings.Join(checks.SortedKeys(optIn), ", "), IncludeAllOptIn)
		}
	}
	return out, nil
}

// supersede drops a bucket's SSE-S3 default-encryption change when the same bucket gets SSE-KMS
// from s3-bucket-kms-cmk: that change satisfies both checks, and applying both would write the
// bucket's encryption twice.
func (p *Plan) supersede() {
	cmk := map[string]bool{}
	for _, c := range p.Changes {
		if c.CheckID == "s3-bucket-kms-cmk" {
			cmk[c.Target] = true
		}
	}
	kept := p.Changes[:0]
	for _, c := range p.Changes {
		if c.CheckID == "s3-bucket-default-encryption" && cmk[c.Target] {
			continue
		}
		kept = append(kept, c)
	}
	p.Changes = kept
}

// order sorts the changes into application order and numbers them.
func (p *Plan) order() {
	sort.SliceStable(p.Changes, func(i, j int) bool {
		a, b := p.Changes[i], p.Changes[j]
		if a.phase != b.phase {
			return a.phase < b.phase
		}
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		if a.order != b.order {
			return a.order < b.order
		}
		return a.Resource.ARN < b.Resource.ARN
	})
	for i, c := range p.Changes {
		c.N = i + 1
	}
}

// chain makes the Before of a change that rewrites the configuration an earlier change of the plan
// rewrites too (a bucket's archive and hygiene lifecycle rules) the After of that change, as it
// will be when the change runs: each change then shows what it adds to the other.
func (p *Plan) chain() {
	last := map[[2]string]*Change{}
	for _, c := range p.Changes {
		if c.rewrites == "" || c.after == nil {
			continue
		}
		key := [2]string{c.Target, c.rewrites}
		if prev := last[key]; prev != nil {
			if after, err := c.after(prev.After); err == nil {
				c.Before, c.After = prev.After, after
			}
		}
		last[key] = c
	}
}

// link records dependencies: Object Lock needs the bucket's versioning change, and encryption with
// a key needs that key's enable/cancel-deletion change.
func (p *Plan) link(pc *planContext) {
	keyFix := map[string]int{}
	versioning := map[string]int{}
	for _, c := range p.Changes {
		switch c.CheckID {
		case "kms-key-in-use-healthy":
			keyFix[c.Target] = c.N
		case "s3-bucket-versioning":
			versioning[c.Target] = c.N
		}
	}
	for _, c := range p.Changes {
		if c.CheckID == "s3-bucket-object-lock" {
			if n, ok := versioning[c.Target]; ok {
				c.DependsOn = append(c.DependsOn, n)
			}
		}
		if c.needsKey != "" {
			if n, ok := keyFix[c.needsKey]; ok {
				c.DependsOn = append(c.DependsOn, n)
			} else if k := pc.keys.byARN[c.needsKey]; k != nil && k.State != "Enabled" {
				c.Notes = append(c.Notes, fmt.Sprintf("key %s is %s and no change in this plan enables it", k.ARN, k.State))
			}
		}
	}
}

// Write prints the plan for a person to read before confirming.
func (p *Plan) Write(w io.Writer) error {
	ew := &errWriter{w: w}
	optIn := 0
	for _, c := range p.Changes {
		if c.Fix == checks.FixOptIn {
			optIn++
		}
	}
	ew.printf("Fix plan for account %s: %d change%s", p.AccountID, len(p.Changes), plural(len(p.Changes)))
	if optIn > 0 {
		ew.printf(" (%d opt-in)", optIn)
	}
	ew.printf(", %d failing finding%s not fixed.\n", len(p.NotFixed), plural(len(p.NotFixed)))
	for _, c := range p.Changes {
		ew.printf("\n%3d. %s  %s", c.N, c.CheckID, c.Resource.ARN)
		if c.Fix == checks.FixOptIn {
			ew.printf("  [opt-in]")
		}
		ew.printf("\n     %s\n", c.Description)
		if c.Target != c.Resource.ARN {
			ew.printf("     changes:  %s\n", c.Target)
		}
		ew.printf("     calls:    %s\n", strings.Join(c.APICalls, ", "))
		ew.printf("     before:   %s\n", showJSON(c.Before))
		ew.printf("     after:    %s\n", showJSON(c.After))
		if len(c.DependsOn) > 0 {
			ew.printf("     after change %s succeeds\n", joinInts(c.DependsOn))
		}
		for _, n := range c.Notes {
			ew.printf("     note:     %s\n", n)
		}
		for i, cmd := range c.Commands {
			label := "cli:     "
			if i > 0 {
				label = "         "
			}
			ew.printf("     %s %s\n", label, cmd)
		}
	}
	if len(p.NotFixed) > 0 {
		ew.printf("\nNot fixed — run these commands yourself:\n")
		for _, n := range p.NotFixed {
			ew.printf("\n  - %s %s  %s\n    %s\n", n.Severity, n.CheckID, n.Resource.ARN, n.Reason)
			for _, cmd := range n.Commands {
				ew.printf("      %s\n", cmd)
			}
		}
	}
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func showJSON(v any) string {
	if v == nil {
		return "(none)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ", ")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// placeholderSettings names the coffer.yaml settings that fill the placeholders of commands for a
// resource in region.
func placeholderSettings(commands []string, region string) []string {
	all := strings.Join(commands, "\n")
	var out []string
	for _, p := range []struct{ placeholder, setting string }{
		{"<KMS_KEY_ARN>", "fix.kms_keys." + region + " (or fix.kms_key)"},
		{"<LOG_BUCKET>", "fix.log_bucket"},
		{"<TRAIL_LOG_BUCKET>", "fix.trail.bucket"},
	} {
		if strings.Contains(all, p.placeholder) {
			out = append(out, p.setting)
		}
	}
	return out
}
