package main

import (
	"context"
	"fmt"
	"io"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
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

// fix hands the scan to fix.Run with the dependencies it needs (confirmation, journal, AWS
// clients, re-collection and re-evaluation with the scan's engine, configuration and baseline),
// then writes the reports of the state it leaves and sets the exit code from it.
func (a *app) fix(ctx context.Context, run fixRun) error {
	ff := run.flags.fix
	// The plan goes where a person reads it: stderr while stdout carries a report, stdout when
	// every report goes to a file.
	out := a.stderr
	if allToFiles(run.outputs) {
		out = a.stdout
	}
	res, err := fix.Run(ctx, run.snapshot, run.report, run.config, fix.RunOptions{
		Include:     ff.include,
		DryRun:      ff.dryRun,
		Confirm:     a.confirmer(ff.yes, out),
		JournalPath: ff.journal,
		Now:         a.now,
		Out:         out,
		Clients:     func(ctx context.Context) (*fix.Clients, error) { return a.fixClients(ctx, &run.flags.aws) },
		Recollect:   func(ctx context.Context) (*checks.Snapshot, error) { return a.liveSnapshot(ctx, &run.flags.aws) },
		Evaluate: func(ctx context.Context, snap *checks.Snapshot) (*checks.Report, error) {
			report, err := run.engine.Evaluate(ctx, snap, a.evalOptions(run.config))
			if err != nil {
				return nil, err
			}
			if run.baseline != nil {
				report.ApplyBaseline(run.baseline)
			}
			return report, nil
		},
	})
	if err != nil {
		if ctx.Err() != nil && res != nil && res.Applied != nil {
			// Interrupted after changes began: the error names the journal of what was done.
			return &exitError{code: exitInterrupted, err: err}
		}
		return err
	}
	if err := res.WriteSummary(out, run.failOn); err != nil {
		return fmt.Errorf("print the fix outcome: %w", err)
	}
	if err := a.writeReports(res.Report(), run.outputs, run.reportOptions); err != nil {
		return err
	}
	a.code = res.ExitCode(run.failOn)
	return nil
}

// confirmer is how --fix asks before changing anything: --yes applies, a terminal is asked, and
// without either the run is refused.
func (a *app) confirmer(yes bool, out io.Writer) fix.Confirm {
	switch {
	case yes:
		return fix.ConfirmYes
	case a.stdinTerminal():
		return fix.Prompt(a.stdin, out)
	}
	return func(_ context.Context, plan *fix.Plan) (bool, error) {
		return false, usageErrorf("refusing to change account %s without confirmation: there is no terminal to ask on; re-run with --yes to apply the plan above (or --dry-run to only print it)", plan.AccountID)
	}
}

// fixClients builds the SDK clients exactly as collection does (same flags, endpoint and retries).
func (a *app) fixClients(ctx context.Context, f *awsFlags) (*fix.Clients, error) {
	opts, err := a.collectOptions(f)
	if err != nil {
		return nil, err
	}
	opts.Progress = nil
	cfg, err := awsclient.LoadConfig(ctx, opts.Options)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("aws configuration: %w", err)}
	}
	clients := fix.NewClients(cfg, opts.Options)
	clients.Concurrency = opts.Concurrency
	return clients, nil
}

func allToFiles(outs []output) bool {
	for _, o := range outs {
		if o.file == "" {
			return false
		}
	}
	return len(outs) > 0
}
