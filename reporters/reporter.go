// Package reporters renders a *checks.Report in the output formats of DESIGN §5–§7 and §15: a
// terminal table, the JSON contract, SARIF for GitHub code scanning, JUnit XML for CI test
// reports, Markdown for job summaries and pull-request comments and a self-contained HTML page.
// The formats for people group what repeats (GroupFindings, Options.GroupBy) and stay within the
// limits of where they are read; the formats for machines keep one entry per finding, and JSON
// and SARIF can be written account by account for an organisation (NewStream). The table, JSON and
// Markdown reporters also render a *checks.Diff (`coffer diff`, DiffReporter), with the same
// escaping, and the table and JSON the check catalog (`coffer checks`, CatalogReporter);
// WriteExplanation is `coffer explain`. Reporters never modify what they are given and write the
// same bytes for the same input. Which files a report is written to is theirs too (OutputFiles:
// SARIF splits).
package reporters

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/coffer-audit/coffer/checks"
)

// Reporter writes a report in one format.
type Reporter interface {
	Write(w io.Writer, r *checks.Report) error
}

// Options tune the reporters; each format reads the fields it understands.
type Options struct {
	// Color enables ANSI colour in the table. The CLI sets it only for a terminal.
	Color bool
	// ShowPass lists PASS findings in the table and Markdown (JSON, JUnit always have them).
	ShowPass bool
	// GroupBy says what one entry of the table and Markdown is (GroupFindings); "" is
	// GroupByCheck. JSON, SARIF and JUnit keep one entry per finding.
	GroupBy GroupBy
	// ReportURL, when set, is where the Markdown reports point readers for the full report
	// (e.g. the workflow run's artifacts).
	ReportURL string
	// Category is appended to the SARIF automationDetails.id ("coffer/<account>/<category>/") so
	// uploads for different regions or parts of a split land in separate GitHub categories.
	Category string
	// Region is the scanned account's home region: the region of the Security Hub the ASFF findings
	// are for (their ProductArn), and the region OCSF gives resources that have none (IAM).
	Region string

	// orgRunElsewhere leaves the organisation run out of an organisation's SARIF log: another file
	// of the split holds it (sarifOrgFiles).
	orgRunElsewhere bool
}

// The formats, in the order Formats lists them.
const (
	FormatTable    = "table"
	FormatJSON     = "json"
	FormatSARIF    = "sarif"
	FormatJUnit    = "junit"
	FormatMarkdown = "markdown"
	// FormatMarkdownComment is Markdown that fits in a pull-request comment.
	FormatMarkdownComment = "markdown-comment"
	FormatHTML            = "html"
	FormatASFF            = "asff"
	FormatOCSF            = "ocsf"
)

// registry maps a format name to its constructor. Adding a format is its file, its test, its
// golden file and one line here; a format renders diffs or the catalog too when its reporter
// implements DiffReporter or CatalogReporter.
var registry = map[string]func(Options) Reporter{
	FormatTable:           func(o Options) Reporter { return &Table{Options: o} },
	FormatJSON:            func(o Options) Reporter { return &JSON{} },
	FormatSARIF:           func(o Options) Reporter { return &SARIF{Options: o} },
	FormatJUnit:           func(o Options) Reporter { return &JUnit{} },
	FormatMarkdown:        func(o Options) Reporter { return &Markdown{Options: o} },
	FormatMarkdownComment: func(o Options) Reporter { return &MarkdownComment{Options: o} },
	FormatHTML:            func(o Options) Reporter { return &HTML{Options: o} },
	FormatASFF:            func(o Options) Reporter { return &ASFF{Options: o} },
	FormatOCSF:            func(o Options) Reporter { return &OCSF{Options: o} },
}

var (
	_ Reporter = (*Table)(nil)
	_ Reporter = (*JSON)(nil)
	_ Reporter = (*SARIF)(nil)
	_ Reporter = (*JUnit)(nil)
	_ Reporter = (*Markdown)(nil)
	_ Reporter = (*MarkdownComment)(nil)
	_ Reporter = (*HTML)(nil)
	_ Reporter = (*ASFF)(nil)
	_ Reporter = (*OCSF)(nil)
)

