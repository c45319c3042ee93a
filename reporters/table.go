package reporters

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/coffer-audit/coffer/checks"
)

// Table writes findings for a terminal: one table per severity (CRITICAL first) with the
// remediation commands of its failures numbered under it, then notices and a summary line.
// PASS findings appear only with Options.ShowPass.
type Table struct {
	Options Options
}

// ANSI SGR sequences. Colour is decided by Options.Color only; the CLI knows whether stdout is a
// terminal, the reporter does not guess.
const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiDim     = "\x1b[2m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiBlue    = "\x1b[34m"
	ansiMagenta = "\x1b[35m"
	ansiCyan    = "\x1b[36m"
	ansiBoldRed = "\x1b[1;31m"
)

var severityColor = map[checks.Severity]string{
	checks.SeverityCritical: ansiBoldRed,
	checks.SeverityHigh:     ansiRed,
	checks.SeverityMedium:   ansiYellow,
	checks.SeverityLow:      ansiBlue,
}

var statusColor = map[checks.Status]string{
	checks.StatusFail:   ansiRed,
	checks.StatusError:  ansiMagenta,
	checks.StatusWaived: ansiCyan,
	checks.StatusPass:   ansiGreen,
}

// statusRank orders rows inside a severity group: what needs action first.
var statusRank = map[checks.Status]int{
	checks.StatusFail: 0, checks.StatusError: 1, checks.StatusWaived: 2, checks.StatusPass: 3,
}

// Write implements Reporter.
func (t *Table) Write(w io.Writer, r *checks.Report) error {
	if r == nil {
		return errNilReport
	}
	ew := &errWriter{w: w}
	all := sortedFindings(r)
	paint := func(code, s string) string {
		if !t.Options.Color || code == "" {
			return s
		}
		return code + s + ansiReset
	}

	fixNo := 0
	for _, sev := range checks.Severities() {
		var rows []checks.Finding
		for _, f := range all {
			if f.Severity == sev && (f.Status != checks.StatusPass || t.Options.ShowPass) {
				rows = append(rows, f)
			}
		}
		if len(rows) == 0 {
			continue
		}
		slices.SortStableFunc(rows, func(a, b checks.Finding) int {
			return cmp.Compare(statusRank[a.Status], statusRank[b.Status])
		})

		c := countFindings(rows)
		var parts []string
		for _, st := range []checks.Status{checks.StatusFail, checks.StatusError, checks.StatusWaived, checks.StatusPass} {
			if n := c.byStatus[st]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(string(st))))
			}
		}
		ew.printf("%s  %s\n", paint(severityColor[sev], sev.String()), strings.Join(parts, ", "))

		tb := tablewriter.NewTable(ew,
			tablewriter.WithHeaderAutoFormat(tw.Off),
			tablewriter.WithHeaderAlignment(tw.AlignLeft),
			tablewriter.WithRowAutoWrap(tw.WrapNormal),
			tablewriter.WithRowMaxWidth(60),
		)
		tb.Header("#", "STATUS", "CHECK", "RESOURCE", "MESSAGE")
		type fix struct {
			no int
			f  checks.Finding
		}
		var fixes []fix
		for _, f := range rows {
			no := ""
			if f.Status == checks.StatusFail {
				fixNo++
				no = strconv.Itoa(fixNo)
				fixes = append(fixes, fix{fixNo, f})
			}
			msg := clipProse(f.Message)
			if f.Status == checks.StatusWaived {
				msg = "Waived: " + waiverText(f.Waiver) + ". " + msg
			}
			if f.InBaseline {
				msg = knownPrefix + msg
			}
			// Cells are cut for display (clipProse): tablewriter must never see a long word.
			if err := tb.Append(no, paint(statusColor[f.Status], string(f.Status)), tableText(f.CheckID),
				singleLine(displayLabel(f.Resource)), tableText(msg)); err != nil {
				return fmt.Errorf("render table: %w", err)
			}
		}
		if err := tb.Render(); err != nil {
			return fmt.Errorf("render table: %w", err)
		}
		for _, fx := range fixes {
			ew.printf("  [%d] %s on %s: %s (fix: %s)\n", fx.no, tableText(fx.f.CheckID),
				singleLine(displayLabel(fx.f.Resource)), tableText(fx.f.Remediation.Summary), tableText(string(fx.f.Remediation.Fix)))
			cmds, shortened := clipCommands(fx.f.Remediation.Commands)
			for _, cmd := range cmds {
				ew.printf("      %s\n", paint(ansiDim, singleLine(cmd)))
			}
			if shortened {
				ew.printf("      (%s)\n", shortenedNote)
			}
		}
		ew.printf("\n")
	}

	if len(r.Notices) > 0 {
		ew.printf("%s\n", paint(ansiBold, "Notices:"))
		for _, n := range r.Notices {
			ew.printf("  ! %s\n", tableText(n))
		}
		ew.printf("\n")
	}

	line := "coffer: " + summaryLine(countFindings(all))
	if r.AccountID != "" {
		line += " — account " + tableText(r.AccountID)
	}
	ew.printf("%s\n", paint(ansiBold, line))
	return ew.err
}

// tableText is a value as the table shows it: cut for display, on one line.
func tableText(s string) string {
	return singleLine(clipProse(s))
}
