package main

import (
	"context"
	"fmt"
	"io"
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

func (a *app) diff(ctx context.Context, f *diffFlags, oldFile, newFile string) error {
	failOn, err := checks.ParseSeverity(f.failOn)
	if err != nil {
		return usageErrorf("--fail-on: %w", err)
	}
	rep, err := reporters.NewDiff(f.format, reporters.Options{})
	if err != nil {
		return usageErrorf("--format: %w", err)
	}
	old, cur, err := checks.LoadDiffInputs(oldFile, newFile)
	if err != nil {
		return usageError(err)
	}
	// The configuration and the policies are loaded only when a snapshot needs evaluating.
	var evaluate checks.SnapshotEvaluator
	if old.Snapshot != nil || cur.Snapshot != nil {
		if evaluate, err = a.snapshotEvaluator(ctx, f); err != nil {
			return err
		}
	}
	d, err := checks.DiffInputs(ctx, old, cur, evaluate, a.now)
	if err != nil {
		return usageError(err)
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

// snapshotEvaluator evaluates snapshots with scan's engine and configuration (--config,
// --policy-dir).
func (a *app) snapshotEvaluator(ctx context.Context, f *diffFlags) (checks.SnapshotEvaluator, error) {
	cfg := checks.DefaultConfig()
	if f.config != "" {
		var err error
		if cfg, err = checks.LoadConfig(f.config); err != nil {
			return nil, usageError(err)
		}
	}
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS, PolicyDirs: f.policyDirs})
	if err != nil {
		return nil, usageErrorf("load policies:\n%w", err)
	}
	return func(ctx context.Context, snap *checks.Snapshot, now func() time.Time) (*checks.Report, error) {
		opts := a.evalOptions(cfg)
		opts.Now = now
		return engine.Evaluate(ctx, snap, opts)
	}, nil
}
