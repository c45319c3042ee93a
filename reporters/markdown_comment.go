package reporters

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/coffer-audit/coffer/checks"
)

// MarkdownComment writes Markdown for a pull-request comment, within MaxCommentBytes (GitHub
// refuses a longer comment). It is the Markdown report itself when that fits, so a small account
// reads the same in both; else a digest: the counts, the accounts of an organisation, a row per
// group of failures (most severe, then largest first), the resources that fail the most checks,
// and where the full report is (Options.ReportURL when set).
type MarkdownComment struct {
	Options Options
	// limit overrides MaxCommentBytes; tests lower it.
	limit int
}

// Write implements Reporter.
func (m *MarkdownComment) Write(w io.Writer, r *checks.Report) error {
	if r == nil {
		return errNilReport
	}
	limit := cmp.Or(m.limit, MaxCommentBytes)
	var full bytes.Buffer
	cut, err := (&Markdown{Options: m.Options}).write(&full, r, limit)
	if err != nil {
		return err
	}
	if !cut {
		_, err := w.Write(full.Bytes())
		return err
	}
	return m.digest(w, r, limit)
}

// commentDigestRows bound the digest's tables: a comment is read, not searched.
const (
	digestTopAccounts  = 20
	digestTopResources = 10
	digestNames        = 3
	digestMessage      = 300 // characters of a group's message
)

func (m *MarkdownComment) digest(w io.Writer, r *checks.Report, limit int) error {
	by := m.Options.GroupBy.orDefault()
	if by == GroupByAccount || by == GroupByResource {
		by = GroupByCheck // the digest's rows are failure kinds; resources have a table of their own
	}
	fs := sortedFindings(r)
	c := countFindings(fs)
	org := len(r.Accounts) > 0
	label := displayLabel
	if org {
		label = accountLabel
	}
	var fails []*checks.Finding
	for i := range fs {
		if fs[i].Status == checks.StatusFail {
			fails = append(fails, &fs[i])
		}
	}

	var b strings.Builder
	b.WriteString(mdHead(r, c))
	pointer := "This comment is a digest: the whole report does not fit in a comment. The " + mdReportLink(m.Options.ReportURL) +
		" has every finding with its remediation commands"
	if m.Options.ReportURL == "" {
		pointer += " (this run's JSON, HTML or Markdown report, e.g. among its artifacts)"
	}
	pointer += ".\n"
	// What every digest ends with is kept out of the budget of the tables.
	var tail strings.Builder
	if n := c.byStatus[checks.StatusError]; n > 0 {
		fmt.Fprintf(&tail, "- **Not evaluated (ERROR):** %s on %s.\n", plural(n, "finding", "findings"), checksOf(fs, checks.StatusError))
	}
	if n := c.byStatus[checks.StatusWaived]; n > 0 {
		fmt.Fprintf(&tail, "- **Waived:** %s.\n", plural(n, "finding", "findings"))
	}
	if n := len(r.Notices); n > 0 {
		fmt.Fprintf(&tail, "- **Notices:** %d, in the full report.\n", n)
	}
	if tail.Len() > 0 {
		tail.WriteString("\n")
	}
	tail.WriteString(pointer)
	budget := func() int { return limit - b.Len() - tail.Len() }

	if org {
		accounts := slices.Clone(r.Accounts)
		slices.SortStableFunc(accounts, compareAccountsWorstFirst)
		b.WriteString(mdTable("### Accounts (most failures first)\n\n| Account | Status | Critical | High | Medium | Low | Errors |\n|---|---|--:|--:|--:|--:|--:|\n",
			min(len(accounts), digestTopAccounts), len(accounts), budget()/4,
			func(i int) string { return mdAccountRow(accounts[i]) },
			func(rest int) string { return mdMore(rest, "account", "accounts", m.Options.ReportURL) }))
	}

	if len(fails) > 0 {
		groups := GroupFindings(fails, by)
		slices.SortStableFunc(groups, func(a, b Group) int {
			return cmp.Or(cmp.Compare(b.First().Severity, a.First().Severity), cmp.Compare(b.Len(), a.Len()))
		})
		top := topResources(fails)
		topTable := mdTable("### Resources failing the most checks\n\n| Resource | Failing checks |\n|---|---|\n",
			min(len(top), digestTopResources), len(top), budget()/4,
			func(i int) string {
				return "| " + mdCode(label(top[i].Resource)) + " | " + mdText(thousands(len(top[i].Findings))+": "+checkIDs(top[i].Findings, digestNames)) + " |\n"
			},
			func(rest int) string { return mdMore(rest, "resource", "resources", m.Options.ReportURL) })
		b.WriteString(mdTable("### Failing checks\n\n| Severity | Check | Resources | What fails |\n|---|---|--:|---|\n",
			len(groups), len(groups), budget()-len(topTable),
			func(i int) string {
				g := &groups[i]
				f := g.First()
				what := mdProse(clipChars(g.Message, digestMessage))
				if f.InBaseline {
					what = "Known: " + what
				}
				names := make([]string, 0, digestNames)
				for _, f := range g.Findings[:min(g.Len(), digestNames)] {
					names = append(names, mdCode(label(f.Resource)))
				}
				list := strings.Join(names, ", ")
				if more := g.Len() - len(names); more > 0 {
					list += " and " + thousands(more) + " more"
				}
				return fmt.Sprintf("| %s | %s | %s | %s (%s) |\n", f.Severity, mdProse(f.CheckID), thousands(g.Len()), what, list)
			},
			func(rest int) string {
				return mdMore(rest, "group of failures", "groups of failures", m.Options.ReportURL)
			}))
		b.WriteString(topTable)
	}
	b.WriteString(tail.String())
	_, err := io.WriteString(w, b.String())
	return err
}

