package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/coffer-audit/coffer/checks"
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
			return nil, usageError("--format: %v", err)
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
		return nil, usageError("--format: only one format can go to stdout; give the others a file (--format sarif=coffer.sarif)")
	}
	return outs, nil
}

func (a *app) scan(ctx context.Context, f *scanFlags) error {
	failOn, err := checks.ParseSeverity(f.failOn)
	if err != nil {
		return usageError("--fail-on: %v", err)
	}
	if !f.fix.enabled && (f.fix.dryRun || f.fix.yes || len(f.fix.include) > 0 || f.fix.journal != "") {
		return usageError("--dry-run, --yes, --fix-include and --journal only make sense with --fix")
	}
	if f.fix.enabled && f.snapshot != "" {
		return usageError("--fix works on a live account, not on --snapshot")
	}
	if f.fix.enabled && f.securityHub.enabled {
		return usageError("--security-hub imports a scan's findings, not those of a --fix run: scan again after fixing")
	}
	outs, err := a.parseOutputs(f)
	if err != nil {
		return err
	}
	cfg := checks.DefaultConfig()
	if f.config != "" {
		if cfg, err = checks.LoadConfig(f.config); err != nil {
			return usageError("%v", err)
		}
	}
	baseline, err := loadBaseline(f.baseline)
	if err != nil {
		return err
	}
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS, PolicyDirs: f.policyDirs})
	if err != nil {
		return usageError("load policies:\n%v", err)
	}
	var snap *checks.Snapshot
	if f.snapshot != "" {
		if snap, err = checks.LoadSnapshot(f.snapshot); err != nil {
			return usageError("%v", err)
		}
	} else if snap, err = a.liveSnapshot(ctx, &f.aws); err != nil {
		return err
	}
	if want := cfg.Account.ExpectedID; want != "" && want != snap.Account.ID {
		return usageError("account %s is not the expected account %s (account.expected_id in %s)", snap.Account.ID, want, cfg.Source)
	}
	report, err := engine.Evaluate(ctx, snap, checks.EvalOptions{Config: cfg, Tool: checks.Tool{Name: "coffer", Version: toolVersion()}, Now: a.now})
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	if baseline != nil {
		if baseline.AccountID != report.AccountID {
			return usageError("--baseline %s is a report of account %s, not %s", f.baseline, baseline.AccountID, report.AccountID)
		}
		report.ApplyBaseline(baseline)
	}
	ropts := reporters.Options{Color: isTerminal(a.stdout), ShowPass: f.showPass, Category: f.category, Region: f.securityHub.regionFor(snap)}
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
		ro := opts
		if o.file != "" {
			ro.Color = false
		}
		rep, err := reporters.New(o.format, ro)
		if err != nil {
			return usageError("%v", err)
		}
		if o.file == "" {
			if err := rep.Write(a.stdout, report); err != nil {
				return fmt.Errorf("write %s report: %w", o.format, err)
			}
			continue
		}
		if o.format == reporters.FormatSARIF {
			if parts := reporters.SplitSARIF(report, sarifResultsPerFile); len(parts) > 1 {
				if err := a.writeSARIFParts(o.file, parts, ro); err != nil {
					return err
				}
				continue
			}
		}
		if err := reporters.WriteFileAtomic(o.file, func(w io.Writer) error { return rep.Write(w, report) }); err != nil {
			return fmt.Errorf("write %s report to %s: %w", o.format, o.file, err)
		}
	}
	return nil
}

// sarifResultsPerFile keeps every alert visible: GitHub accepts 25,000 results per run but shows
// only the 5,000 most severe.
const sarifResultsPerFile = 5000

// writeSARIFParts writes NAME.part-N.sarif files, each with its own automation category so that
// one upload does not replace another.
func (a *app) writeSARIFParts(file string, parts []*checks.Report, opts reporters.Options) error {
	base := strings.TrimSuffix(file, ".sarif")
	for i, part := range parts {
		po := opts
		po.Category = strings.Trim(strings.Join([]string{opts.Category, fmt.Sprintf("part-%d", i+1)}, "/"), "/")
		name := fmt.Sprintf("%s.part-%d.sarif", base, i+1)
		rep, err := reporters.New(reporters.FormatSARIF, po)
		if err != nil {
			return err
		}
		if err := reporters.WriteFileAtomic(name, func(w io.Writer) error { return rep.Write(w, part) }); err != nil {
			return fmt.Errorf("write sarif report to %s: %w", name, err)
		}
	}
	fmt.Fprintf(a.stderr, "coffer: %d failing results exceed the %d GitHub shows per run; SARIF split into %s.part-1..%d.sarif (upload each)\n",
		countFail(parts), sarifResultsPerFile, base, len(parts))
	return nil
}

func countFail(parts []*checks.Report) int {
	n := 0
	for _, p := range parts {
		for _, f := range p.Findings {
			if f.Status == checks.StatusFail {
				n++
			}
		}
	}
	return n
}

// loadBaseline reads the --baseline report ("" = none). It is read before the scan so that a bad
// file fails fast, with its name, before any AWS call.
func loadBaseline(file string) (*checks.Report, error) {
	if file == "" {
		return nil, nil
	}
	base, err := checks.LoadReport(file)
	if err != nil {
		return nil, usageError("--baseline %s: %v", file, err)
	}
	return base, nil
}
