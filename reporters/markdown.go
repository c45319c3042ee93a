package reporters

import (
	"cmp"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/coffer-audit/coffer/checks"
)

// Markdown writes a GitHub-flavoured summary for $GITHUB_STEP_SUMMARY and pull-request
// comments: a title with the verdict, counts by severity and status, the failures grouped
// (Options.GroupBy), each entry folded in a <details> with its commands, then errors, waivers and
// notices; an organisation report starts with its accounts. PASS findings are listed only with
// ShowPass. The document never exceeds MaxMarkdownBytes, GitHub's limit for a job summary: what
// does not fit is left out at the end of the failures, least severe first, with a line saying how
// much and where to find it.
type Markdown struct {
	Options Options
	// limit overrides MaxMarkdownBytes; tests lower it rather than build megabytes.
	limit int
}

// GitHub's limits for Markdown (docs.github.com): a step's job summary holds 1 MiB, an issue or
// pull-request comment 65,536 characters. Documents are measured in bytes, which are never fewer
// than characters.
const (
	MaxMarkdownBytes = 1 << 20
	MaxCommentBytes  = 65536
)

var mdStatuses = []checks.Status{checks.StatusFail, checks.StatusError, checks.StatusWaived, checks.StatusPass}

// Write implements Reporter.
func (m *Markdown) Write(w io.Writer, r *checks.Report) error {
	if r == nil {
		return errNilReport
	}
	_, err := m.write(w, r, cmp.Or(m.limit, MaxMarkdownBytes))
	return err
}

// write renders the document within limit bytes and reports whether it left something out.
func (m *Markdown) write(w io.Writer, r *checks.Report, limit int) (cut bool, err error) {
	by := m.Options.GroupBy.orDefault()
	if err := validGroupBy(by); err != nil {
		return false, err
	}
	ew := &errWriter{w: w}
	fs := sortedFindings(r)
	shown := readFindings(r, shownFindings(fs, m.Options.ShowPass), by)
	org := len(r.Accounts) > 0
	d := &mdDoc{ew: ew, limit: limit, reportURL: m.Options.ReportURL, unit: blockUnit(by)}

	d.write(mdHead(r, countFindings(fs)))
	accountsCut := false
	if org {
		var accounts string
		accounts, accountsCut = mdAccounts(r.Accounts, limit/4, m.Options.ReportURL)
		d.write(accounts)
	}

	// Errors, waivers, passes and notices come after the failures but are kept whatever the
	// failures' size: they are rendered first, within a quarter of the limit, and the failures get
	// what is left.
	var tail strings.Builder
	td := &mdDoc{ew: &errWriter{w: &tail}, limit: limit / 4, reportURL: m.Options.ReportURL, unit: blockUnit(by)}
	if by == GroupByResource {
		td.unit = "group" // the lists are grouped by check
	}
	if org && by == GroupByAccount {
		for _, sec := range accountSections(r, shownFindings(fs, true)) {
			td.pending = "### Account " + mdText(sec.label()) + ": other findings\n\n"
			m.writeOthers(td, sec.listed(m.Options.ShowPass), GroupByCheck, "####", false)
		}
		td.pending = ""
	} else {
		m.writeOthers(td, shown, by, "###", org)
	}
	td.writeNotices(r.Notices)
	td.finish()
	d.reserve = tail.Len()

	if org && by == GroupByAccount {
		for _, sec := range accountSections(r, shownFindings(fs, true)) {
			d.pending = "### Account " + mdProse(sec.heading()) + "\n\n"
			m.writeFailures(d, sec.listed(m.Options.ShowPass), GroupByCheck, "####", false)
		}
		d.pending = ""
	} else {
		if countPtrs(shown).byStatus[checks.StatusFail] > 0 {
			d.pending = "### Failures\n\n"
		}
		m.writeFailures(d, shown, by, "####", org)
	}
	d.finish()
	d.reserve = 0
	d.write(tail.String())
	return accountsCut || d.omitted > 0 || td.omitted > 0, ew.err
}

