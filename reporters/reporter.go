// Package reporters renders a *checks.Report in the output formats of DESIGN §5–§7: a terminal
// table, the JSON contract, SARIF for GitHub code scanning, JUnit XML for CI test reports and
// Markdown for pull-request comments. Reporters never modify the report they are given and write
// the same bytes for the same report.
package reporters

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	// Category is appended to the SARIF automationDetails.id ("coffer/<account>/<category>/") so
	// uploads for different regions or parts of a split land in separate GitHub categories.
	Category string
	// Region is the scanned account's home region: the region of the Security Hub the ASFF findings
	// are for (their ProductArn), and the region OCSF gives resources that have none (IAM).
	Region string
}

// The formats, in the order Formats lists them.
const (
	FormatTable    = "table"
	FormatJSON     = "json"
	FormatSARIF    = "sarif"
	FormatJUnit    = "junit"
	FormatMarkdown = "markdown"
	FormatHTML     = "html"
	FormatASFF     = "asff"
	FormatOCSF     = "ocsf"
)

// registry maps a format name to its constructor. Adding a format is one line here.
var registry = map[string]func(Options) Reporter{
	FormatTable:    func(o Options) Reporter { return &Table{Options: o} },
	FormatJSON:     func(o Options) Reporter { return &JSON{} },
	FormatSARIF:    func(o Options) Reporter { return &SARIF{Options: o} },
	FormatJUnit:    func(o Options) Reporter { return &JUnit{} },
	FormatMarkdown: func(o Options) Reporter { return &Markdown{Options: o} },
	FormatHTML:     func(o Options) Reporter { return &HTML{Options: o} },
	FormatASFF:     func(o Options) Reporter { return &ASFF{Options: o} },
	FormatOCSF:     func(o Options) Reporter { return &OCSF{Options: o} },
}

var (
	_ Reporter = (*Table)(nil)
	_ Reporter = (*JSON)(nil)
	_ Reporter = (*SARIF)(nil)
	_ Reporter = (*JUnit)(nil)
	_ Reporter = (*Markdown)(nil)
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

// WriteFileAtomic writes a file through write into a temporary file in the same directory and
// renames it over path only when write and the close succeed, so path is either the old file or
// the complete new one, never half-written.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// CI recipes write into a fresh output folder (--format sarif=out/coffer.sarif).
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; a report is not a secret, so give it the usual mode.
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
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

// sortedFindings returns the findings sorted by (check_id, resource ARN, status), the order of
// DESIGN §6: the report's own slice when it is sorted already, as the engine's are (a large
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
	return cmp.Or(
		cmp.Compare(a.CheckID, b.CheckID),
		cmp.Compare(a.Resource.ARN, b.Resource.ARN),
		cmp.Compare(a.Status, b.Status),
	)
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
	c := counts{byStatus: map[checks.Status]int{}, bySev: map[checks.Severity]map[checks.Status]int{}}
	for _, f := range fs {
		c.byStatus[f.Status]++
		if c.bySev[f.Severity] == nil {
			c.bySev[f.Severity] = map[checks.Status]int{}
		}
		c.bySev[f.Severity][f.Status]++
		if f.InBaseline {
			c.known++
		}
	}
	return c
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
	for _, sev := range checks.Severities {
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

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// NotApplicable reports whether a PASS finding records that the check does not apply to the
// resource (DESIGN §4: MFA Delete where a lifecycle configuration exists). The Finding type has
// no field for it, so the convention is a PASS whose message says "not applicable".
func NotApplicable(f checks.Finding) bool {
	return f.Status == checks.StatusPass && containsFold(f.Message, "not applicable")
}

// containsFold reports whether s contains substr, compared without case. It does not copy s as
// strings.ToLower would: the reporters ask NotApplicable several times per finding, and a message
// can hold a long resource name.
func containsFold(s, substr string) bool {
	for i := 0; i+len(substr) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(substr)], substr) {
			return true
		}
	}
	return false
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
