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
	by := t.Options.GroupBy.orDefault()
	if err := validGroupBy(by); err != nil {
		return err
	}
	shown := readFindings(r, shownFindings(all, t.Options.ShowPass), by)
	org := len(r.Accounts) > 0
	tw := &tableWriter{Table: t, ew: ew, org: org}
	if org && by == GroupByAccount {
		for _, sec := range accountSections(r, shownFindings(all, true)) {
			ew.printf("%s\n\n", tw.paint(ansiBold, "== Account "+tableText(sec.heading())+" =="))
			tw.org = false // the section names the account
			if err := tw.sections(sec.listed(t.Options.ShowPass), GroupByCheck); err != nil {
				return err
			}
		}
		tw.org = org
	} else if err := tw.sections(shown, by); err != nil {
		return err
	}

	if len(r.Notices) > 0 {
		ew.printf("%s\n", tw.paint(ansiBold, "Notices:"))
		for _, n := range r.Notices {
			ew.printf("  ! %s\n", tableText(n))
		}
		ew.printf("\n")
	}
	if org {
		if err := tw.accounts(r.Accounts); err != nil {
			return err
		}
	}

	line := "coffer: " + summaryLine(countFindings(all))
	if r.AccountID != "" {
		line += " — account " + tableText(r.AccountID)
	}
	if org {
		line += " — " + accountsLine(r.Accounts)
	}
	ew.printf("%s\n", tw.paint(ansiBold, line))
	return ew.err
}

// tableWriter renders the parts of one table report.
type tableWriter struct {
	*Table
	ew    *errWriter
	org   bool // an organisation report: rows say which account
	fixNo int  // the number of the last remediation listed
}

func (t *tableWriter) paint(code, s string) string {
	if !t.Options.Color || code == "" {
		return s
	}
	return code + s + ansiReset
}

func (t *tableWriter) newTable(header ...any) *tablewriter.Table {
	tb := tablewriter.NewTable(t.ew,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
		tablewriter.WithRowMaxWidth(60),
	)
	tb.Header(header...)
	return tb
}

// sections writes findings (already filtered for ShowPass) as one table per severity (or, by
// resource, one table of resources) with the remediation of its failures numbered under it.
func (t *tableWriter) sections(findings []*checks.Finding, by GroupBy) error {
	if by == GroupByResource {
		return t.resources(findings)
	}
	for _, sev := range checks.Severities() {
		rows := ofSeverity(findings, sev)
		if len(rows) == 0 {
			continue
		}
		t.ew.printf("%s  %s\n", t.paint(severityColor[sev], sev.String()), statusCounts(countPtrs(rows)))
		if err := t.groups(GroupFindings(rows, by)); err != nil {
			return err
		}
	}
	return nil
}

// statusCounts is "2 fail, 1 error, 1 waived".
func statusCounts(c counts) string {
	var parts []string
	for _, st := range []checks.Status{checks.StatusFail, checks.StatusError, checks.StatusWaived, checks.StatusPass} {
		if n := c.byStatus[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(string(st))))
		}
	}
	return strings.Join(parts, ", ")
}

// groups writes the table of one severity and the numbered remediation of its failures. A group of
// one is a finding's row as it always was; a larger group names its count and first resources and
// shows its message and commands as templates.
func (t *tableWriter) groups(groups []Group) error {
	header := []any{"#", "STATUS", "CHECK", "RESOURCE", "MESSAGE"}
	if t.org {
		header = []any{"#", "STATUS", "ACCOUNT", "CHECK", "RESOURCE", "MESSAGE"}
	}
	tb := t.newTable(header...)
	type fix struct {
		no int
		g  *Group
	}
	var fixes []fix
	for i := range groups {
		g := &groups[i]
		f := g.First()
		no := ""
		if f.Status == checks.StatusFail {
			t.fixNo++
			no = strconv.Itoa(t.fixNo)
			fixes = append(fixes, fix{t.fixNo, g})
		}
		msg := clipProse(g.Message)
		if f.Status == checks.StatusWaived {
			msg = "Waived: " + waiverText(f.Waiver) + ". " + msg
		}
		if f.InBaseline {
			msg = knownPrefix + msg
		}
		// Cells are cut for display (clipProse): tablewriter must never see a long word.
		row := []any{no, t.paint(statusColor[f.Status], string(f.Status))}
		if t.org {
			row = append(row, tableText(groupAccount(g)))
		}
		row = append(row, tableText(f.CheckID), t.groupResources(g), tableText(msg))
		if err := tb.Append(row...); err != nil {
			return fmt.Errorf("render table: %w", err)
		}
	}
	if err := tb.Render(); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	for _, fx := range fixes {
		f := fx.g.First()
		on := singleLine(displayLabel(f.Resource))
		if fx.g.Len() > 1 {
			on = thousands(fx.g.Len()) + " resources"
		}
		t.ew.printf("  [%d] %s on %s: %s (fix: %s)\n", fx.no, tableText(f.CheckID), on,
			tableText(f.Remediation.Summary), tableText(string(f.Remediation.Fix)))
		t.commands(fx.g.Commands, fx.g.Placeholders, "      ")
	}
	t.ew.printf("\n")
	return nil
}

// commands lists commands dimmed, each on its line, with a note on what was shortened and what
// the placeholders of a group's template stand for.
func (t *tableWriter) commands(cmds, placeholders []string, indent string) {
	cmds, shortened := clipCommands(cmds)
	for _, cmd := range cmds {
		t.ew.printf("%s%s\n", indent, t.paint(ansiDim, singleLine(cmd)))
	}
	if shortened {
		t.ew.printf("%s(%s)\n", indent, shortenedNote)
	}
	if len(cmds) > 0 && len(placeholders) > 0 {
		t.ew.printf("%s(%s)\n", indent, placeholderNote(placeholders))
	}
}

