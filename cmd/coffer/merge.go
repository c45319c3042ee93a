package main

import (
	"fmt"
	"io"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/atomicfile"
	"github.com/coffer-audit/coffer/reporters"
	"github.com/spf13/cobra"
)

func (a *app) mergeCmd() *cobra.Command {
	var out, failOn string
	cmd := &cobra.Command{
		Use:   "merge -o OUT FILE...",
		Short: "Merge the results of an organisation scanned in shards: JSON reports into one report, snapshots into one snapshot",
		Long: `Merge what the shards of an organisation scan wrote (coffer scan --shard I/N --format json=…,
coffer collect --shard I/N -o …) into one file, as if one process had scanned the organisation.

JSON reports (of one account or of an organisation) become one organisation report: every account
once, findings sorted by account, check and resource, the summary recomputed. Snapshots (of one
account or of an organisation) become one organisation snapshot, streamed account by account;
coffer scan --snapshot evaluates it, pairing buckets across all its accounts.

An account may appear in several inputs with the same result (kept once) or skipped as "not in
shard I/N" beside the shard that has it. Refused, with exit code 2 and nothing written: two
different results of one account, an account that every input skipped as not in its shard (that
shard's result is missing), inputs of different coffer versions, reports mixed with snapshots, and
any file that is not a coffer report or snapshot (named, with the line).

Exit codes: 0 merged; 2 refused or unreadable input. With --fail-on (reports only) the merged report
is also the gate of the organisation, as scan's: 1 a FAIL at or above it, 3 an ERROR at or above it.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			return a.merge(out, failOn, files)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&out, "output", "o", "", "write the merged report or snapshot here (- for stdout); required")
	fl.StringVar(&failOn, "fail-on", "", "reports: exit 1 when a FAIL at or above this severity is in the merged report, 3 for an ERROR (LOW, MEDIUM, HIGH, CRITICAL); default: no gate")
	return cmd
}

func (a *app) merge(out, failOn string, files []string) error {
	if out == "" {
		return usageErrorf("-o OUT is required: the file to write the merged result to (- for stdout)")
	}
	var gate checks.Severity
	if failOn != "" {
		var err error
		if gate, err = checks.ParseSeverity(failOn); err != nil {
			return usageErrorf("--fail-on: %w", err)
		}
	}
	kind, err := mergeKind(files)
	if err != nil {
		return usageError(err)
	}
	var write func(io.Writer) error
	var merged *checks.Report
	switch kind {
	case checks.InputReport:
		if merged, err = checks.MergeReportFiles(files); err != nil {
			return usageError(err)
		}
		rep, err := reporters.New(reporters.FormatJSON, reporters.Options{})
		if err != nil {
			return usageError(err)
		}
		write = func(w io.Writer) error { return rep.Write(w, merged) }
	default:
		if failOn != "" {
			return usageErrorf("--fail-on gates a merge of reports; a snapshot has no findings until coffer scan --snapshot evaluates it")
		}
		plan, err := checks.MergeSnapshots(files)
		if err != nil {
			return usageError(err)
		}
		write = plan.Write
	}
	if out == "-" {
		err = write(a.stdout)
	} else {
		err = atomicfile.Write(out, write)
	}
	if err != nil {
		// An input that changed or broke between the two reads of a snapshot merge ends here too.
		return usageErrorf("merge %s: %w", kind, err)
	}
	if merged != nil && failOn != "" {
		a.code = merged.ExitCode(gate)
	}
	return nil
}

// mergeKind is what every input is, reports or snapshots: a merge of both is refused (a snapshot
// would need evaluating, and the result would be neither).
func mergeKind(files []string) (checks.InputKind, error) {
	var kind checks.InputKind
	var first string
	for _, file := range files {
		k, err := checks.DetectFile(file)
		if err != nil {
			return "", err
		}
		if kind == "" {
			kind, first = k, file
		} else if k != kind {
			return "", fmt.Errorf("%s is a %s and %s a %s: merge reports with reports, snapshots with snapshots", first, kind, file, k)
		}
	}
	return kind, nil
}
