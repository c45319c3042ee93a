package reporters

import (
	"bufio"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/coffer-audit/coffer/checks"
)

// JUnit writes JUnit XML for CI test reports (GitLab, Jenkins, Azure DevOps): one <testsuite> per
// check id, one <testcase> per (check, resource) named by the resource ARN with the check id as
// classname. An organisation's report has a <testsuite> per account instead (a skipped account is
// one skipped test), its test cases still classed by check. FAIL is a <failure> carrying the message and the commands, ERROR an <error>, WAIVED
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

// Write implements Reporter. The document is streamed suite by suite, so only one check's cases
// are in memory at a time: a document built whole and then encoded into a buffer held every body
// (message, ARN, commands) three times at once, and the process peaked at 270 MB, against 50 MB,
// on a snapshot with a 1 MB bucket name.
func (JUnit) Write(w io.Writer, r *checks.Report) error {
	if r == nil {
		return errNilReport
	}
	rules := map[string]checks.Rule{}
	for _, rule := range sortedRules(r) {
		rules[rule.ID] = rule
	}
	stamp := ""
	if !r.StartedAt.IsZero() {
		stamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}

	fs := sortedFindings(r)
	org := len(r.Accounts) > 0
	// The totals are attributes of the root element, written first.
	var total junitSuite
	for _, f := range fs {
		total.Tests++
		total.count(f)
	}
	var skippedAccounts []checks.AccountInfo
	for _, a := range r.Accounts {
		if a.Status == checks.AccountSkipped {
			skippedAccounts = append(skippedAccounts, a)
			total.Tests++
			total.Skipped++
		}
	}
	name := strings.TrimSpace("coffer " + r.AccountID)
	if org {
		name = "coffer organisation"
	}
	root := xml.StartElement{Name: xml.Name{Local: "testsuites"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "name"}, Value: name},
		{Name: xml.Name{Local: "tests"}, Value: strconv.Itoa(total.Tests)},
		{Name: xml.Name{Local: "failures"}, Value: strconv.Itoa(total.Failures)},
		{Name: xml.Name{Local: "errors"}, Value: strconv.Itoa(total.Errors)},
		{Name: xml.Name{Local: "skipped"}, Value: strconv.Itoa(total.Skipped)},
	}}

	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(xml.Header)
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	if err := enc.EncodeToken(root); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	// A suite per check; in an organisation's report a suite per account, whose cases keep the
	// check as their class.
	suiteOf := func(f *checks.Finding) string { return f.CheckID }
	if org {
		suiteOf = func(f *checks.Finding) string { return f.Resource.AccountID }
	}
	accounts := map[string]checks.AccountInfo{}
	for _, a := range r.Accounts {
		accounts[a.ID] = a
	}
	for i := 0; i < len(fs); {
		key := suiteOf(&fs[i])
		var suite junitSuite
		if org {
			a := accounts[key]
			suite = junitSuite{Name: key, Timestamp: stamp, Properties: []junitProperty{
				{Name: "account", Value: key}, {Name: "name", Value: a.Name}, {Name: "status", Value: cmp.Or(a.Status, checks.AccountScanned)},
			}}
			if a.Name != "" {
				suite.Name += " (" + a.Name + ")"
			}
		} else {
			rule := rules[key]
			suite = junitSuite{Name: key, Timestamp: stamp, Properties: []junitProperty{
				{Name: "title", Value: rule.Title},
				{Name: "severity", Value: rule.Severity.String()},
				{Name: "service", Value: rule.Service},
			}}
		}
		for ; i < len(fs) && suiteOf(&fs[i]) == key; i++ {
			f := fs[i]
			tc := junitCase{Name: cmp.Or(f.Resource.ARN, f.Resource.Name), Classname: f.CheckID}
			switch {
			case f.Status == checks.StatusFail:
				tc.Failure = &junitProblem{Message: clipProse(f.Message), Type: f.Severity.String(), Body: junitBody(f)}
			case f.Status == checks.StatusError:
				tc.Error = &junitProblem{Message: clipProse(f.Message), Type: "ERROR", Body: junitBody(f)}
			case f.Status == checks.StatusWaived:
				tc.Skipped = &junitSkipped{Message: "Waived: " + clipProse(waiverText(f.Waiver))}
			case NotApplicable(f):
				tc.Skipped = &junitSkipped{Message: clipProse(f.Message)}
			}
			suite.count(f)
			suite.Cases = append(suite.Cases, tc)
			suite.Tests++
		}
		if err := enc.EncodeElement(suite, xml.StartElement{Name: xml.Name{Local: "testsuite"}}); err != nil {
			return fmt.Errorf("encode junit: %w", err)
		}
	}
	// A skipped account has no findings: it is a suite with one skipped test, so that CI shows it.
	for _, a := range skippedAccounts {
		suite := junitSuite{Name: a.ID, Tests: 1, Skipped: 1, Timestamp: stamp, Properties: []junitProperty{
			{Name: "account", Value: a.ID}, {Name: "name", Value: a.Name}, {Name: "status", Value: a.Status},
		}, Cases: []junitCase{{Name: "arn:aws:iam::" + a.ID + ":root", Classname: "account", Skipped: &junitSkipped{Message: clipProse(strings.TrimSuffix("Not scanned: "+a.Error, ": "))}}}}
		if a.Name != "" {
			suite.Name += " (" + a.Name + ")"
		}
		if err := enc.EncodeElement(suite, xml.StartElement{Name: xml.Name{Local: "testsuite"}}); err != nil {
			return fmt.Errorf("encode junit: %w", err)
		}
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// count adds f to the suite's failures, errors or skipped tests.
func (s *junitSuite) count(f checks.Finding) {
	switch {
	case f.Status == checks.StatusFail:
		s.Failures++
	case f.Status == checks.StatusError:
		s.Errors++
	case f.Status == checks.StatusWaived, NotApplicable(f):
		s.Skipped++
	}
}

// junitBody is the text of a <failure> or <error>: message, resource, remediation and commands.
// CI servers show it to people, so its values are cut for display as in the table (clipProse,
// clipCommands); the test case's name keeps the whole ARN.
func junitBody(f checks.Finding) string {
	var b strings.Builder
	b.WriteString(clipProse(f.Message))
	b.WriteString("\nResource: " + clipProse(cmp.Or(f.Resource.ARN, f.Resource.Name)))
	if f.Resource.Role != "" {
		b.WriteString(" (role " + clipProse(f.Resource.Role) + ")")
	}
	if f.Status == checks.StatusFail && f.Remediation.Summary != "" {
		b.WriteString("\nRemediation (fix: " + cmp.Or(string(f.Remediation.Fix), "manual") + "): " + clipProse(f.Remediation.Summary))
	}
	if f.Status == checks.StatusFail {
		cmds, shortened := clipCommands(f.Remediation.Commands)
		for _, c := range cmds {
			b.WriteString("\n  " + c)
		}
		if shortened {
			b.WriteString("\n  (" + shortenedNote + ")")
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