// Formats lists the known format names, sorted.
func Formats() []string {
	names := make([]string, 0, len(registry))
	for name := range registry {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// New returns the reporter for a format name (case-insensitive). An unknown name is an error that
// lists the known ones; there is no fallback format.
func New(format string, opts Options) (Reporter, error) {
	ctor, ok := registry[strings.ToLower(strings.TrimSpace(format))]
	if !ok {
		return nil, fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(Formats(), ", "))
	}
	return ctor(opts), nil
}

// OutputFile is one file to write a report to: where, which report (a part of the whole when the
// format splits), and the options to render it with.
type OutputFile struct {
	Path    string
	Report  *checks.Report
	Options Options
}

// OutputFiles says which files to write for a report asked for in format at path: path itself,
// except for a SARIF log with more results than GitHub shows (SARIFResultsPerFile), which is split
// into NAME.part-N.sarif files with a category each. Upload or keep every file.
func OutputFiles(format, path string, r *checks.Report, opts Options) []OutputFile {
	if strings.EqualFold(strings.TrimSpace(format), FormatSARIF) {
		return sarifFiles(path, r, opts)
	}
	return []OutputFile{{Path: path, Report: r, Options: opts}}
}

// SplitNotice tells the user that a report was split into files and what to do with them; "" when
// files is a single file.
func SplitNotice(files []OutputFile) string {
	if len(files) < 2 {
		return ""
	}
	failing := 0
	for _, f := range files {
		failing += f.Report.Summary.Fail
	}
	if len(files[0].Report.Accounts) > 0 {
		return orgSplitNotice(files[0].Path, len(files))
	}
	return fmt.Sprintf("%d failing results exceed the %d GitHub shows per run; SARIF split into %s..%d.sarif (upload each)",
		failing, SARIFResultsPerFile, strings.TrimSuffix(files[0].Path, ".sarif"), len(files))
}

// orgSplitNotice is SplitNotice of an organisation's log split into n files, the first at first.
func orgSplitNotice(first string, n int) string {
	return fmt.Sprintf("the accounts' runs exceed the %d GitHub takes per SARIF file; SARIF split into %s..%d.sarif (upload each; an account keeps its category in any file)",
		MaxSARIFRuns, strings.TrimSuffix(first, ".sarif"), n)
}

// errWriter remembers the first write error so renderers can print freely and check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// errNilReport is returned by every reporter given a nil report.
var errNilReport = errors.New("nil report")

// sortedFindings returns the findings sorted by (account, check_id, resource ARN, status), the
// order of DESIGN §6 (checks.CompareFindings): the report's own slice when it is sorted already, as the engine's are (a large
// account's 130k findings, 33 MB, are then not copied), else a sorted copy. Callers must not
// modify it.
func sortedFindings(r *checks.Report) []checks.Finding {
	if slices.IsSortedFunc(r.Findings, compareFindings) {
		return r.Findings
	}
	fs := slices.Clone(r.Findings)
	slices.SortStableFunc(fs, compareFindings)
	return fs
}

func compareFindings(a, b checks.Finding) int {
	return checks.CompareFindings(a, b)
}

// sortedRules returns a copy of the report's rules sorted by id, plus a synthetic rule for every
// check id that has findings but no rule (a report assembled by hand), so every finding has one.
func sortedRules(r *checks.Report) []checks.Rule {
	rules := slices.Clone(r.Rules)
	seen := make(map[string]bool, len(rules))
	for _, rule := range rules {
		seen[rule.ID] = true
	}
	for _, f := range r.Findings {
		if !seen[f.CheckID] {
			seen[f.CheckID] = true
			rules = append(rules, checks.Rule{
				ID: f.CheckID, Title: f.Title, Severity: f.Severity, Frameworks: f.Frameworks,
				Remediation: checks.RuleRemediation{Summary: f.Remediation.Summary, Fix: f.Remediation.Fix},
			})
		}
	}
	slices.SortStableFunc(rules, func(a, b checks.Rule) int { return cmp.Compare(a.ID, b.ID) })
	return rules
}

// counts tallies findings by status and, per severity, by status.
type counts struct {
	byStatus map[checks.Status]int
	bySev    map[checks.Severity]map[checks.Status]int
	known    int // FAIL findings in the baseline
}

func countFindings(fs []checks.Finding) counts {
	c := newCounts()
	for i := range fs {
		c.add(&fs[i])
	}
	return c
}

// countPtrs is countFindings of findings the formats for people have picked.
func countPtrs(fs []*checks.Finding) counts {
	c := newCounts()
	for _, f := range fs {
		c.add(f)
	}
	return c
}

func newCounts() counts {
	return counts{byStatus: map[checks.Status]int{}, bySev: map[checks.Severity]map[checks.Status]int{}}
}

func (c *counts) add(f *checks.Finding) {
	c.byStatus[f.Status]++
	if c.bySev[f.Severity] == nil {
		c.bySev[f.Severity] = map[checks.Status]int{}
	}
	c.bySev[f.Severity][f.Status]++
	if f.InBaseline {
		c.known++
	}
}

// knownPrefix and knownNote mark a FAIL that the baseline report of `scan --baseline` already had.
const (
	knownPrefix = "Known (in the baseline): "
	knownNote   = "Known: this check also failed on this resource in the baseline report, so it does not fail the gate."
)

// summaryLine is the one-line verdict shared by the table and Markdown, e.g.
// "12 failed (2 critical, 5 high, 5 low), 3 errors, 40 passed, 1 waived".
func summaryLine(c counts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d failed", c.byStatus[checks.StatusFail])
	var parts []string
	for _, sev := range checks.Severities() {
		if n := c.bySev[sev][checks.StatusFail]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(sev.String())))
		}
	}
	if c.known > 0 {
		parts = append(parts, fmt.Sprintf("%d known from the baseline", c.known))
	}
	if len(parts) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, ", %s, %d passed, %d waived",
		plural(c.byStatus[checks.StatusError], "error", "errors"),
		c.byStatus[checks.StatusPass], c.byStatus[checks.StatusWaived])
	return b.String()
}

// pluralWord is one or many by n.
func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// NotApplicable reports whether a PASS finding records that the check does not apply to the
// resource (DESIGN §4: MFA Delete where a lifecycle configuration exists): the engine sets
// Finding.NotApplicable from the check's note; the message's wording does not count.
func NotApplicable(f checks.Finding) bool {
	return f.Status == checks.StatusPass && f.NotApplicable
}

// waiverText describes a waiver for humans: "reason (expires 2026-01-31)".
func waiverText(w *checks.Waiver) string {
	if w == nil {
		return "waived"
	}
	s := w.Reason
	if s == "" {
		s = "waived"
	}
	if w.Expires != "" {
		s += " (expires " + w.Expires + ")"
	}
	return s
}

// resourceLabel is "name (role)", or the ARN when the resource has no name.
func resourceLabel(res checks.Resource) string {
	name := cmp.Or(res.Name, res.ARN)
	if res.Role != "" {
		return name + " (" + res.Role + ")"
	}
	return name
}

// singleLine replaces control characters (newlines, tabs, ANSI escapes) with spaces, so text from
// a policy document cannot break a table row or drive the terminal.
func singleLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}
