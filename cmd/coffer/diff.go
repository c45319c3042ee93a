package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/atomicfile"
	"github.com/coffer-audit/coffer/policies"
	"github.com/coffer-audit/coffer/reporters"
	"github.com/spf13/cobra"
)

type diffFlags struct {
	config     string
	policyDirs []string
	format     string
	output     string
	failOn     string
}

func (a *app) diffCmd() *cobra.Command {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show what drifted between two scans: new, resolved and changed findings, and changed configuration",
		Long: `Compare two JSON reports (coffer scan --format json) or two snapshots (coffer collect) of
the same account. Findings are matched by check id and resource ARN: new failures, resolved
failures and other status changes. Snapshots are evaluated with the same checks as scan
(--config, --policy-dir), each as of the time it was collected, and their configuration is
compared resource by resource (e.g. "vault-primary: lifecycle rule archive transition days 14 → 30").

Exit codes: 0 no new failure at or above --fail-on; 1 a new failure; 2 coffer could not run
(unreadable input, two different accounts).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.diff(cmd.Context(), &f, args[0], args[1])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "coffer.yaml used to evaluate snapshots: bucket roles, params, waivers")
	fl.StringArrayVar(&f.policyDirs, "policy-dir", nil, "also load the Rego checks in this folder when evaluating snapshots (repeatable)")
	fl.StringVar(&f.format, "format", reporters.FormatTable, "output format: "+strings.Join(reporters.DiffFormats(), ", "))
	fl.StringVarP(&f.output, "output", "o", "", "write the diff to this file instead of stdout")
	fl.StringVar(&f.failOn, "fail-on", "LOW", "lowest severity of a new failure that fails: LOW, MEDIUM, HIGH, CRITICAL")
	return cmd
}

// diffInput is one side of a diff as read from its file.
type diffInput struct {
	file     string
	kind     checks.InputKind
	report   *checks.Report
	snapshot *checks.Snapshot
}

func (in *diffInput) accountID() string {
	if in.snapshot != nil {
		return in.snapshot.Account.ID
	}
	return in.report.AccountID
}

func (in *diffInput) side() checks.DiffSide {
	s := checks.DiffSide{File: in.file, Kind: in.kind}
	if in.snapshot != nil {
		s.Time = in.snapshot.CollectedAt
	} else {
		s.Time = in.report.FinishedAt
	}
	return s
}

func readDiffInput(file string) (*diffInput, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err // the message names the file once, below
		}
		return nil, usageErrorf("read %s: %w", file, err)
	}
	kind, err := checks.DetectInput(data)
	if err != nil {
		return nil, usageErrorf("%s: %w", file, err)
	}
	in := &diffInput{file: file, kind: kind}
	switch kind {
	case checks.InputReport:
		in.report, err = checks.ParseReport(file, data)
	default:
		in.snapshot, err = checks.ParseSnapshot(file, data)
	}
	if err != nil {
		// Both parsers name the file (and the line when they know it).
		return nil, usageError(err)
	}
	return in, nil
}

func (a *app) diff(ctx context.Context, f *diffFlags, oldFile, newFile string) error {
	failOn, err := checks.ParseSeverity(f.failOn)
	if err != nil {
		return usageErrorf("--fail-on: %w", err)
	}
	rep, err := reporters.NewDiff(f.format, reporters.Options{})
	if err != nil {
		return usageErrorf("--format: %w", err)
	}
	old, err := readDiffInput(oldFile)
	if err != nil {
		return err
	}
	cur, err := readDiffInput(newFile)
	if err != nil {
		return err
	}
	// Refuse before evaluating anything: comparing two accounts would call everything new.
	if old.accountID() != cur.accountID() {
		return usageError(&checks.AccountMismatchError{Old: old.accountID(), New: cur.accountID()})
	}
	if old.snapshot != nil || cur.snapshot != nil {
		if err := a.evaluateDiffInputs(ctx, f, old, cur); err != nil {
			return err
		}
	}
	d, err := checks.DiffReports(old.report, cur.report)
	if err != nil {
		return usageError(err)
	}
	d.Old, d.New = old.side(), cur.side()
	if old.snapshot != nil && cur.snapshot != nil {
		changes, err := checks.DiffSnapshots(old.snapshot, cur.snapshot)
		if err != nil {
			return usageError(err)
		}
		d.SetConfig(changes)
	}

	write := func(w io.Writer) error { return rep.WriteDiff(w, d) }
	if f.output != "" {
		if err := atomicfile.Write(f.output, write); err != nil {
			return fmt.Errorf("write diff: %w", err)
		}
	} else if err := write(a.stdout); err != nil {
		return fmt.Errorf("write diff: %w", err)
	}
	a.code = d.ExitCode(failOn)
	return nil
}

// evaluateDiffInputs turns the snapshot inputs into reports with scan's engine and configuration,
// each evaluated as of its collection time so that the diff of two saved snapshots is the same
// whenever it runs (waiver expiry and key ages are judged at that time).
func (a *app) evaluateDiffInputs(ctx context.Context, f *diffFlags, inputs ...*diffInput) error {
	cfg := checks.DefaultConfig()
	if f.config != "" {
		var err error
		if cfg, err = checks.LoadConfig(f.config); err != nil {
			return usageError(err)
		}
	}
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS, PolicyDirs: f.policyDirs})
	if err != nil {
		return usageErrorf("load policies:\n%w", err)
	}
	for _, in := range inputs {
		if in.snapshot == nil {
			continue
		}
		at := in.snapshot.CollectedAt
		if at.IsZero() {
			at = a.now()
		}
		report, err := engine.Evaluate(ctx, in.snapshot, checks.EvalOptions{
			Config: cfg, Tool: checks.Tool{Name: "coffer", Version: toolVersion()},
			Now: func() time.Time { return at },
		})
		if err != nil {
			return fmt.Errorf("evaluate %s: %w", in.file, err)
		}
		in.report = report
	}
	return nil
}