// placeholderNote says what a group's placeholders stand for: "once per resource, with <BUCKET>
// its name; the JSON report lists every command".
func placeholderNote(placeholders []string) string {
	parts := make([]string, len(placeholders))
	for i, p := range placeholders {
		parts[i] = p + " " + placeholderMeaning(p)
	}
	return "once per resource, with " + strings.Join(parts, ", ") + "; the JSON report lists every command"
}

// groupResources is the RESOURCE cell of a group: the resource of a group of one; else the count,
// the first resources one per line, and how many more.
func (t *tableWriter) groupResources(g *Group) string {
	if g.Len() == 1 {
		return singleLine(displayLabel(g.First().Resource))
	}
	lines := []string{thousands(g.Len()) + " resources:"}
	label := displayLabel
	if t.org && g.Accounts() > 1 {
		label = accountLabel
	}
	for _, name := range groupResourceNames(g, label) {
		lines = append(lines, singleLine(name))
	}
	if more := g.Len() - groupShown; more > 0 {
		lines = append(lines, "and "+thousands(more)+" more")
	}
	return strings.Join(lines, "\n")
}

// groupAccount is the ACCOUNT cell of a group: its account, or how many.
func groupAccount(g *Group) string {
	if n := g.Accounts(); n > 1 {
		return thousands(n) + " accounts"
	}
	return g.First().Resource.AccountID
}

// resources writes one row per resource with the checks it does not pass, the resources that need
// action first, and under the table each resource's failing checks with their commands.
func (t *tableWriter) resources(findings []*checks.Finding) error {
	groups := GroupResources(findings)
	slices.SortStableFunc(groups, func(a, b ResourceGroup) int {
		wa, wb := a.Worst(), b.Worst()
		return cmp.Or(cmp.Compare(statusRank[wa.Status], statusRank[wb.Status]), cmp.Compare(wb.Severity, wa.Severity))
	})
	if len(groups) == 0 {
		return nil
	}
	t.ew.printf("%s  %s\n", t.paint(ansiBold, "RESOURCES"), statusCounts(countPtrs(findings)))
	header := []any{"#", "WORST", "RESOURCE", "CHECKS"}
	if t.org {
		header = []any{"#", "WORST", "ACCOUNT", "RESOURCE", "CHECKS"}
	}
	tb := t.newTable(header...)
	var fixes []int
	var nos []int
	for i := range groups {
		g := &groups[i]
		worst := g.Worst()
		no := ""
		if worst.Status == checks.StatusFail {
			t.fixNo++
			no = strconv.Itoa(t.fixNo)
			fixes = append(fixes, i)
			nos = append(nos, t.fixNo)
		}
		var lines []string
		for _, f := range g.Findings {
			line := tableText(f.CheckID) + " (" + f.Severity.String()
			if f.Status != checks.StatusFail {
				line += ", " + string(f.Status)
			}
			if f.InBaseline {
				line += ", known"
			}
			lines = append(lines, line+")")
		}
		row := []any{no, t.paint(statusColor[worst.Status], string(worst.Status)+" "+worst.Severity.String())}
		if t.org {
			row = append(row, tableText(g.Resource.AccountID))
		}
		row = append(row, singleLine(displayLabel(g.Resource)), strings.Join(lines, "\n"))
		if err := tb.Append(row...); err != nil {
			return fmt.Errorf("render table: %w", err)
		}
	}
	if err := tb.Render(); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	for k, i := range fixes {
		g := &groups[i]
		t.ew.printf("  [%d] %s:\n", nos[k], singleLine(displayLabel(g.Resource)))
		for _, f := range g.Findings {
			if f.Status != checks.StatusFail {
				continue
			}
			t.ew.printf("      %s: %s (fix: %s)\n", tableText(f.CheckID), tableText(f.Remediation.Summary), tableText(string(f.Remediation.Fix)))
			t.commands(f.Remediation.Commands, nil, "          ")
		}
	}
	t.ew.printf("\n")
	return nil
}

// accounts writes the accounts of an organisation report: status, FAIL counts by severity and
// ERROR count, and why an account was not scanned.
func (t *tableWriter) accounts(accounts []checks.AccountInfo) error {
	t.ew.printf("%s\n", t.paint(ansiBold, "Accounts:"))
	tb := t.newTable("ACCOUNT", "NAME", "STATUS", "CRITICAL", "HIGH", "MEDIUM", "LOW", "ERROR", "NOTE")
	for _, a := range accounts {
		row := []any{tableText(a.ID), tableText(a.Name), t.paint(accountStatusColor(a.Status), tableText(a.Status))}
		for _, sev := range checks.Severities() {
			row = append(row, accountCount(a, func(s *checks.Summary) int { return s.BySeverity[sev.String()] }))
		}
		row = append(row, accountCount(a, func(s *checks.Summary) int { return s.Error }), tableText(a.Error))
		if err := tb.Append(row...); err != nil {
			return fmt.Errorf("render table: %w", err)
		}
	}
	if err := tb.Render(); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	t.ew.printf("\n")
	return nil
}

func accountStatusColor(status string) string {
	switch status {
	case checks.AccountScanned:
		return ""
	case checks.AccountError:
		return ansiMagenta
	default:
		return ansiDim
	}
}

// accountCount is a count of an account's summary, or "-" when it has none (skipped).
func accountCount(a checks.AccountInfo, n func(*checks.Summary) int) string {
	if a.Summary == nil {
		return "-"
	}
	return thousands(n(a.Summary))
}

// tableText is a value as the table shows it: cut for display, on one line.
func tableText(s string) string {
	return singleLine(clipProse(s))
}
