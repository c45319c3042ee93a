package reporters

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenCases are the files in testdata/, each the golden report rendered by one reporter.
//
// The report.* files are of goldenReport, a workshop-sized account in which nothing repeats: they
// read as they did before grouping. grouped.* show what repeats grouped (groupedReport), org.* an
// organisation (orgReport).
var goldenCases = []struct {
	file   string
	format string
	opts   Options
	report func() *checks.Report // nil: goldenReport
}{
	{"report.table.golden", FormatTable, Options{}, nil},
	{"report.table-showpass.golden", FormatTable, Options{ShowPass: true}, nil},
	{"report.json.golden", FormatJSON, Options{}, nil},
	{"report.sarif.golden", FormatSARIF, Options{}, nil},
	{"report.junit.xml.golden", FormatJUnit, Options{}, nil},
	{"report.md.golden", FormatMarkdown, Options{}, nil},
	{"report.asff.json.golden", FormatASFF, Options{}, nil},
	{"report.ocsf.json.golden", FormatOCSF, Options{}, nil},
	{"grouped.table.golden", FormatTable, Options{}, groupedReport},
	{"grouped.table-resource.golden", FormatTable, Options{GroupBy: GroupByResource}, groupedReport},
	{"grouped.table-none.golden", FormatTable, Options{GroupBy: GroupByNone}, groupedReport},
	{"grouped.md.golden", FormatMarkdown, Options{}, groupedReport},
	{"grouped.md-resource.golden", FormatMarkdown, Options{GroupBy: GroupByResource}, groupedReport},
	{"org.table.golden", FormatTable, Options{}, orgReport},
	{"org.table-account.golden", FormatTable, Options{GroupBy: GroupByAccount}, orgReport},
	{"org.md.golden", FormatMarkdown, Options{}, orgReport},
	{"org.md-account.golden", FormatMarkdown, Options{GroupBy: GroupByAccount}, orgReport},
	{"org.json.golden", FormatJSON, Options{}, orgReport},
	{"org.sarif.golden", FormatSARIF, Options{}, orgReport},
	{"org.junit.xml.golden", FormatJUnit, Options{}, orgReport},
}

// reportOf is the report a golden case renders.
func reportOf(f func() *checks.Report) *checks.Report {
	if f == nil {
		return goldenReport()
	}
	return f()
}

func render(t *testing.T, format string, opts Options, r *checks.Report) []byte {
	t.Helper()
	rep, err := New(format, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf, r); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.file, func(t *testing.T) {
			got := render(t, tc.format, tc.opts, reportOf(tc.report))
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./reporters -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs from golden (-want +got); run go test ./reporters -update if intended:\n%s", tc.file, diff)
			}
		})
	}
}

// TestDeterministic renders each format twice, once from shuffled findings and rules, and expects
// the same bytes; and checks that no reporter modified its input.
func TestDeterministic(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.file, func(t *testing.T) {
			r := reportOf(tc.report)
			first := render(t, tc.format, tc.opts, r)
			if diff := cmp.Diff(reportOf(tc.report), r); diff != "" {
				t.Fatalf("reporter modified the report (-before +after):\n%s", diff)
			}
			shuffled := reportOf(tc.report)
			rng := rand.New(rand.NewPCG(1, 2))
			rng.Shuffle(len(shuffled.Findings), func(i, j int) {
				shuffled.Findings[i], shuffled.Findings[j] = shuffled.Findings[j], shuffled.Findings[i]
			})
			rng.Shuffle(len(shuffled.Rules), func(i, j int) { shuffled.Rules[i], shuffled.Rules[j] = shuffled.Rules[j], shuffled.Rules[i] })
			second := render(t, tc.format, tc.opts, shuffled)
			if diff := cmp.Diff(string(first), string(second)); diff != "" {
				t.Errorf("output depends on input order (-first +shuffled):\n%s", diff)
			}
		})
	}
}

func TestEmptyReport(t *testing.T) {
	r := &checks.Report{SchemaVersion: checks.ReportSchemaVersion, Tool: checks.Tool{Name: "coffer", Version: "dev"}, AccountID: fixtureAccount}
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			out := render(t, format, Options{}, r)
			if len(out) == 0 {
				t.Error("no output")
			}
		})
	}
	for _, format := range Formats() {
		rep, _ := New(format, Options{})
		if err := rep.Write(io.Discard, nil); err == nil {
			t.Errorf("%s: nil report: want error", format)
		}
	}
}

