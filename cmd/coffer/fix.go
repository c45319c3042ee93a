package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
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

// fixOrg fixes the accounts of an organisation one after the other: for each account that was
// read, its plan (grouped under the account's heading), its own confirmation (or --yes), its own
// journal, its changes made with that account's credentials (the caller's for its own account, the
// assumed role for members), and its re-scan. The reports are of the state the fixes leave.
func (a *app) fixOrg(ctx context.Context, s orgScan, f *scanFlags) error {
	ff := f.fix
	out := a.stderr
	if allToFiles(s.outputs) {
		out = a.stdout
	}
	dir, err := checks.BuildOrgDirectory(ctx, s.src, s.config.ForAccount)
	if err != nil {
		return err
	}
	collectOpts, err := a.collectOptions(&f.aws)
	if err != nil {
		return err
	}
	collectOpts.Progress = nil
	base, err := awsclient.LoadConfig(ctx, collectOpts.Options)
	if err != nil {
		return usageErrorf("aws configuration: %w", err)
	}
	orgOpts, err := a.orgOptions(&f.aws)
	if err != nil {
		return err
	}
	caller := s.src.Header().CallerAccountID
	evaluate := func(ctx context.Context, snap *checks.Snapshot) (*checks.Report, error) {
		eo := a.evalOptions(s.config.ForAccount(snap.Account.ID))
		eo.Cross = dir.For(snap.Account.ID)
		report, err := s.engine.Evaluate(ctx, snap, eo)
		if err != nil {
			return nil, err
		}
		if s.baseline != nil {
			report.ApplyBaseline(s.baseline)
		}
		return report, nil
	}

	var reports []*checks.Report
	var accounts []checks.AccountInfo
	code := exitOK
	err = s.src.Each(func(acct *checks.OrgAccount) error {
		info := checks.AccountInfo{ID: acct.ID, Name: acct.Name, Status: acct.Status, Error: acct.Error}
		if acct.Status != checks.AccountScanned {
			if acct.Status == checks.AccountError {
				code = worseExit(code, exitIncomplete)
			}
			accounts = append(accounts, info)
			return nil
		}
		before, err := evaluate(ctx, acct.Snapshot)
		if err != nil {
			return fmt.Errorf("evaluate account %s: %w", acct.ID, err)
		}
		cfg := orgOpts.AccountConfig(base, caller, acct.Snapshot.Account.Partition, acct.ID)
		fmt.Fprintf(out, "\n== Account %s%s\n", acct.ID, cmp.Or(" ("+acct.Name+")", ""))
		res, err := fix.Run(ctx, acct.Snapshot, before, s.config.ForAccount(acct.ID), fix.RunOptions{
			Include: ff.include, DryRun: ff.dryRun, Confirm: a.confirmer(ff.yes, out),
			JournalPath: accountJournal(ff.journal, acct.ID, a.now()), Now: a.now, Out: out,
			Clients: func(context.Context) (*fix.Clients, error) {
				clients := fix.NewClients(cfg, collectOpts.Options)
				clients.Concurrency = collectOpts.Concurrency
				return clients, nil
			},
			Recollect: func(ctx context.Context) (*checks.Snapshot, error) { return collect.Collect(ctx, cfg, collectOpts) },
			Evaluate:  evaluate,
		})
		if err != nil {
			if ctx.Err() != nil && res != nil && res.Applied != nil {
				return &exitError{code: exitInterrupted, err: err}
			}
			return fmt.Errorf("account %s: %w", acct.ID, err)
		}
		if err := res.WriteSummary(out, s.failOn); err != nil {
			return fmt.Errorf("print the fix outcome: %w", err)
		}
		after := res.Report()
		summary := after.Summary
		info.Summary = &summary
		accounts = append(accounts, info)
		reports = append(reports, after)
		code = worseExit(code, res.ExitCode(s.failOn))
		return nil
	})
	if err != nil {
		return err
	}
	if err := a.writeReports(checks.MergeReports(reports, accounts), s.outputs, s.options); err != nil {
		return err
	}
	a.code = code
	return nil
}

// accountJournal is the journal of one account's fixes: --journal with the account id before its
// extension, else the default name with the account id.
func accountJournal(journal, accountID string, now time.Time) string {
	if journal == "" {
		journal = fix.DefaultJournalPath(now)
	}
	ext := filepath.Ext(journal)
	return strings.TrimSuffix(journal, ext) + "-" + accountID + ext
}
