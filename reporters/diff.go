package reporters

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/coffer-audit/coffer/checks"
)

// DiffReporter writes what drifted between two scans (`coffer diff`) in one format. The formats
// that render a diff are the registry's formats whose reporter also implements DiffReporter, so a
// format's report and diff share its escaping and helpers.
type DiffReporter interface {
	WriteDiff(w io.Writer, d *checks.Diff) error
}

var (
	_ DiffReporter = (*Table)(nil)
	_ DiffReporter = (*JSON)(nil)
	_ DiffReporter = (*Markdown)(nil)
)

// errNilDiff is returned by every diff reporter given a nil diff.
var errNilDiff = errors.New("nil diff")

// DiffFormats lists the format names that render a diff, sorted.
func DiffFormats() []string { return formatsWith[DiffReporter]() }

// NewDiff returns the diff reporter for a format name (case-insensitive). A name that is not a
// format, or a format that does not render diffs, is an error listing the ones that do.
func NewDiff(format string, opts Options) (DiffReporter, error) {
	return newAs[DiffReporter](format, opts, "a diff")
}

// formatsWith lists, sorted, the formats whose reporter also implements T.
func formatsWith[T any]() []string {
	var names []string
	for _, name := range Formats() {
		if _, ok := registry[name](Options{}).(T); ok {
			names = append(names, name)
		}
	}
	return names
}

// newAs returns the reporter of format as a T, the interface of what it renders (what, in errors).
func newAs[T any](format string, opts Options, what string) (T, error) {
	var zero T
	rep, err := New(format, opts)
	if err != nil {
		return zero, fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(formatsWith[T](), ", "))
	}
	t, ok := rep.(T)
	if !ok {
		return zero, fmt.Errorf("format %q does not render %s (formats that do: %s)", format, what, strings.Join(formatsWith[T](), ", "))
	}
	return t, nil
}

// WriteDiff implements DiffReporter: the diff of DESIGN §5 as JSON (checks.Diff's fields),
// indented by two spaces. Nothing is written when encoding fails.
func (JSON) WriteDiff(w io.Writer, d *checks.Diff) error {
	if d == nil {
		return errNilDiff
	}
	var buf bytes.Buffer
	if err := encodeIndented(&buf, d, ""); err != nil {
		return fmt.Errorf("encode json diff: %w", err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// WriteDiff implements DiffReporter: a headline, then aligned rows of new failures, resolved and
// changed findings, then the configuration changes (only between two snapshots).
func (t *Table) WriteDiff(w io.Writer, d *checks.Diff) error {
	if d == nil {
		return errNilDiff
	}
	ew := &errWriter{w: w}
	ew.printf("coffer diff: account %s\n  old: %s\n  new: %s\n\n%s.\n",
		singleLine(d.AccountID), singleLine(diffSideLine(d.Old)), singleLine(diffSideLine(d.New)), diffHeadline(d))
	for _, g := range diffGroups(d) {
		if len(g.list) == 0 {
			continue
		}
		ew.printf("\n%s:\n", g.title)
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		for _, fc := range g.list {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s → %s\t%s\n", fc.Severity, singleLine(fc.CheckID), singleLine(resourceLabel(fc.Resource)),
				diffStatus(fc.Before), diffStatus(fc.After), singleLine(fc.Message))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(d.Config) > 0 {
		ew.printf("\nConfiguration changes:\n")
		for _, c := range d.Config {
			ew.printf("  %s\n", singleLine(c.String()))
		}
	} else if !diffOfSnapshots(d) {
		ew.printf("\n(The configuration is compared only between two snapshots.)\n")
	}
	return ew.err
}

// WriteDiff implements DiffReporter: a GitHub-flavoured summary for a pull-request comment or
// $GITHUB_STEP_SUMMARY, one table per kind of change, escaped as the Markdown report is.
func (m *Markdown) WriteDiff(w io.Writer, d *checks.Diff) error {
	if d == nil {
		return errNilDiff
	}
	ew := &errWriter{w: w}
	ew.printf("## coffer diff — account %s\n\n", mdText(d.AccountID))
	ew.printf("- old: %s\n- new: %s\n\n**%s.**\n", mdText(diffSideLine(d.Old)), mdText(diffSideLine(d.New)), diffHeadline(d))
	for _, g := range diffGroups(d) {
		if len(g.list) == 0 {
			continue
		}
		ew.printf("\n### %s\n\n| Severity | Check | Resource | Status | Message |\n|---|---|---|---|---|\n", g.title)
		for _, fc := range g.list {
			ew.printf("| %s | %s | %s | %s → %s | %s |\n", fc.Severity, mdCode(fc.CheckID), mdText(resourceLabel(fc.Resource)),
				diffStatus(fc.Before), diffStatus(fc.After), mdText(fc.Message))
		}
	}
	if len(d.Config) > 0 {
		ew.printf("\n### Configuration changes\n\n")
		for _, c := range d.Config {
			ew.printf("- %s\n", mdText(c.String()))
		}
	}
	return ew.err
}

type diffGroup struct {
	title string
	list  []checks.FindingChange
}

func diffGroups(d *checks.Diff) []diffGroup {
	return []diffGroup{{"New failures", d.NewFailures}, {"Resolved", d.Resolved}, {"Changed", d.Changed}}
}

func diffOfSnapshots(d *checks.Diff) bool {
	return d.Old.Kind == checks.InputSnapshot && d.New.Kind == checks.InputSnapshot
}

// diffHeadline is the verdict line, e.g. "2 new failures, 1 resolved, 0 changed, 40 unchanged;
// 3 configuration changes".
func diffHeadline(d *checks.Diff) string {
	s := d.Summary
	line := fmt.Sprintf("%s, %d resolved, %d changed, %d unchanged",
		plural(s.New, "new failure", "new failures"), s.Resolved, s.Changed, s.Unchanged)
	if diffOfSnapshots(d) {
		line += "; " + plural(s.Config, "configuration change", "configuration changes")
	}
	return line
}

// diffSideLine describes one input: "old.json (snapshot, 2026-11-01 00:00:00 UTC)".
func diffSideLine(s checks.DiffSide) string {
	line := fmt.Sprintf("%s (%s", s.File, s.Kind)
	if !s.Time.IsZero() {
		line += ", " + s.Time.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return line + ")"
}

// diffStatus names a status of a finding change; "absent" when the finding was not in that input.
func diffStatus(s checks.Status) string {
	if s == "" {
		return "absent"
	}
	return string(s)
}
