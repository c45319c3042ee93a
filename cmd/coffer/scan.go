package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/atomicfile"
	"github.com/coffer-audit/coffer/policies"
	"github.com/coffer-audit/coffer/reporters"
	"github.com/spf13/cobra"
)

type scanFlags struct {
	aws        awsFlags
	snapshot   string
	config     string
	policyDirs []string
	formats    []string
	output     string
	failOn     string
	showPass   bool
	groupBy    string
	detail     bool
	reportURL  string
	category   string
	baseline   string
	fix        fixFlags

	securityHub securityHubFlags // --security-hub, --security-hub-region
}

// fixFlags are scan's remediation flags (DESIGN §8).
type fixFlags struct {
	enabled bool
	dryRun  bool
	yes     bool
	include []string
	journal string
}

func (a *app) scanCmd() *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Evaluate the account (live, or a saved snapshot) against the checks and report",
		Long: `Evaluate every check on a live account or on a snapshot written by "coffer collect".

Exit codes: 0 nothing failed at or above --fail-on; 1 a check failed; 3 nothing failed but some
checks could not be evaluated (ERROR); 2 coffer could not run.

--format is repeatable, each optionally with a file: --format table --format sarif=coffer.sarif.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.scan(cmd.Context(), &f)
		},
	}
	f.aws.register(cmd)
	f.securityHub.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.snapshot, "snapshot", "", "evaluate this snapshot instead of the live account")
	fl.StringVar(&f.config, "config", "", "coffer.yaml: bucket roles, params, fix settings, waivers")
	fl.StringArrayVar(&f.policyDirs, "policy-dir", nil, "also load the Rego checks in this folder (repeatable)")
	fl.StringArrayVar(&f.formats, "format", nil, "output format[=file]: "+strings.Join(reporters.Formats(), ", ")+" (repeatable; default table on a terminal, else json)")
	fl.StringVarP(&f.output, "output", "o", "", "write the (first) format without a file here instead of stdout")
	fl.StringVar(&f.failOn, "fail-on", "LOW", "lowest severity that fails the gate: LOW, MEDIUM, HIGH, CRITICAL")
	fl.BoolVar(&f.showPass, "show-pass", false, "list PASS findings in the table and Markdown too")
	fl.StringVar(&f.groupBy, "group-by", string(reporters.GroupByCheck), "what one entry of the table and Markdown is: "+strings.Join(reporters.GroupByNames(), ", "))
	fl.BoolVar(&f.detail, "detail", false, "one entry per finding in the table and Markdown (--group-by none)")
	fl.StringVar(&f.reportURL, "report-url", "", "where readers of the Markdown find the full report (e.g. the run's artifacts)")
	fl.StringVar(&f.baseline, "baseline", "", "JSON report of an earlier scan: its FAIL findings (same check and resource) stay in the reports but do not fail the gate")
	fl.StringVar(&f.category, "sarif-category", "", "suffix of the SARIF automationDetails id (separate GitHub categories per account or region)")
	fl.BoolVar(&f.fix.enabled, "fix", false, "plan and apply the automatic fixes for FAIL findings, then re-scan")
	fl.BoolVar(&f.fix.dryRun, "dry-run", false, "with --fix: print the plan and change nothing")
	fl.BoolVar(&f.fix.yes, "yes", false, "with --fix: apply without asking (required without a terminal)")
	fl.StringArrayVar(&f.fix.include, "fix-include", nil, "with --fix: also apply this opt-in fix (check id, repeatable; all-opt-in for all)")
	fl.StringVar(&f.fix.journal, "journal", "", "with --fix: journal file of every change (default coffer-fix-<UTC time>.json)")
	return cmd
}

// output is one report destination.
type output struct {
	format string
	file   string // "" = stdout
}

func (a *app) parseOutputs(f *scanFlags) ([]output, error) {
	specs := f.formats
	if len(specs) == 0 {
		def := reporters.FormatJSON
		if isTerminal(a.stdout) && f.output == "" {
			def = reporters.FormatTable
		}
		specs = []string{def}
	}
	var outs []output
	toStdout := 0
	outputUsed := false
	for _, spec := range specs {
		name, file, _ := strings.Cut(spec, "=")
		if _, err := reporters.New(name, reporters.Options{}); err != nil {
			return nil, usageErrorf("--format: %w", err)
		}
		if file == "" && f.output != "" && !outputUsed {
			file, outputUsed = f.output, true
		}
		if file == "" {
			toStdout++
		}
		outs = append(outs, output{format: strings.ToLower(name), file: file})
	}
	if toStdout > 1 {
		return nil, usageErrorf("--format: only one format can go to stdout; give the others a file (--format sarif=coffer.sarif)")
	}
	return outs, nil
}

func (a *app) scan(ctx context.Context, f *scanFlags) error {
	failOn, err := checks.ParseSeverity(f.failOn)
	if err != nil {
		return usageErrorf("--fail-on: %w", err)
	}
	if !f.fix.enabled && (f.fix.dryRun || f.fix.yes || len(f.fix.include) > 0 || f.fix.journal != "") {
		return usageErrorf("--dry-run, --yes, --fix-include and --journal only make sense with --fix")
	}
	if err := f.aws.org.validate(); err != nil {
		return err
	}
	if f.aws.org.enabled() && f.snapshot != "" {
		return usageErrorf("--org and --accounts read live accounts; a --snapshot of an organisation already holds its accounts")
	}
	if f.fix.enabled && f.snapshot != "" {
		return usageErrorf("--fix works on a live account, not on --snapshot")
	}
	if f.fix.enabled && f.securityHub.enabled {
		return usageErrorf("--security-hub imports a scan's findings, not those of a --fix run: scan again after fixing")
	}
	outs, err := a.parseOutputs(f)
	if err != nil {
		return err
	}
	groupBy, err := reporters.ParseGroupBy(f.groupBy)
	if err != nil {
		return usageErrorf("--group-by: %w", err)
	}
	if f.detail {
		if groupBy != reporters.GroupByCheck && groupBy != reporters.GroupByNone {
			return usageErrorf("--detail is --group-by none; give one of them")
		}
		groupBy = reporters.GroupByNone
	}
	cfg := checks.DefaultConfig()
	if f.config != "" {
		if cfg, err = checks.LoadConfig(f.config); err != nil {
			return usageError(err)
		}
	}
	baseline, err := loadBaseline(f.baseline)
	if err != nil {
		return err
	}
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS, PolicyDirs: f.policyDirs})
	if err != nil {
		return usageErrorf("load policies:\n%w", err)
	}
	var snap *checks.Snapshot
	if f.snapshot != "" {
		src, err := checks.OpenSnapshot(f.snapshot)
		if err != nil {
			return usageError(err)
		}
		if snap = src.Single(); snap == nil {
			if f.fix.enabled {
				return usageErrorf("--fix works on live accounts, not on --snapshot")
			}
			if f.securityHub.enabled {
				return usageErrorf("--security-hub imports each account's findings with the credentials that read it: scan the organisation live (--org or --accounts with --role-name), not a --snapshot of it")
			}
			return a.scanOrg(ctx, orgScan{src: src, engine: engine, config: cfg, baseline: baseline, baselineFile: f.baseline,
				outputs: outs, options: reporters.Options{Color: isTerminal(a.stdout), ShowPass: f.showPass, GroupBy: groupBy, ReportURL: f.reportURL, Category: f.category, Region: f.securityHub.region}, failOn: failOn})
		}
	} else if f.aws.org.enabled() {
		src, cleanup, err := a.liveOrg(ctx, &f.aws)
		if err != nil {
			return err
		}
		defer cleanup()
		s := orgScan{src: src, engine: engine, config: cfg, baseline: baseline, baselineFile: f.baseline,
			outputs: outs, options: reporters.Options{Color: isTerminal(a.stdout), ShowPass: f.showPass, GroupBy: groupBy, ReportURL: f.reportURL, Category: f.category, Region: f.securityHub.region}, failOn: failOn}
		if f.fix.enabled {
			return a.fixOrg(ctx, s, f)
		}
		if f.securityHub.enabled {
			if s.securityHub, err = a.newOrgImport(ctx, f, src); err != nil {
				return err
			}
		}
		return a.scanOrg(ctx, s)
	} else if snap, err = a.liveSnapshot(ctx, &f.aws); err != nil {
		return err
	}
	if err := cfg.CheckAccount(snap.Account.ID); err != nil {
		return usageError(err)
	}
	report, err := engine.Evaluate(ctx, snap, a.evalOptions(cfg))
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	if baseline != nil {
		if baseline.AccountID != report.AccountID {
			return usageErrorf("--baseline %s is a report of account %s, not %s", f.baseline, baseline.AccountID, report.AccountID)
		}
		report.ApplyBaseline(baseline)
	}
	ropts := reporters.Options{Color: isTerminal(a.stdout), ShowPass: f.showPass, GroupBy: groupBy, ReportURL: f.reportURL, Category: f.category, Region: f.securityHub.regionFor(snap)}
	if f.fix.enabled {
		return a.fix(ctx, fixRun{flags: f, outputs: outs, reportOptions: ropts, failOn: failOn, config: cfg, engine: engine, snapshot: snap, report: report, baseline: baseline})
	}
	if err := a.writeReports(report, outs, ropts); err != nil {
		return err
	}
	a.code = report.ExitCode(failOn)
	if f.securityHub.enabled {
		return a.importSecurityHub(ctx, f, report, snap)
	}
	return nil
}

func (a *app) writeReports(report *checks.Report, outs []output, opts reporters.Options) error {
	for _, o := range outs {
		if o.file == "" {
			rep, err := reporters.New(o.format, opts)
			if err != nil {
				return usageError(err)
			}
			if err := rep.Write(a.stdout, report); err != nil {
				return fmt.Errorf("write %s report: %w", o.format, err)
			}
			continue
		}
		ro := opts
		ro.Color = false // colour is for a terminal
		// One file, or several when the format splits (SARIF beyond what GitHub shows).
		files := reporters.OutputFiles(o.format, o.file, report, ro)
		for _, file := range files {
			rep, err := reporters.New(o.format, file.Options)
			if err != nil {
				return usageError(err)
			}
			if err := atomicfile.Write(file.Path, func(w io.Writer) error { return rep.Write(w, file.Report) }); err != nil {
				return fmt.Errorf("write %s report to %s: %w", o.format, file.Path, err)
			}
		}
		if notice := reporters.SplitNotice(files); notice != "" {
			fmt.Fprintf(a.stderr, "coffer: %s\n", notice)
		}
	}
	return nil
}

// orgScan is a scan of several accounts: what scanOrg needs from the flags.
type orgScan struct {
	src          checks.AccountSource
	engine       *checks.Engine
	config       *checks.Config
	baseline     *checks.Report
	baselineFile string
	outputs      []output
	options      reporters.Options
	failOn       checks.Severity
	// securityHub, when set, imports each account's findings into its Security Hub.
	securityHub *orgImport
}

// scanOrg evaluates every account of an organisation and writes one organisation report. JSON and
// SARIF are written account by account as the accounts are evaluated, so an organisation of any
// size is reported in the memory of its largest account; the formats for people (and JUnit, ASFF,
// OCSF) need the whole report and are written at the end. A SARIF file is split into files of at
// most the runs GitHub takes per upload, as a whole report's is (reporters.SARIFFiles); SARIF on
// stdout stays one log. The exit code is the worst of the
// accounts', and at least 3 when an account could not be read: an account that was not seen never
// passes.
func (a *app) scanOrg(ctx context.Context, s orgScan) error {
	type stream struct {
		out output
		w   reporters.StreamWriter
		// commit puts what was written at its path(s) and abort drops it; both nil for stdout.
		commit func() error
		abort  func()
		// notice, when set, says after the commit what was written (a SARIF split into files).
		notice func() string
	}
	var streams []stream
	var whole []output
	abortFiles := func() {
		for _, st := range streams {
			if st.abort != nil {
				st.abort()
			}
		}
	}
	abort := func() {
		if s.securityHub != nil {
			s.securityHub.abandon()
		}
		abortFiles()
	}
	for _, o := range s.outputs {
		if !slices.Contains(reporters.StreamFormats(), o.format) {
			whole = append(whole, o)
			continue
		}
		st := stream{out: o}
		opts := s.options
		switch {
		case o.file == "":
			sw, err := reporters.NewStream(o.format, a.stdout, opts)
			if err != nil {
				abort()
				return usageError(err)
			}
			st.w = sw
		case o.format == reporters.FormatSARIF:
			// Files of at most the runs GitHub takes per upload, as writeReports splits a whole
			// report, each file still written account by account.
			opts.Color = false
			sf, err := reporters.NewSARIFFiles(o.file, opts, func(path string) (reporters.PendingFile, error) {
				f, err := atomicfile.Create(path)
				if err != nil {
					return nil, err
				}
				return f, nil
			})
			if err != nil {
				abort()
				return err
			}
			st.w, st.commit, st.abort, st.notice = sf, sf.Commit, sf.Abort, sf.Notice
		default:
			f, err := atomicfile.Create(o.file)
			if err != nil {
				abort()
				return err
			}
			opts.Color = false
			sw, err := reporters.NewStream(o.format, f, opts)
			if err != nil {
				f.Abort()
				abort()
				return usageError(err)
			}
			st.w, st.commit, st.abort = sw, f.Commit, f.Abort
		}
		streams = append(streams, st)
	}

	var reports []*checks.Report // kept only for the formats written whole
	code := exitOK
	accounts, err := s.engine.EvaluateOrg(ctx, s.src, checks.OrgEvalOptions{EvalOptions: a.evalOptions(s.config)}, func(info checks.AccountInfo, r *checks.Report) error {
		if s.baseline != nil {
			r.ApplyBaseline(s.baseline)
		}
		if s.securityHub != nil {
			s.securityHub.add(info, r)
		}
		code = worseExit(code, r.ExitCode(s.failOn))
		for _, st := range streams {
			if err := st.w.Account(r); err != nil {
				return fmt.Errorf("write %s report: %w", st.out.format, err)
			}
		}
		if len(whole) > 0 {
			reports = append(reports, r)
		}
		return nil
	})
	if err != nil {
		abort()
		return fmt.Errorf("evaluate: %w", err)
	}
	for _, st := range streams {
		if err := st.w.Close(accounts); err != nil {
			abort()
			return fmt.Errorf("write %s report: %w", st.out.format, err)
		}
	}
	if len(whole) > 0 {
		if err := a.writeReports(checks.MergeReports(reports, accounts), whole, s.options); err != nil {
			// The streamed files are committed last, so that a failed report leaves none of them
			// (nor part of a split SARIF log) beside the reports that were written; Security
			// Hub imports under way stop too, as for any failed scan.
			abort()
			return err
		}
	}
	for _, st := range streams {
		if st.commit != nil {
			if err := st.commit(); err != nil {
				abort()
				return err
			}
		}
		if st.notice != nil {
			if notice := st.notice(); notice != "" {
				fmt.Fprintf(a.stderr, "coffer: %s\n", notice)
			}
		}
		if st.out.format == reporters.FormatSARIF && st.out.file == "" && len(accounts) > reporters.MaxSARIFRuns {
			// stdout is one log: only files can be split.
			fmt.Fprintf(a.stderr, "coffer: the SARIF log has a run per account (%d); GitHub takes at most %d runs per upload: scan in shards (--shard) to upload each\n", len(accounts), reporters.MaxSARIFRuns)
		}
	}
	for _, acct := range accounts {
		if acct.Status == checks.AccountError {
			code = worseExit(code, exitIncomplete)
		}
	}
	a.code = code
	if s.securityHub != nil {
		return s.securityHub.finish()
	}
	return nil
}

// worseExit is the exit code of two results together: a failure beats an incomplete scan, which
// beats a clean one.
func worseExit(a, b int) int {
	rank := map[int]int{exitOK: 0, exitIncomplete: 1, exitFindings: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// loadBaseline reads the --baseline report ("" = none). It is read before the scan so that a bad
// file fails fast, with its name, before any AWS call.
func loadBaseline(file string) (*checks.Report, error) {
	if file == "" {
		return nil, nil
	}
	base, err := checks.LoadReport(file)
	if err != nil {
		return nil, usageErrorf("--baseline %s: %w", file, err)
	}
	return base, nil
}
