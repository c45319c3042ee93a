package fix

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/coffer-audit/coffer/checks"
)

// RunOutcome says how a fix run ended without an error.
type RunOutcome string

// Run outcomes.
const (
	RunDryRun       RunOutcome = "dry-run"        // the plan was printed; nothing was changed
	RunNothingToFix RunOutcome = "nothing-to-fix" // the plan has no change
	RunDeclined     RunOutcome = "declined"       // the confirmation said no; nothing was changed
	RunApplied      RunOutcome = "applied"        // the plan was applied and the account re-scanned
)

// Confirm asks whether to apply plan: true applies it, false declines. An error means it could
// not ask (no terminal); the run stops with it, having changed nothing.
type Confirm func(ctx context.Context, plan *Plan) (bool, error)

// ConfirmYes applies without asking (--yes).
func ConfirmYes(context.Context, *Plan) (bool, error) { return true, nil }

// Prompt asks on out and reads the answer from in: "y" or "yes" (any case) applies, anything else,
// an empty line or the end of the input declines.
func Prompt(in io.Reader, out io.Writer) Confirm {
	return func(_ context.Context, plan *Plan) (bool, error) {
		if _, err := fmt.Fprintf(out, "\nApply these %d changes to account %s? [y/N] ", len(plan.Changes), plan.AccountID); err != nil {
			return false, fmt.Errorf("ask for confirmation: %w", err)
		}
		// A read error or EOF is a "no": nothing is changed without an explicit yes.
		line, _ := bufio.NewReader(in).ReadString('\n')
		ans := strings.ToLower(strings.TrimSpace(line))
		return ans == "y" || ans == "yes", nil
	}
}

// RunOptions is what a fix run needs besides the scan it fixes: how to confirm, where to keep the
// journal, and how to reach and re-scan the account. The functions are called only when needed:
// Clients, Recollect and Evaluate only once changes are confirmed.
type RunOptions struct {
	// Include names the opt-in checks to fix (IncludeAllOptIn for all).
	Include []string
	// DryRun prints the plan and stops.
	DryRun bool
	// Confirm is asked before anything is changed; required unless DryRun.
	Confirm Confirm
	// JournalPath is the journal file; "" is DefaultJournalPath at Now.
	JournalPath string
	// Now is the clock of the journal (time.Now when nil).
	Now func() time.Time
	// Clients reaches the account to change it.
	Clients func(ctx context.Context) (*Clients, error)
	// Recollect reads the whole account again after the changes.
	Recollect func(ctx context.Context) (*checks.Snapshot, error)
	// Evaluate turns the new snapshot into a report, with the engine, configuration and baseline of
	// the first scan so the two compare.
	Evaluate func(ctx context.Context, snap *checks.Snapshot) (*checks.Report, error)
	// Out receives what a person follows: the plan, the progress and every change's outcome.
	Out io.Writer
}

// RunResult is how a fix run ended: what the CLI prints last, reports and turns into an exit code.
type RunResult struct {
	Outcome RunOutcome
	Plan    *Plan
	// Before is the report the run started from; After the re-scan's (RunApplied only).
	Before, After *checks.Report
	// Applied is the outcome of every change (RunApplied only, and with an error after changes
	// were attempted).
	Applied *Result
	// JournalPath is the journal's file once changes were attempted.
	JournalPath string
	// Verification compares Before and After (RunApplied only).
	Verification *Verification
}

// Report is the state to report: the re-scan after changes, else the first scan.
func (r *RunResult) Report() *checks.Report {
	if r.After != nil {
		return r.After
	}
	return r.Before
}

// ExitCode is the gate of DESIGN §5 on Report, and 1 when a change failed or was skipped, even if
// the gate passes: the user asked for a fix that did not happen.
func (r *RunResult) ExitCode(failOn checks.Severity) int {
	if r.Applied != nil && r.Applied.Failed() > 0 {
		return 1
	}
	return r.Report().ExitCode(failOn)
}

// WriteSummary prints the end of the run: that nothing was changed and why, or the verification
// of the re-scan and the gate's exit code of the state after the fix.
func (r *RunResult) WriteSummary(w io.Writer, failOn checks.Severity) error {
	ew := &errWriter{w: w}
	switch r.Outcome {
	case RunDryRun:
		ew.printf("\nDry run: nothing was changed.\n")
	case RunNothingToFix:
		ew.printf("\nNothing to fix automatically.\n")
	case RunDeclined:
		ew.printf("Not applied: nothing was changed.\n")
	case RunApplied:
		if r.Verification != nil {
			if err := r.Verification.Write(w); err != nil {
				return err
			}
		}
		ew.printf("Exit code of the state after the fix (--fail-on %s): %d.\n", failOn, r.After.ExitCode(failOn))
	}
	return ew.err
}

// DefaultJournalPath is the journal's file when none is given: coffer-fix-<UTC time>.json in the
// working directory.
func DefaultJournalPath(now time.Time) string {
	return "coffer-fix-" + now.UTC().Format("20060102T150405Z") + ".json"
}

