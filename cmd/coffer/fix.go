package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/collect"
	"github.com/coffer-audit/coffer/checks/fix"
	"github.com/coffer-audit/coffer/reporters"
)

// fixRun is everything scan hands to --fix: the first evaluation and what is needed to re-scan.
type fixRun struct {
	flags         *scanFlags
	outputs       []output
	reportOptions reporters.Options
	failOn        checks.Severity
	config        *checks.Config
	engine        *checks.Engine
	snapshot      *checks.Snapshot
	report        *checks.Report
	// baseline, when set, is applied to the re-scan too, so the exit code after the fix follows the
	// same gate as the scan before it.
	baseline *checks.Report
}

// stdinIsTerminal says whether a confirmation can be asked for; tests replace it.
var stdinIsTerminal = func(r io.Reader) bool { return isTerminal(r) }

// fix plans the remediations of the scan's FAIL findings, prints the plan, asks for confirmation,
// applies it, then re-collects the whole account and re-evaluates it with the same engine and
// configuration. The reports written and the exit code are those of the state after the fix (1
// also when a change failed).
func (a *app) fix(ctx context.Context, run fixRun) error {
	ff := run.flags.fix
	acct := run.snapshot.Account.ID
	if want := run.config.Account.ExpectedID; want != "" && want != acct {
		return usageErrorf("refusing to fix account %s: account.expected_id in %s is %s", acct, run.config.Source, want)
	}
	plan, err := fix.NewPlan(run.report, run.snapshot, run.config, ff.include)
	if err != nil {
		return usageError(err)
	}
	// The plan goes where a person reads it: stderr while stdout carries a report, stdout when
	// every report goes to a file.
	out := a.stderr
	if allToFiles(run.outputs) {
		out = a.stdout
	}
	if err := plan.Write(out); err != nil {
		return fmt.Errorf("print the fix plan: %w", err)
	}

	keep := func(msg string) error {
		fmt.Fprintln(out, msg)
		if err := a.writeReports(run.report, run.outputs, run.reportOptions); err != nil {
			return err
		}
		a.code = run.report.ExitCode(run.failOn)
		return nil
	}
	switch {
	case ff.dryRun:
		return keep("\nDry run: nothing was changed.")
	case len(plan.Changes) == 0:
		return keep("\nNothing to fix automatically.")
	case ff.yes:
	case stdinIsTerminal(a.stdin):
		fmt.Fprintf(out, "\nApply these %d changes to account %s? [y/N] ", len(plan.Changes), acct)
		line, _ := bufio.NewReader(a.stdin).ReadString('\n')
		if ans := strings.ToLower(strings.TrimSpace(line)); ans != "y" && ans != "yes" {
			return keep("Not applied: nothing was changed.")
		}
	default:
		return usageErrorf("refusing to change account %s without confirmation: there is no terminal to ask on; re-run with --yes to apply the plan above (or --dry-run to only print it)", acct)
	}

	journalPath := ff.journal
	if journalPath == "" {
		journalPath = "coffer-fix-" + a.now().UTC().Format("20060102T150405Z") + ".json"
	}
	journal, err := fix.CreateJournal(journalPath, acct, a.now)
	if err != nil {
		return usageError(err)
	}
	clients, err := a.fixClients(ctx, &run.flags.aws)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nApplying %d changes (journal: %s)...\n", len(plan.Changes), journal.Path())
	result := fix.Apply(ctx, plan, clients, journal)
	if err := result.Write(out); err != nil {
		return fmt.Errorf("print the fix result: %w", err)
	}
	if ctx.Err() != nil {
		return &exitError{code: exitInterrupted, err: fmt.Errorf("fix interrupted; the journal %s says what was changed: %w", journal.Path(), ctx.Err())}
	}
	if result.JournalError != nil {
		return fmt.Errorf("%w; the changes listed as applied above were made", result.JournalError)
	}

	// Verify: a full re-collect (simpler and as trustworthy as re-reading only what changed; it
	// costs one more scan) and a re-evaluation with the same engine and configuration.
	fmt.Fprintln(out, "\nRe-scanning the account to verify...")
	after, err := a.liveSnapshot(ctx, &run.flags.aws)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("the changes above were made (journal %s) but the re-scan failed, so the state after is unknown: %w", journal.Path(), err)}
	}
	if after.Account.ID != acct {
		return usageErrorf("the re-scan reached account %s, not %s", after.Account.ID, acct)
	}
	afterReport, err := run.engine.Evaluate(ctx, after, checks.EvalOptions{Config: run.config, Tool: checks.Tool{Name: "coffer", Version: toolVersion()}, Now: a.now})
	if err != nil {
		return fmt.Errorf("evaluate after fixing: %w", err)
	}
	if run.baseline != nil {
		afterReport.ApplyBaseline(run.baseline)
	}
	writeVerification(out, run.report, afterReport, run.failOn)
	if err := a.writeReports(afterReport, run.outputs, run.reportOptions); err != nil {
		return err
	}
	a.code = afterReport.ExitCode(run.failOn)
	if result.Failed() > 0 {
		a.code = exitFindings
	}
	return nil
}

// fixClients builds the SDK clients exactly as collection does (same flags, endpoint and retries).
func (a *app) fixClients(ctx context.Context, f *awsFlags) (*fix.Clients, error) {
	opts, err := a.collectOptions(f)
	if err != nil {
		return nil, err
	}
	opts.Progress = nil
	cfg, err := collect.LoadConfig(ctx, opts)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("aws configuration: %w", err)}
	}
	return fix.NewClients(cfg, opts), nil
}

func allToFiles(outs []output) bool {
	for _, o := range outs {
		if o.file == "" {
			return false
		}
	}
	return len(outs) > 0
}

// writeVerification prints what the fix changed in the findings: fixed, still failing, and new.
func writeVerification(w io.Writer, before, after *checks.Report, failOn checks.Severity) {
	key := func(f checks.Finding) string { return f.CheckID + " " + f.Resource.ARN }
	was := map[string]checks.Status{}
	for _, f := range before.Findings {
		was[key(f)] = f.Status
	}
	var fixed, still, regressed []string
	for _, f := range after.Findings {
		k := key(f)
		switch {
		case was[k] == checks.StatusFail && f.Status == checks.StatusPass:
			fixed = append(fixed, k)
		case f.Status == checks.StatusFail && was[k] == checks.StatusFail:
			still = append(still, fmt.Sprintf("%s %s", f.Severity, k))
		case f.Status == checks.StatusFail:
			regressed = append(regressed, fmt.Sprintf("%s %s", f.Severity, k))
		}
	}
	fmt.Fprintf(w, "Fixed: %d finding%s.\n", len(fixed), pluralS(len(fixed)))
	for _, s := range fixed {
		fmt.Fprintf(w, "  PASS  %s\n", s)
	}
	fmt.Fprintf(w, "Still failing: %d.\n", len(still))
	for _, s := range still {
		fmt.Fprintf(w, "  FAIL  %s\n", s)
	}
	if len(regressed) > 0 {
		fmt.Fprintf(w, "Failing now but not before: %d.\n", len(regressed))
		for _, s := range regressed {
			fmt.Fprintf(w, "  FAIL  %s\n", s)
		}
	}
	fmt.Fprintf(w, "Exit code of the state after the fix (--fail-on %s): %d.\n", failOn, after.ExitCode(failOn))
}

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
