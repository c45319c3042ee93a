package reporters

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/coffer-audit/coffer/checks"
)

// JUnit writes JUnit XML for CI test reports (GitLab, Jenkins, Azure DevOps): one <testsuite> per
// check id, one <testcase> per (check, resource) named by the resource ARN with the check id as
// classname. FAIL is a <failure> carrying the message and the commands, ERROR an <error>, WAIVED
// and not-applicable PASS findings are <skipped> with the reason.
type JUnit struct{}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// Write implements Reporter.
func (JUnit) Write(w io.Writer, r *checks.Report) error {
	if r == nil {
		return errNilReport
	}
	doc := junitSuites{Name: strings.TrimSpace("coffer " + r.AccountID)}
	rules := map[string]checks.Rule{}
	for _, rule := range sortedRules(r) {
		rules[rule.ID] = rule
	}
	stamp := ""
	if !r.StartedAt.IsZero() {
		stamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}

	fs := sortedFindings(r)
	for i := 0; i < len(fs); {
		id := fs[i].CheckID
		rule := rules[id]
		suite := junitSuite{Name: id, Timestamp: stamp, Properties: []junitProperty{
			{Name: "title", Value: rule.Title},
			{Name: "severity", Value: rule.Severity.String()},
			{Name: "service", Value: rule.Service},
		}}
		for ; i < len(fs) && fs[i].CheckID == id; i++ {
			f := fs[i]
			tc := junitCase{Name: cmp.Or(f.Resource.ARN, f.Resource.Name), Classname: id}
			switch {
			case f.Status == checks.StatusFail:
				tc.Failure = &junitProblem{Message: f.Message, Type: f.Severity.String(), Body: junitBody(f)}
				suite.Failures++
			case f.Status == checks.StatusError:
				tc.Error = &junitProblem{Message: f.Message, Type: "ERROR", Body: junitBody(f)}
				suite.Errors++
			case f.Status == checks.StatusWaived:
				tc.Skipped = &junitSkipped{Message: "Waived: " + waiverText(f.Waiver)}
				suite.Skipped++
			case NotApplicable(f):
				tc.Skipped = &junitSkipped{Message: f.Message}
				suite.Skipped++
			}
			suite.Cases = append(suite.Cases, tc)
			suite.Tests++
		}
		doc.Suites = append(doc.Suites, suite)
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		doc.Errors += suite.Errors
		doc.Skipped += suite.Skipped
	}

	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	buf.WriteByte('\n')
	_, err := buf.WriteTo(w)
	return err
}

// junitBody is the text of a <failure> or <error>: message, resource, remediation and commands.
func junitBody(f checks.Finding) string {
	var b strings.Builder
	b.WriteString(f.Message)
	fmt.Fprintf(&b, "\nResource: %s", cmp.Or(f.Resource.ARN, f.Resource.Name))
	if f.Resource.Role != "" {
		fmt.Fprintf(&b, " (role %s)", f.Resource.Role)
	}
	if f.Status == checks.StatusFail && f.Remediation.Summary != "" {
		fmt.Fprintf(&b, "\nRemediation (fix: %s): %s", cmp.Or(string(f.Remediation.Fix), "manual"), f.Remediation.Summary)
	}
	if f.Status == checks.StatusFail {
		for _, c := range f.Remediation.Commands {
			b.WriteString("\n  " + c)
		}
	}
	b.WriteString("\n")
	return xmlText(b.String())
}

// xmlText drops characters XML 1.0 cannot carry (control characters other than tab and newlines,
// such as an ANSI escape in a message). CDATA sections, unlike escaped text, are not filtered by
// encoding/xml.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return -1
		}
		return r
	}, s)
}
