package reporters

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-audit/coffer/checks"
)

func TestDiffFormats(t *testing.T) {
	if got, want := DiffFormats(), []string{"json", "markdown", "table"}; !slices.Equal(got, want) {
		t.Errorf("DiffFormats() = %v, want %v", got, want)
	}
	for _, tc := range []struct{ format, wantErr string }{
		{"table", ""},
		{" Markdown ", ""},
		{"JSON", ""},
		{"sarif", `format "sarif" does not render a diff (formats that do: json, markdown, table)`},
		{"html", `format "html" does not render a diff`},
		{"xml", `unknown format "xml" (known: json, markdown, table)`},
	} {
		rep, err := NewDiff(tc.format, Options{})
		switch {
		case tc.wantErr == "" && (err != nil || rep == nil):
			t.Errorf("NewDiff(%q) = %v, %v", tc.format, rep, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("NewDiff(%q) error = %v, want %q", tc.format, err, tc.wantErr)
		}
		if rep != nil {
			if err := rep.WriteDiff(&bytes.Buffer{}, nil); err == nil {
				t.Errorf("%s: a nil diff is not an error", tc.format)
			}
		}
	}
}

// hostileDiff holds text an audited account or a hand-edited report controls: Markdown
// punctuation, HTML, table separators, newlines and a terminal escape.
func hostileDiff() *checks.Diff {
	res := checks.Resource{ARN: "arn:aws:s3:::b", Name: "b|x\n## pwned", Role: "primary"}
	fc := checks.FindingChange{CheckID: "c`|d", Severity: checks.SeverityHigh, Resource: res, Before: checks.StatusPass, After: checks.StatusFail,
		Message: "~~gone~~ see #12 <img src=x> *b* _i_ [l](u) a|b \x1b[31mred\nline2"}
	return &checks.Diff{
		SchemaVersion: checks.DiffSchemaVersion, AccountID: "123456789012",
		Old:         checks.DiffSide{File: "old.json", Kind: checks.InputSnapshot, Time: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		New:         checks.DiffSide{File: "new\n.json", Kind: checks.InputSnapshot},
		Summary:     checks.DiffSummary{New: 1, Config: 1},
		NewFailures: []checks.FindingChange{fc}, Resolved: []checks.FindingChange{}, Changed: []checks.FindingChange{},
		Config: []checks.ConfigChange{{Type: "bucket", Resource: "b", Path: "policy ~x~ #1", Kind: checks.ChangeChanged, Before: "a|b", After: "<c>"}},
	}
}

// TestDiffMarkdownEscapes: the diff Markdown escapes as the report's Markdown does (one escaper),
// so `~` (strikethrough) and `#` (issue links), which the CLI's own escaper missed, are literal
// too, and nothing breaks out of a table row.
func TestDiffMarkdownEscapes(t *testing.T) {
	var buf bytes.Buffer
	if err := (&Markdown{}).WriteDiff(&buf, hostileDiff()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`\~\~gone\~\~ see \#12 &lt;img src=x&gt; \*b\* \_i\_ \[l\](u) a\|b`,
		"``c`\\|d``", // a code span longer than the backtick inside, the pipe escaped
		`b\|x \#\# pwned (primary)`,
		`- bucket b: policy \~x\~ \#1 a\|b → &lt;c&gt;`,
		"new .json (snapshot)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"<img", "\x1b", "\n## pwned", "~~gone"} {
		if strings.Contains(out, bad) {
			t.Errorf("Markdown contains %q unescaped:\n%s", bad, out)
		}
	}
	// Every row of the findings table has its five cells: no '|' got through unescaped.
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| HIGH") {
			if cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); cells != 6 {
				t.Errorf("row split into %d cells: %s", cells-1, line)
			}
		}
	}
}

// TestDiffTableOneLine: in the terminal table every value stays on its line and cannot drive the
// terminal.
func TestDiffTableOneLine(t *testing.T) {
	var buf bytes.Buffer
	if err := (&Table{}).WriteDiff(&buf, hostileDiff()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\n## pwned") || strings.Contains(out, "\nline2") || strings.Contains(out, "new\n.json") {
		t.Errorf("control characters reached the table:\n%q", out)
	}
	if !strings.Contains(out, "1 new failure, 0 resolved, 0 changed, 0 unchanged; 1 configuration change.") {
		t.Errorf("headline:\n%s", out)
	}
}

// TestDiffJSONRoundTrips: the JSON diff decodes back to the same diff (tools read it).
func TestDiffJSONRoundTrips(t *testing.T) {
	d := hostileDiff()
	var buf bytes.Buffer
	if err := (JSON{}).WriteDiff(&buf, d); err != nil {
		t.Fatal(err)
	}
	var back checks.Diff
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.NewFailures[0].Message != d.NewFailures[0].Message || back.Config[0] != d.Config[0] || !strings.Contains(buf.String(), "<img") {
		t.Errorf("round trip lost data, or HTML-escaped it:\n%s", buf.String())
	}
}
