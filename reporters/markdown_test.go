package reporters

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
)

// manyFindings is an account of n buckets, each failing versioning in its own way (nothing
// groups), a few with names and messages as long as display allows, plus errors and notices.
func manyFindings(n int) *checks.Report {
	r := goldenReport()
	rule, _ := r.RuleByID("s3-bucket-versioning")
	for i := range n {
		name := fmt.Sprintf("bucket-%06d", i)
		if i%1000 == 0 {
			name += strings.Repeat("x", 200) // longer than a word is shown
		}
		r.Findings = append(r.Findings, checks.Finding{
			CheckID: rule.ID, Title: rule.Title, Severity: checks.Severities()[i%4], Status: checks.StatusFail,
			Resource:    checks.Resource{ARN: "arn:aws:s3:::" + name, Type: "AWS::S3::Bucket", Name: name, Region: "eu-west-1", Role: "primary"},
			Message:     fmt.Sprintf("Bucket %s does not have versioning enabled (status %d).", name, i),
			Frameworks:  rule.Frameworks,
			Remediation: checks.Remediation{Summary: rule.Remediation.Summary, Fix: checks.FixAuto, Commands: []string{fmt.Sprintf("aws s3api put-bucket-versioning --bucket %s --region r%d", name, i)}},
		})
	}
	for i := range 50 {
		r.Notices = append(r.Notices, fmt.Sprintf("Notice %d: %s", i, strings.Repeat("long ", 100)))
	}
	r.Summarize()
	return r
}

// checkMarkdownShape fails when a document is cut inside a construct: every <details> is closed,
// code fences pair up, and a line that is not a table row never follows a table row directly
// (GitHub would read it as one more row).
func checkMarkdownShape(t *testing.T, name, doc string) {
	t.Helper()
	if open, closed := strings.Count(doc, "<details>"), strings.Count(doc, "</details>"); open != closed {
		t.Errorf("%s: %d <details> and %d </details>", name, open, closed)
	}
	lines := strings.Split(doc, "\n")
	fences := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			fences++
		}
		if i > 0 && strings.HasPrefix(lines[i-1], "|") && l != "" && !strings.HasPrefix(l, "|") {
			t.Errorf("%s: line %d follows a table row without a blank line: %.80q", name, i+1, l)
		}
	}
	if fences%2 != 0 {
		t.Errorf("%s: %d code fences, an odd number", name, fences)
	}
}

// TestMarkdownFitsWhereItGoes: whatever the account, the Markdown report is at most 1 MiB (a
// GitHub job summary) and the comment at most 65,536 bytes (a pull-request comment); what does not
// fit is counted in a line that points at the full report; nothing is cut inside a table, a
// <details> or a code block; errors and notices are kept.
func TestMarkdownFitsWhereItGoes(t *testing.T) {
	big := manyFindings(40000)
	tests := []struct {
		name   string
		format string
		opts   Options
		r      *checks.Report
		limit  int
		want   []string
	}{
		{"markdown", FormatMarkdown, Options{}, big, MaxMarkdownBytes,
			[]string{"more findings not shown** to keep this report within 1 MiB: see the full report", "### Errors (not evaluated)", "### Notices"}},
		{"markdown by resource", FormatMarkdown, Options{GroupBy: GroupByResource}, big, MaxMarkdownBytes,
			[]string{"more resources (", "### Errors (not evaluated)"}},
		{"markdown, detail", FormatMarkdown, Options{GroupBy: GroupByNone, ReportURL: "https://ci.example/run/1?x=(y)"}, big, MaxMarkdownBytes,
			[]string{"see the [full report](https://ci.example/run/1?x=%28y%29) for every finding"}},
		{"comment", FormatMarkdownComment, Options{}, big, MaxCommentBytes,
			[]string{"### Failing checks", "### Resources failing the most checks", "more groups of failures not shown here",
				"This comment is a digest", "**Notices:** 51"}},
		{"comment, organisation", FormatMarkdownComment, Options{ReportURL: "https://ci.example/run/1"}, bigOrg(300), MaxCommentBytes,
			[]string{"### Accounts (most failures first)", "| 333333333333 (legacy) | error:", "more accounts not shown here", "[full report](https://ci.example/run/1)"}},
		{"markdown, organisation by account", FormatMarkdown, Options{GroupBy: GroupByAccount}, bigOrg(300), MaxMarkdownBytes,
			[]string{"### Accounts", "### Account 111111111111 (prod): "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := string(render(t, tc.format, tc.opts, tc.r))
			if len(out) > tc.limit {
				t.Errorf("%d bytes, more than %d", len(out), tc.limit)
			}
			if tc.format == FormatMarkdown && len(out) < tc.limit*3/4 {
				t.Errorf("%d bytes: far below the limit %d, so little was shown", len(out), tc.limit)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("lacks %q", want)
				}
			}
			checkMarkdownShape(t, tc.name, out)
		})
	}
}

// bigOrg is orgReport with n more accounts, each with a failure of its own.
func bigOrg(n int) *checks.Report {
	reports, accounts := orgReports()
	for i := range n {
		id := fmt.Sprintf("%012d", 700000000000+i)
		r := accountCopy(goldenReport(), id)
		r.Summarize()
		s := r.Summary
		reports = append(reports, r)
		accounts = append(accounts, checks.AccountInfo{ID: id, Name: fmt.Sprintf("team-%d", i), Status: checks.AccountScanned, Summary: &s})
	}
	return checks.MergeReports(reports, accounts)
}

// TestMarkdownCut: with a small limit, the failures that fit are whole, the line says how many
// groups and findings it left out, and the errors, waivers and notices after it are there.
func TestMarkdownCut(t *testing.T) {
	var full bytes.Buffer
	if err := (&Markdown{}).Write(&full, groupedReport()); err != nil {
		t.Fatal(err)
	}
	// The full document has 6,027 bytes, of which the errors, waivers and notices 1,026: they keep
	// their place down to a limit four times theirs and the line on what was left out.
	if full.Len() != 6027 {
		t.Fatalf("the full document has %d bytes; the limits below were chosen for 6,027", full.Len())
	}
	for _, limit := range []int{5200, 5600, 6000} {
		var buf bytes.Buffer
		if err := (&Markdown{limit: limit}).Write(&buf, groupedReport()); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if len(out) > limit {
			t.Errorf("limit %d: %d bytes", limit, len(out))
		}
		for _, want := range []string{" not shown** to keep this report within ", "### Errors (not evaluated)", "### Waived", "### Notices", "| **Total** |"} {
			if !strings.Contains(out, want) {
				t.Errorf("limit %d: lacks %q:\n%s", limit, want, out)
			}
		}
		checkMarkdownShape(t, fmt.Sprint(limit), out)
		// What is shown is the start of the full document's failures, most severe first.
		shown, _, _ := strings.Cut(out, "**…")
		if !strings.HasPrefix(full.String(), shown) {
			t.Errorf("limit %d: the failures shown are not the full report's first ones", limit)
		}
	}
}

// TestMarkdownCommentOfASmallAccount: an account whose report fits in a comment gets the Markdown
// report itself, so the two read the same.
func TestMarkdownCommentOfASmallAccount(t *testing.T) {
	for name, r := range map[string]func() *checks.Report{"golden": goldenReport, "grouped": groupedReport, "organisation": orgReport} {
		md := render(t, FormatMarkdown, Options{}, r())
		comment := render(t, FormatMarkdownComment, Options{}, r())
		if !bytes.Equal(md, comment) {
			t.Errorf("%s: the comment differs from the Markdown report", name)
		}
	}
}