func TestNew(t *testing.T) {
	if got, want := Formats(), []string{"asff", "html", "json", "junit", "markdown", "markdown-comment", "ocsf", "sarif", "table"}; !slices.Equal(got, want) {
		t.Errorf("Formats() = %v, want %v", got, want)
	}
	tests := []struct {
		format  string
		wantErr string
	}{
		{"table", ""},
		{"SARIF", ""},
		{" json ", ""},
		{"yaml", `unknown format "yaml" (known: asff, html, json, junit, markdown, markdown-comment, ocsf, sarif, table)`},
		{"", `unknown format "" (known: asff, html, json, junit, markdown, markdown-comment, ocsf, sarif, table)`},
	}
	for _, tc := range tests {
		_, err := New(tc.format, Options{})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.wantErr {
			t.Errorf("New(%q) error = %q, want %q", tc.format, got, tc.wantErr)
		}
	}
}

func TestTableColor(t *testing.T) {
	tests := []struct {
		opts     Options
		wantANSI bool
	}{
		{Options{}, false},
		{Options{ShowPass: true}, false},
		{Options{Color: true}, true},
	}
	for _, tc := range tests {
		out := string(render(t, FormatTable, tc.opts, goldenReport()))
		if got := strings.Contains(out, "\x1b["); got != tc.wantANSI {
			t.Errorf("%+v: contains ANSI escapes = %v, want %v", tc.opts, got, tc.wantANSI)
		}
		if tc.wantANSI && !strings.Contains(out, ansiRed+"FAIL"+ansiReset) {
			t.Errorf("%+v: FAIL not coloured red", tc.opts)
		}
	}
	// Other formats never colour.
	for _, format := range []string{FormatJSON, FormatSARIF, FormatJUnit, FormatMarkdown} {
		if out := render(t, format, Options{Color: true}, goldenReport()); bytes.Contains(out, []byte("\x1b[")) {
			t.Errorf("%s contains ANSI escapes", format)
		}
	}
}

func TestTableContent(t *testing.T) {
	out := string(render(t, FormatTable, Options{}, goldenReport()))
	for _, want := range []string{
		"coffer: 7 failed (2 critical, 2 high, 1 medium, 2 low, 1 known from the baseline), 1 error, 4 passed, 1 waived — account 123456789012",
		"Known (in the baseline): User alice+ops@example.com",
		"Waived: Legacy uploader <v2> needs ACLs & 'cutover'",
		"[1] iam-root-mfa on 123456789012: Sign in as root and assign an MFA device. (fix: manual)",
		"! Waiver for s3-bucket-versioning on team-old-* expired",
		"aws s3api put-bucket-versioning --bucket team-backups-primary --versioning-configuration Status=Enabled",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	if strings.Contains(out, "PASS") {
		t.Error("table shows PASS without ShowPass")
	}
	if !strings.Contains(string(render(t, FormatTable, Options{ShowPass: true}, goldenReport())), "PASS") {
		t.Error("table hides PASS with ShowPass")
	}
	// Order of severity groups.
	iCrit, iLow := strings.Index(out, "CRITICAL"), strings.Index(out, "LOW")
	if iCrit < 0 || iLow < 0 || iCrit > iLow {
		t.Errorf("severity groups out of order: CRITICAL at %d, LOW at %d", iCrit, iLow)
	}
}

func TestTableNoTerminalInjection(t *testing.T) {
	r := goldenReport()
	r.Findings[0].Message = "evil \x1b]0;owned\x07 text\nsecond line"
	out := string(render(t, FormatTable, Options{}, r))
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("control characters from a message reached the terminal:\n%q", out)
	}
}

