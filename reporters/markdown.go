package reporters

import (
	"cmp"
	"html"
	"io"
	"strings"

	"github.com/coffer-audit/coffer/checks"
)

// Markdown writes a GitHub-flavoured summary for pull-request comments and $GITHUB_STEP_SUMMARY:
// a title with the verdict, counts by severity and status, each FAIL folded in a <details> with
// its commands, then errors, waivers and notices. PASS findings are listed only with ShowPass.
type Markdown struct {
	Options Options
}

var mdStatuses = []checks.Status{checks.StatusFail, checks.StatusError, checks.StatusWaived, checks.StatusPass}

// Write implements Reporter.
func (m *Markdown) Write(w io.Writer, r *checks.Report) error {
	if r == nil {
		return errNilReport
	}
	ew := &errWriter{w: w}
	fs := sortedFindings(r)
	c := countFindings(fs)

	title := "coffer: " + summaryLine(c)
	if r.AccountID != "" {
		title += " — account " + r.AccountID
	}
	ew.printf("## %s\n\n", mdProse(title))
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
		ew.printf("<sub>%s</sub>\n\n", strings.Join(meta, " · "))
	}

	ew.printf("| Severity | Fail | Error | Waived | Pass |\n|---|--:|--:|--:|--:|\n")
	for _, sev := range checks.Severities() {
		ew.printf("| %s |", sev)
		for _, st := range mdStatuses {
			ew.printf(" %d |", c.bySev[sev][st])
		}
		ew.printf("\n")
	}
	ew.printf("| **Total** |")
	for _, st := range mdStatuses {
		ew.printf(" **%d** |", c.byStatus[st])
	}
	ew.printf("\n\n")

	if c.byStatus[checks.StatusFail] > 0 {
		ew.printf("### Failures\n\n")
		for _, sev := range checks.Severities() {
			n := c.bySev[sev][checks.StatusFail]
			if n == 0 {
				continue
			}
			ew.printf("#### %s (%d)\n\n", sev, n)
			for _, f := range fs {
				if f.Severity != sev || f.Status != checks.StatusFail {
					continue
				}
				m.writeFailure(ew, f)
			}
		}
	}

	m.writeList(ew, fs, checks.StatusError, "Errors (not evaluated)", func(f checks.Finding) string {
		return mdProse(f.Message)
	})
	m.writeList(ew, fs, checks.StatusWaived, "Waived", func(f checks.Finding) string {
		return mdProse(waiverText(f.Waiver))
	})
	if m.Options.ShowPass {
		m.writeList(ew, fs, checks.StatusPass, "Passed", func(f checks.Finding) string {
			return mdProse(f.Title)
		})
	}

	if len(r.Notices) > 0 {
		ew.printf("### Notices\n\n")
		for _, n := range r.Notices {
			ew.printf("- %s\n", mdProse(n))
		}
		ew.printf("\n")
	}
	return ew.err
}

func (m *Markdown) writeFailure(ew *errWriter, f checks.Finding) {
	// Inside <summary> Markdown is not rendered, so this part is HTML.
	ew.printf("<details>\n<summary><b>%s</b> · <code>%s</code> — %s</summary>\n\n",
		html.EscapeString(clipProse(f.CheckID)), html.EscapeString(singleLine(displayLabel(f.Resource))),
		html.EscapeString(singleLine(clipProse(cmp.Or(f.Title, f.Message)))))
	ew.printf("%s\n\n", mdProse(f.Message))
	if f.InBaseline {
		ew.printf("- %s\n", mdText(knownNote))
	}
	ew.printf("- Resource: %s\n", mdCode(clipProse(cmp.Or(f.Resource.ARN, f.Resource.Name))))
	if fws := frameworkList(f.Frameworks); fws != "" {
		ew.printf("- Frameworks: %s\n", mdProse(fws))
	}
	if f.Remediation.Summary != "" {
		ew.printf("- Remediation (fix: %s): %s\n", mdProse(cmp.Or(string(f.Remediation.Fix), "manual")),
			mdProse(f.Remediation.Summary))
	}
	if len(f.Remediation.Commands) > 0 {
		cmds, shortened := clipCommands(f.Remediation.Commands)
		ew.printf("\n%s\n", mdCodeBlock("sh", strings.Join(cmds, "\n")))
		if shortened {
			ew.printf("\n<sub>%s</sub>\n", mdText(shortenedNote))
		}
	}
	ew.printf("\n</details>\n\n")
}

func (m *Markdown) writeList(ew *errWriter, fs []checks.Finding, st checks.Status, heading string, detail func(checks.Finding) string) {
	first := true
	for _, f := range fs {
		if f.Status != st {
			continue
		}
		if first {
			ew.printf("### %s\n\n", heading)
			first = false
		}
		ew.printf("- **%s** %s %s: %s\n", mdText(f.Severity.String()), mdProse(f.CheckID),
			mdCode(clipProse(cmp.Or(f.Resource.ARN, f.Resource.Name))), detail(f))
	}
	if !first {
		ew.printf("\n")
	}
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