// mdHead is the title, the scan's metadata and the counts by severity and status.
func mdHead(r *checks.Report, c counts) string {
	var b strings.Builder
	title := "coffer: " + summaryLine(c)
	if r.AccountID != "" {
		title += " — account " + r.AccountID
	}
	if len(r.Accounts) > 0 {
		title += " — " + accountsLine(r.Accounts)
	}
	fmt.Fprintf(&b, "## %s\n\n", mdProse(title))
	if r.Tool.Version != "" || !r.FinishedAt.IsZero() {
		var meta []string
		if r.Tool.Version != "" {
			meta = append(meta, "coffer "+mdProse(r.Tool.Version))
		}
		if len(r.Regions) > 0 {
			meta = append(meta, "regions "+mdProse(strings.Join(r.Regions, ", ")))
		}
		if !r.FinishedAt.IsZero() {
			meta = append(meta, "scanned "+r.FinishedAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		fmt.Fprintf(&b, "<sub>%s</sub>\n\n", strings.Join(meta, " · "))
	}

	b.WriteString("| Severity | Fail | Error | Waived | Pass |\n|---|--:|--:|--:|--:|\n")
	for _, sev := range checks.Severities() {
		fmt.Fprintf(&b, "| %s |", sev)
		for _, st := range mdStatuses {
			fmt.Fprintf(&b, " %d |", c.bySev[sev][st])
		}
		b.WriteString("\n")
	}
	b.WriteString("| **Total** |")
	for _, st := range mdStatuses {
		fmt.Fprintf(&b, " **%d** |", c.byStatus[st])
	}
	b.WriteString("\n\n")
	return b.String()
}

// mdAccounts is the organisation summary: a row per account with its status, its FAIL findings
// per severity and its errors, within limit bytes (the accounts after are counted in a line under
// the table); it reports whether it left accounts out.
func mdAccounts(accounts []checks.AccountInfo, limit int, reportURL string) (string, bool) {
	table := mdTable("### Accounts\n\n| Account | Status | Critical | High | Medium | Low | Errors |\n|---|---|--:|--:|--:|--:|--:|\n",
		len(accounts), len(accounts), limit,
		func(i int) string { return mdAccountRow(accounts[i]) },
		func(rest int) string { return mdMore(rest, "account", "accounts", reportURL) })
	return table, strings.Contains(table, "\n_… ")
}

func mdAccountRow(a checks.AccountInfo) string {
	label := a.ID
	if a.Name != "" {
		label += " (" + a.Name + ")"
	}
	status := a.Status
	if a.Error != "" {
		status += ": " + a.Error
	}
	row := "| " + mdProse(label) + " | " + mdProse(status) + " |"
	for _, sev := range checks.Severities() {
		row += " " + accountCount(a, func(s *checks.Summary) int { return s.BySeverity[sev.String()] }) + " |"
	}
	return row + " " + accountCount(a, func(s *checks.Summary) int { return s.Error }) + " |\n"
}

// mdMore says that n things are not shown and where they are: "… 12 more accounts are in the full
// report."
func mdMore(n int, one, many, reportURL string) string {
	return "_… " + thousands(n) + " more " + pluralWord(n, one, many) + " not shown here: see the " + mdReportLink(reportURL) + "._"
}

// mdReportLink is "full report", linked to reportURL when there is one.
func mdReportLink(reportURL string) string {
	if reportURL == "" {
		return "full report"
	}
	return "[full report](" + mdURL(reportURL) + ")"
}

// mdURL makes a URL safe as a Markdown link destination: characters that would end it or break
// the line are percent-encoded.
func mdURL(u string) string {
	var b strings.Builder
	for _, c := range []byte(u) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>[]`\"'\\|", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// writeFailures writes the FAIL findings of shown: by resource, a block per resource; else a
// heading per severity (at level) and a block per group.
func (m *Markdown) writeFailures(d *mdDoc, shown []*checks.Finding, by GroupBy, level string, org bool) {
	var fails []*checks.Finding
	for _, f := range shown {
		if f.Status == checks.StatusFail {
			fails = append(fails, f)
		}
	}
	if by == GroupByResource {
		for _, g := range GroupResources(fails) {
			if d.full() {
				d.skip(len(g.Findings))
				continue
			}
			d.block(m.resourceBlock(&g, org), len(g.Findings))
		}
		return
	}
	pending := d.pending
	for _, sev := range checks.Severities() {
		rows := ofSeverity(fails, sev)
		if len(rows) == 0 {
			continue
		}
		d.pending = pending + fmt.Sprintf("%s %s (%d)\n\n", level, sev, len(rows))
		pending = ""
		for _, g := range GroupFindings(rows, by) {
			if d.full() {
				d.skip(g.Len())
				continue
			}
			d.block(m.failureBlock(&g, org), g.Len())
		}
	}
	d.pending = ""
}

// failureBlock is one group of failures: a single finding as it always was, or the count, the
// first resources and the templates of a larger group.
func (m *Markdown) failureBlock(g *Group, org bool) string {
	var b strings.Builder
	f := g.First()
	label := displayLabel
	if org {
		label = accountLabel
	}
	// Inside <summary> Markdown is not rendered, so this part is HTML.
	what := "<code>" + html.EscapeString(singleLine(label(f.Resource))) + "</code>"
	if g.Len() > 1 {
		what = thousands(g.Len()) + " resources"
	}
	fmt.Fprintf(&b, "<details>\n<summary><b>%s</b> · %s — %s</summary>\n\n",
		html.EscapeString(clipProse(f.CheckID)), what,
		html.EscapeString(singleLine(clipProse(cmp.Or(f.Title, g.Message)))))
	fmt.Fprintf(&b, "%s\n\n", mdProse(g.Message))
	if f.InBaseline {
		fmt.Fprintf(&b, "- %s\n", mdText(knownNote))
	}
	if g.Len() == 1 {
		fmt.Fprintf(&b, "- Resource: %s\n", mdCode(clipProse(cmp.Or(f.Resource.ARN, f.Resource.Name))))
	} else {
		fmt.Fprintf(&b, "- Resources: %s\n", mdGroupResources(g, label))
	}
	if fws := frameworkList(f.Frameworks); fws != "" {
		fmt.Fprintf(&b, "- Frameworks: %s\n", mdProse(fws))
	}
	if f.Remediation.Summary != "" {
		fmt.Fprintf(&b, "- Remediation (fix: %s): %s\n", mdProse(cmp.Or(string(f.Remediation.Fix), "manual")),
			mdProse(f.Remediation.Summary))
	}
	if len(g.Commands) > 0 {
		cmds, shortened := clipCommands(g.Commands)
		fmt.Fprintf(&b, "\n%s\n", mdCodeBlock("sh", strings.Join(cmds, "\n")))
		if shortened {
			fmt.Fprintf(&b, "\n<sub>%s</sub>\n", mdText(shortenedNote))
		}
		if len(g.Placeholders) > 0 {
			fmt.Fprintf(&b, "\n<sub>%s</sub>\n", mdText(placeholderNote(g.Placeholders)))
		}
	}
	b.WriteString("\n</details>\n\n")
	return b.String()
}

// mdGroupResources is "`a`, `b`, `c`, `d`, `e` and 1,234 more".
func mdGroupResources(g *Group, label func(checks.Resource) string) string {
	names := groupResourceNames(g, label)
	for i, n := range names {
		names[i] = mdCode(n)
	}
	s := strings.Join(names, ", ")
	if more := g.Len() - len(names); more > 0 {
		s += " and " + thousands(more) + " more"
	}
	return s
}

// resourceBlock is one resource and the checks it fails, each with its commands.
func (m *Markdown) resourceBlock(g *ResourceGroup, org bool) string {
	var b strings.Builder
	label := displayLabel
	if org {
		label = accountLabel
	}
	ids := make([]string, len(g.Findings))
	for i, f := range g.Findings {
		ids[i] = clipProse(f.CheckID)
	}
	fmt.Fprintf(&b, "<details>\n<summary><b>%s</b> — %s</summary>\n\n- Resource: %s\n\n",
		html.EscapeString(singleLine(label(g.Resource))),
		html.EscapeString(plural(len(ids), "failing check", "failing checks")+": "+clipProse(strings.Join(ids, ", "))),
		mdCode(clipProse(cmp.Or(g.Resource.ARN, g.Resource.Name))))
	for _, f := range g.Findings {
		fmt.Fprintf(&b, "**%s** %s (fix: %s): %s\n", mdText(f.Severity.String()), mdProse(f.CheckID),
			mdProse(cmp.Or(string(f.Remediation.Fix), "manual")), mdProse(f.Message))
		if f.InBaseline {
			fmt.Fprintf(&b, "%s\n", mdText(knownNote))
		}
		if len(f.Remediation.Commands) > 0 {
			cmds, shortened := clipCommands(f.Remediation.Commands)
			fmt.Fprintf(&b, "\n%s\n", mdCodeBlock("sh", strings.Join(cmds, "\n")))
			if shortened {
				fmt.Fprintf(&b, "\n<sub>%s</sub>\n", mdText(shortenedNote))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("</details>\n\n")
	return b.String()
}

// writeOthers writes the lists of errors, waivers and (with ShowPass) passes, grouped by check
// unless by is GroupByNone.
func (m *Markdown) writeOthers(d *mdDoc, shown []*checks.Finding, by GroupBy, level string, org bool) {
	if by != GroupByNone {
		by = GroupByCheck
	}
	m.writeList(d, shown, by, org, checks.StatusError, level+" Errors (not evaluated)", func(g *Group) string {
		return mdProse(g.Message)
	})
	m.writeList(d, shown, by, org, checks.StatusWaived, level+" Waived", func(g *Group) string {
		return mdProse(waiverText(g.First().Waiver))
	})
	if m.Options.ShowPass {
		m.writeList(d, shown, by, org, checks.StatusPass, level+" Passed", func(g *Group) string {
			return mdProse(g.First().Title)
		})
	}
}

func (m *Markdown) writeList(d *mdDoc, shown []*checks.Finding, by GroupBy, org bool, st checks.Status, heading string, detail func(*Group) string) {
	var fs []*checks.Finding
	for _, f := range shown {
		if f.Status == st {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		return
	}
	pending := d.pending
	d.pending = pending + heading + "\n\n"
	label := displayLabel
	if org {
		label = accountLabel
	}
	wrote := false
	for _, g := range GroupFindings(fs, by) {
		if d.full() {
			d.skip(g.Len())
			continue
		}
		f := g.First()
		var what string
		if g.Len() == 1 {
			what = mdCode(clipProse(cmp.Or(f.Resource.ARN, f.Resource.Name)))
			if org && f.Resource.AccountID != "" {
				what = mdText(f.Resource.AccountID) + " " + what
			}
		} else {
			what = "on " + thousands(g.Len()) + " resources (" + mdGroupResources(&g, label) + ")"
		}
		wrote = d.block(fmt.Sprintf("- **%s** %s %s: %s\n", mdText(f.Severity.String()), mdProse(f.CheckID), what, detail(&g)), g.Len()) || wrote
	}
	if wrote {
		d.write("\n")
	} else {
		d.pending = pending
	}
}

// cutReserve is room kept for the line that says what was left out (a URL is at most three times
// longer escaped).
func (d *mdDoc) cutReserve() int { return 256 + 3*len(d.reportURL) }

// mdDoc writes a Markdown document in blocks (an entry, a list item, a table row) while they fit
// in limit bytes with reserve bytes to spare, so that a document is never cut inside a table or a
// <details>. From the first block that does not fit on, it counts what it leaves out; finish then
// says how much.
type mdDoc struct {
	ew        *errWriter
	limit     int
	reserve   int // bytes kept free for what comes after the blocks
	used      int
	pending   string // a heading to write before the next block that fits
	omitted   int    // blocks (groups) left out
	omittedN  int    // findings in them
	reportURL string
	unit      string // what a block is: "group", "resource"; "" for a finding
}

// blockUnit is what a block of the failures is under a grouping.
func blockUnit(by GroupBy) string {
	switch by {
	case GroupByNone:
		return ""
	case GroupByResource:
		return "resource"
	}
	return "group"
}

// write adds s whatever its size: for the parts every document has (title, counts).
func (d *mdDoc) write(s string) {
	d.ew.printf("%s", s)
	d.used += len(s)
}

// full reports whether blocks are no longer written (one did not fit).
func (d *mdDoc) full() bool { return d.omitted > 0 }

// block writes the pending heading and s if they fit, and reports whether they did; it stands
// for findings findings.
func (d *mdDoc) block(s string, findings int) bool {
	if !d.full() && d.used+len(d.pending)+len(s)+d.reserve+d.cutReserve() <= d.limit {
		d.write(d.pending + s)
		d.pending = ""
		return true
	}
	d.skip(findings)
	return false
}

// skip counts a block left out.
func (d *mdDoc) skip(findings int) {
	d.omitted++
	d.omittedN += findings
}

// finish writes the line saying what was left out, if anything was.
func (d *mdDoc) finish() {
	if d.omitted == 0 {
		return
	}
	var what string
	switch {
	case d.omittedN == 0:
		what = thousands(d.omitted) + " more " + pluralWord(d.omitted, "entry", "entries")
	case d.unit == "" || d.unit == "group" && d.omitted == d.omittedN:
		what = thousands(d.omittedN) + " more " + pluralWord(d.omittedN, "finding", "findings")
	default:
		what = thousands(d.omitted) + " more " + pluralWord(d.omitted, d.unit, d.unit+"s") +
			" (" + thousands(d.omittedN) + " " + pluralWord(d.omittedN, "finding", "findings") + ")"
	}
	d.write(fmt.Sprintf("**… %s not shown** to keep this report within %s: see the %s for every finding.\n\n",
		what, byteSize(d.limit), mdReportLink(d.reportURL)))
}

// writeNotices writes the notices as a list, each a block.
func (d *mdDoc) writeNotices(notices []string) {
	if len(notices) == 0 {
		return
	}
	d.pending = "### Notices\n\n"
	wrote := false
	for _, n := range notices {
		if d.full() {
			d.skip(0)
			continue
		}
		wrote = d.block("- "+mdProse(n)+"\n", 0) || wrote
	}
	d.pending = ""
	if wrote {
		d.write("\n")
	}
}

// byteSize is "1 MiB", "64 KiB" or "900 bytes".
func byteSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return thousands(n) + " bytes"
}

// mdEscaper makes text literal in GitHub Markdown, also inside a table cell: HTML-significant
// characters become entities and Markdown punctuation is backslash-escaped.
var mdEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"|", `\|`, "~", `\~`, "#", `\#`,
)

func mdText(s string) string {
	return mdEscaper.Replace(singleLine(s))
}

// mdProse is mdText of a value cut for display (clipProse).
func mdProse(s string) string {
	return mdText(clipProse(s))
}

// mdCode is an inline code span that survives any backticks in s, with '|' escaped so it can sit
// in a table row.
func mdCode(s string) string {
	s = strings.ReplaceAll(singleLine(s), "|", `\|`)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdCodeBlock is a fenced block whose fence is longer than any backtick run in the content.
func mdCodeBlock(lang, content string) string {
	fence := strings.Repeat("`", max(3, longestRun(content, '`')+1))
	return fence + lang + "\n" + content + "\n" + fence
}

func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}
