package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/atomicfile"
	"github.com/coffer-audit/coffer/policies"
	"github.com/spf13/cobra"
)

type diffFlags struct {
	config     string
	policyDirs []string
	format     string
	output     string
	failOn     string
}

// Diff output formats.
const (
	diffTable    = "table"
	diffJSON     = "json"
	diffMarkdown = "markdown"
)

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
	fl.StringVar(&f.format, "format", diffTable, "output format: table, json, markdown")
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
	format := strings.ToLower(strings.TrimSpace(f.format))
	switch format {
	case diffTable, diffJSON, diffMarkdown:
	default:
		return usageErrorf("--format: unknown format %q (known: json, markdown, table)", f.format)
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

	write := func(w io.Writer) error { return writeDiff(w, format, d) }
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

func writeDiff(w io.Writer, format string, d *checks.Diff) error {
	var buf bytes.Buffer
	switch format {
	case diffJSON:
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(d); err != nil {
			return err
		}
	case diffMarkdown:
		writeDiffMarkdown(&buf, d)
	default:
		writeDiffTable(&buf, d)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func diffHeadline(d *checks.Diff) string {
	s := d.Summary
	line := fmt.Sprintf("%d new failure%s, %d resolved, %d changed, %d unchanged", s.New, pluralS(s.New), s.Resolved, s.Changed, s.Unchanged)
	if d.Old.Kind == checks.InputSnapshot && d.New.Kind == checks.InputSnapshot {
		line += fmt.Sprintf("; %d configuration change%s", s.Config, pluralS(s.Config))
	}
	return line
}

func sideLine(s checks.DiffSide) string {
	line := fmt.Sprintf("%s (%s", s.File, s.Kind)
	if !s.Time.IsZero() {
		line += ", " + s.Time.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return line + ")"
}

func statusText(s checks.Status) string {
	if s == "" {
		return "absent"
	}
	return string(s)
}

func changeResource(fc checks.FindingChange) string {
	name := fc.Resource.Name
	if name == "" {
		name = fc.Resource.ARN
	}
	if fc.Resource.Role != "" {
		name += " (" + fc.Resource.Role + ")"
	}
	return name
}

func writeDiffTable(w io.Writer, d *checks.Diff) {
	fmt.Fprintf(w, "coffer diff: account %s\n  old: %s\n  new: %s\n\n%s.\n", d.AccountID, oneLine(sideLine(d.Old)), oneLine(sideLine(d.New)), diffHeadline(d))
	groups := []struct {
		title string
		list  []checks.FindingChange
	}{{"New failures", d.NewFailures}, {"Resolved", d.Resolved}, {"Changed", d.Changed}}
	for _, g := range groups {
		if len(g.list) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", g.title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, fc := range g.list {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s → %s\t%s\n", fc.Severity, fc.CheckID, oneLine(changeResource(fc)), statusText(fc.Before), statusText(fc.After), oneLine(fc.Message))
		}
		_ = tw.Flush()
	}
	if len(d.Config) > 0 {
		fmt.Fprintf(w, "\nConfiguration changes:\n")
		for _, c := range d.Config {
			fmt.Fprintf(w, "  %s\n", oneLine(c.String()))
		}
	} else if d.Old.Kind != checks.InputSnapshot || d.New.Kind != checks.InputSnapshot {
		fmt.Fprintf(w, "\n(The configuration is compared only between two snapshots.)\n")
	}
}

func writeDiffMarkdown(w io.Writer, d *checks.Diff) {
	fmt.Fprintf(w, "## coffer diff — account %s\n\n", mdEscape(d.AccountID))
	fmt.Fprintf(w, "- old: %s\n- new: %s\n\n**%s.**\n", mdEscape(sideLine(d.Old)), mdEscape(sideLine(d.New)), diffHeadline(d))
	groups := []struct {
		title string
		list  []checks.FindingChange
	}{{"New failures", d.NewFailures}, {"Resolved", d.Resolved}, {"Changed", d.Changed}}
	for _, g := range groups {
		if len(g.list) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n### %s\n\n| Severity | Check | Resource | Status | Message |\n|---|---|---|---|---|\n", g.title)
		for _, fc := range g.list {
			fmt.Fprintf(w, "| %s | `%s` | %s | %s → %s | %s |\n", fc.Severity, fc.CheckID, mdEscape(changeResource(fc)), statusText(fc.Before), statusText(fc.After), mdEscape(fc.Message))
		}
	}
	if len(d.Config) > 0 {
		fmt.Fprintf(w, "\n### Configuration changes\n\n")
		for _, c := range d.Config {
			fmt.Fprintf(w, "- %s\n", mdEscape(c.String()))
		}
	}
}

// oneLine keeps text from a policy or a message on one line and away from terminal escapes.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}

var mdReplacer = strings.NewReplacer(`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "&", "&amp;")

// mdEscape makes text safe in a Markdown table cell or list item.
func mdEscape(s string) string { return mdReplacer.Replace(oneLine(s)) }