// Run is `scan --fix` after the first scan (DESIGN §8): it plans the remediations of report's FAIL
// findings, prints the plan, stops there on a dry run or an empty plan, asks opts.Confirm, applies
// the plan with a journal, then re-collects the whole account and re-evaluates it — simpler and as
// trustworthy as re-reading only what changed, for the cost of one more scan — and compares the
// two reports with checks.DiffReports. It refuses an account other than account.expected_id (Config.CheckAccount).
//
// An error before anything was changed leaves the account as it was and returns a nil result. An
// error after changes were attempted (interrupted, the journal unwritable, the re-scan failed)
// says so and returns the result so far, whose Applied and JournalPath say what was done.
func Run(ctx context.Context, snap *checks.Snapshot, report *checks.Report, cfg *checks.Config, opts RunOptions) (*RunResult, error) {
	if cfg == nil {
		cfg = checks.DefaultConfig()
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	acct := snap.Account.ID
	if err := cfg.CheckAccount(acct); err != nil {
		return nil, fmt.Errorf("refusing to fix: %w", err)
	}
	plan, err := NewPlan(report, snap, cfg, opts.Include)
	if err != nil {
		return nil, err // NewPlan's errors name the --fix-include value at fault
	}
	if err := plan.Write(out); err != nil {
		return nil, fmt.Errorf("print the fix plan: %w", err)
	}
	res := &RunResult{Plan: plan, Before: report}
	switch {
	case opts.DryRun:
		res.Outcome = RunDryRun
		return res, nil
	case len(plan.Changes) == 0:
		res.Outcome = RunNothingToFix
		return res, nil
	case opts.Confirm == nil:
		return nil, errors.New("no way to confirm the plan was given")
	}
	ok, err := opts.Confirm(ctx, plan)
	if err != nil {
		return nil, err // the confirmer says why it could not ask
	}
	if !ok {
		res.Outcome = RunDeclined
		return res, nil
	}

	now := opts.Now
	if now == nil {
		now = time.Now
	}
	journalPath := opts.JournalPath
	if journalPath == "" {
		journalPath = DefaultJournalPath(now())
	}
	// Clients first: when they cannot be built, no empty journal is left behind.
	clients, err := opts.Clients(ctx)
	if err != nil {
		return nil, fmt.Errorf("reach account %s to fix it: %w", acct, err)
	}
	journal, err := CreateJournal(journalPath, acct, now)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "\nApplying %d changes (journal: %s)...\n", len(plan.Changes), journal.Path())
	res.Applied = Apply(ctx, plan, clients, journal)
	res.JournalPath = journal.Path()
	if err := res.Applied.Write(out); err != nil {
		return res, fmt.Errorf("print the fix result: %w", err)
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("fix interrupted; the journal %s says what was changed: %w", journal.Path(), ctx.Err())
	}
	if res.Applied.JournalError != nil {
		return res, fmt.Errorf("%w; the changes listed as applied above were made", res.Applied.JournalError)
	}

	fmt.Fprintln(out, "\nRe-scanning the account to verify...")
	after, err := opts.Recollect(ctx)
	if err != nil {
		return res, fmt.Errorf("the changes above were made (journal %s) but the re-scan failed, so the state after is unknown: %w", journal.Path(), err)
	}
	if after.Account.ID != acct {
		return res, fmt.Errorf("the re-scan reached account %s, not %s", after.Account.ID, acct)
	}
	afterReport, err := opts.Evaluate(ctx, after)
	if err != nil {
		return res, fmt.Errorf("evaluate after fixing: %w", err)
	}
	v, err := Verify(report, afterReport)
	if err != nil {
		return res, fmt.Errorf("compare the scans before and after fixing: %w", err)
	}
	res.Outcome, res.After, res.Verification = RunApplied, afterReport, v
	return res, nil
}

// Verification is what the re-scan says about a fix, by (check, resource).
type Verification struct {
	// Fixed failed before and pass (or are gone) after.
	Fixed []checks.FindingChange
	// StillFailing fail before and after.
	StillFailing []checks.Finding
	// NewFailures fail after but did not before.
	NewFailures []checks.FindingChange
	// Unverified failed before and could not be evaluated after (ERROR).
	Unverified []checks.FindingChange
}

// Verify compares the reports before and after a fix with checks.DiffReports: its resolved
// findings are the fixed ones, its new failures those failing now but not before, and the FAIL
// findings after that are not new are the ones still failing.
func Verify(before, after *checks.Report) (*Verification, error) {
	d, err := checks.DiffReports(before, after)
	if err != nil {
		return nil, err
	}
	v := &Verification{Fixed: d.Resolved, NewFailures: d.NewFailures}
	isNew := make(map[checks.FindingKey]bool, len(d.NewFailures))
	for _, fc := range d.NewFailures {
		isNew[fc.Key()] = true
	}
	for _, f := range after.Findings {
		if f.Status == checks.StatusFail && !isNew[after.KeyOf(&f)] {
			v.StillFailing = append(v.StillFailing, f)
		}
	}
	for _, fc := range d.Changed {
		if fc.Before == checks.StatusFail && fc.After == checks.StatusError {
			v.Unverified = append(v.Unverified, fc)
		}
	}
	return v, nil
}

// Write prints the verification for a person: counts, then one line per finding.
func (v *Verification) Write(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("Fixed: %d finding%s.\n", len(v.Fixed), plural(len(v.Fixed)))
	for _, fc := range v.Fixed {
		state := "PASS"
		if fc.After == "" {
			state = "gone"
		}
		ew.printf("  %-4s  %s %s\n", state, fc.CheckID, fc.Resource.ARN)
	}
	ew.printf("Still failing: %d.\n", len(v.StillFailing))
	for _, f := range v.StillFailing {
		ew.printf("  FAIL  %s %s %s\n", f.Severity, f.CheckID, f.Resource.ARN)
	}
	if len(v.NewFailures) > 0 {
		ew.printf("Failing now but not before: %d.\n", len(v.NewFailures))
		for _, fc := range v.NewFailures {
			ew.printf("  FAIL  %s %s %s\n", fc.Severity, fc.CheckID, fc.Resource.ARN)
		}
	}
	if len(v.Unverified) > 0 {
		ew.printf("Failing before, not evaluated after (ERROR): %d.\n", len(v.Unverified))
		for _, fc := range v.Unverified {
			ew.printf("  ERROR %s %s %s\n", fc.Severity, fc.CheckID, fc.Resource.ARN)
		}
	}
	return ew.err
}