// mdTable is a table of the first show of n rows within budget bytes, then a line saying how many
// rows it left out. It is never cut inside a row, and the line is apart from the table (a line
// right under a table would be read as one more row).
func mdTable(header string, show, n, budget int, row func(int) string, more func(rest int) string) string {
	var b strings.Builder
	b.WriteString(header)
	reserve := len(more(n)) + 8
	i := 0
	for ; i < show; i++ {
		s := row(i)
		if b.Len()+len(s)+reserve > budget {
			break
		}
		b.WriteString(s)
	}
	if i == 0 {
		return ""
	}
	b.WriteString("\n")
	if i < n {
		b.WriteString(more(n-i) + "\n\n")
	}
	return b.String()
}

// compareAccountsWorstFirst puts accounts not scanned first, then by FAIL counts from the most
// severe, then by errors.
func compareAccountsWorstFirst(a, b checks.AccountInfo) int {
	notScanned := func(x checks.AccountInfo) bool { return x.Status != checks.AccountScanned }
	if c := -cmpBool(notScanned(a), notScanned(b)); c != 0 {
		return c
	}
	get := func(x checks.AccountInfo, f func(*checks.Summary) int) int {
		if x.Summary == nil {
			return 0
		}
		return f(x.Summary)
	}
	for _, sev := range checks.Severities() {
		n := func(s *checks.Summary) int { return s.BySeverity[sev.String()] }
		if c := cmp.Compare(get(b, n), get(a, n)); c != 0 {
			return c
		}
	}
	return cmp.Compare(get(b, func(s *checks.Summary) int { return s.Error }), get(a, func(s *checks.Summary) int { return s.Error }))
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// topResources are the resources with FAIL findings, those failing the most checks first.
func topResources(fails []*checks.Finding) []ResourceGroup {
	groups := GroupResources(fails)
	slices.SortStableFunc(groups, func(a, b ResourceGroup) int { return cmp.Compare(len(b.Findings), len(a.Findings)) })
	return groups
}

// checkIDs is "a, b, c and 4 more".
func checkIDs(fs []*checks.Finding, n int) string {
	ids := make([]string, 0, n+1)
	for _, f := range fs[:min(len(fs), n)] {
		ids = append(ids, clipProse(f.CheckID))
	}
	s := strings.Join(ids, ", ")
	if more := len(fs) - len(ids); more > 0 {
		s += " and " + thousands(more) + " more"
	}
	return s
}

// checksOf is "3 checks" with status st.
func checksOf(fs []checks.Finding, st checks.Status) string {
	ids := map[string]bool{}
	for i := range fs {
		if fs[i].Status == st {
			ids[fs[i].CheckID] = true
		}
	}
	return plural(len(ids), "check", "checks")
}

// clipChars cuts display text to n characters (clipProse first), ending it with an ellipsis.
func clipChars(s string, n int) string {
	s = clipProse(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return prefixChars(s, n-1) + ellipsis
}