func TestJUnitWellFormed(t *testing.T) {
	out := render(t, FormatJUnit, Options{}, goldenReport())
	var doc junitSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("junit is not valid XML: %v", err)
	}
	type totals struct{ Tests, Failures, Errors, Skipped, Suites int }
	got := totals{doc.Tests, doc.Failures, doc.Errors, doc.Skipped, len(doc.Suites)}
	// 13 findings over 9 checks (iam-password-policy has none); waived + not-applicable skipped.
	want := totals{Tests: 13, Failures: 7, Errors: 1, Skipped: 2, Suites: 9}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("junit totals (-want +got):\n%s", diff)
	}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Classname != s.Name {
				t.Errorf("testcase %s: classname %q, want %q", c.Name, c.Classname, s.Name)
			}
			if !strings.HasPrefix(c.Name, "arn:aws:") {
				t.Errorf("testcase name %q is not an ARN", c.Name)
			}
		}
	}
	// Round trip keeps the awkward characters.
	if !bytes.Contains(out, []byte("&lt;public&gt; &amp; grants")) {
		t.Error("junit does not escape < and & in messages")
	}
}

func TestMarkdownEscaping(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a|b", `a\|b`},
		{"<script>&", "&lt;script&gt;&amp;"},
		{"*bold* _it_ `code` [link]", "\\*bold\\* \\_it\\_ \\`code\\` \\[link\\]"},
		{"line\nbreak", "line break"},
		{"it's", "it's"},
	}
	for _, tc := range tests {
		if got := mdText(tc.in); got != tc.want {
			t.Errorf("mdText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got, want := mdCode("a`b|c"), "``a`b\\|c``"; got != want {
		t.Errorf("mdCode = %q, want %q", got, want)
	}
	if got, want := mdCodeBlock("sh", "echo ```"), "````sh\necho ```\n````"; got != want {
		t.Errorf("mdCodeBlock = %q, want %q", got, want)
	}
}

// decodeJSON parses output into generic JSON for assertions.
func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJUnitControlCharacters(t *testing.T) {
	r := goldenReport()
	for i := range r.Findings {
		r.Findings[i].Message = "bad \x1b[31m \x00 ]]> text"
		r.Findings[i].Remediation.Commands = append(r.Findings[i].Remediation.Commands, "echo ']]>'")
	}
	out := render(t, FormatJUnit, Options{}, r)
	var doc junitSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("junit with control characters is not valid XML: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("echo ']]")) {
		t.Error("CDATA terminator in a command was lost")
	}
}

// TestNotApplicable: a finding is not applicable when the engine set the field on a PASS, never
// because of the words of its message.
func TestNotApplicable(t *testing.T) {
	tests := []struct {
		name string
		f    checks.Finding
		want bool
	}{
		{"pass marked by its note", checks.Finding{Status: checks.StatusPass, Message: "Object Lock protects it instead.", NotApplicable: true}, true},
		{"pass that only says so", checks.Finding{Status: checks.StatusPass, Message: "Not applicable: archived."}, false},
		{"plain pass", checks.Finding{Status: checks.StatusPass, Message: "b: Buckets have versioning."}, false},
		{"fail with the field", checks.Finding{Status: checks.StatusFail, Message: "Bucket b does not have MFA Delete enabled.", NotApplicable: true}, false},
	}
	for _, tc := range tests {
		if got := NotApplicable(tc.f); got != tc.want {
			t.Errorf("%s: NotApplicable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestJUnitOrganisation: an organisation's JUnit has a suite per account, the skipped account as
// one skipped test, and cases still classed by check.
func TestJUnitOrganisation(t *testing.T) {
	out := render(t, FormatJUnit, Options{}, orgReport())
	var doc junitSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("junit is not valid XML: %v", err)
	}
	var names []string
	tests := 0
	for _, s := range doc.Suites {
		names = append(names, s.Name)
		tests += s.Tests
		for _, c := range s.Cases {
			if s.Name != "444444444444 (sandbox)" && !strings.Contains(c.Classname, "-") {
				t.Errorf("suite %s: case %s has class %q, not a check id", s.Name, c.Name, c.Classname)
			}
		}
	}
	want := []string{"111111111111 (prod)", "222222222222 (staging)", "333333333333 (legacy)", "444444444444 (sandbox)"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("suites (-want +got):\n%s", diff)
	}
	r := orgReport()
	if doc.Tests != len(r.Findings)+1 || tests != doc.Tests || doc.Failures != r.Summary.Fail || doc.Errors != r.Summary.Error {
		t.Errorf("totals tests %d (suites %d) failures %d errors %d; want %d tests, %d failures, %d errors",
			doc.Tests, tests, doc.Failures, doc.Errors, len(r.Findings)+1, r.Summary.Fail, r.Summary.Error)
	}
}
