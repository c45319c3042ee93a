package reporters

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coffer-audit/coffer/checks"
)

func TestClip(t *testing.T) {
	policyCommand := `aws s3api put-bucket-policy --bucket b --policy '{"Statement":[` +
		strings.Repeat(`{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b/*"]},`, 20) + `]}'`
	long := "vault-" + strings.Repeat("x", 200) + "-end"
	cut := "vault-" + strings.Repeat("x", 58) + "…" + strings.Repeat("x", 59) + "-end"
	tests := []struct {
		name, in string
		limits   *clipLimits
		want     string
		wantCut  bool
	}{
		{"short prose unchanged", "Bucket team-backups does not deny plain HTTP.", proseLimits, "Bucket team-backups does not deny plain HTTP.", false},
		{"word of exactly maxWord", strings.Repeat("a", maxWord), proseLimits, strings.Repeat("a", maxWord), false},
		{"long word keeps its start and end", "Bucket " + long + " is public.", proseLimits, "Bucket " + cut + " is public.", true},
		{"ARN in prose is one word", "arn:aws:s3:::" + long, proseLimits,
			"arn:aws:s3:::vault-" + strings.Repeat("x", 45) + "…" + strings.Repeat("x", 59) + "-end", true},
		{"characters, not bytes", strings.Repeat("é", maxWord+1), proseLimits,
			strings.Repeat("é", 64) + "…" + strings.Repeat("é", 63), true},
		{"text cut at maxProse", strings.Repeat("ab ", maxProse), proseLimits, strings.Repeat("ab ", maxProse)[:maxProse-1] + "…", true},
		{"text of exactly maxProse", strings.Repeat("abc ", maxProse/4), proseLimits, strings.Repeat("abc ", maxProse/4), false},
		{"command: a long policy without spaces is not one word", policyCommand, commandLimits, policyCommand, false},
		{"command: the name inside an ARN inside JSON", `--policy '{"Resource":["arn:aws:s3:::` + long + `/*"]}'`, commandLimits,
			`--policy '{"Resource":["arn:aws:s3:::` + cut + `/*"]}'`, true},
		{"command: a quoted name", "--bucket '" + long + "'", commandLimits, "--bucket '" + cut + "'", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, gotCut := clip(tc.in, tc.limits)
			if got != tc.want || gotCut != tc.wantCut {
				t.Errorf("clip(%q) =\n%q, %v\nwant\n%q, %v", tc.in, got, gotCut, tc.want, tc.wantCut)
			}
			if !utf8.ValidString(got) {
				t.Errorf("clip made invalid UTF-8: %q", got)
			}
			if n := utf8.RuneCountInString(got); n > tc.limits.total {
				t.Errorf("clip kept %d characters, more than %d", n, tc.limits.total)
			}
		})
	}
}

// longName replaces a resource's name in a report with a 1 MB one, wherever a snapshot value
// carries it: names, ARNs, messages, commands, evidence, waivers and notices.
const longNameBytes = 1 << 20

func longNameReport(t *testing.T, name string) (*checks.Report, string) {
	t.Helper()
	long := name + strings.Repeat("x", longNameBytes-len(name))
	r := goldenReport()
	repl := strings.NewReplacer(name, long)
	found := false
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Resource.Name == name {
			found = true
		}
		f.Resource.Name = repl.Replace(f.Resource.Name)
		f.Resource.ARN = repl.Replace(f.Resource.ARN)
		f.Message = repl.Replace(f.Message)
		cmds := make([]string, len(f.Remediation.Commands))
		for j, c := range f.Remediation.Commands {
			cmds[j] = repl.Replace(c)
		}
		f.Remediation.Commands = cmds
		if f.Evidence != nil {
			if s, ok := f.Evidence.Value.(string); ok {
				f.Evidence = &checks.Evidence{Path: f.Evidence.Path, Value: repl.Replace(s)}
			}
		}
	}
	if !found {
		t.Fatalf("no finding on %s in the golden report", name)
	}
	for i, n := range r.Notices {
		r.Notices[i] = repl.Replace(n)
	}
	return r, long
}

// maxPeopleGrowth bounds a report for people on an account with a 1 MB bucket name against the
// same report with the ordinary name: the name is shown cut to maxWord characters wherever it
// appears, so the report grows by a few hundred bytes per mention, not by the name's length.
const maxPeopleGrowth = 2

func TestLongValuesCutForPeople(t *testing.T) {
	r, _ := longNameReport(t, "team-backups-primary")
	for _, format := range []string{FormatTable, FormatMarkdown, FormatHTML} {
		t.Run(format, func(t *testing.T) {
			short := render(t, format, Options{ShowPass: true}, goldenReport())
			got := render(t, format, Options{ShowPass: true}, r)
			if limit := maxPeopleGrowth * len(short); len(got) > limit {
				t.Errorf("%d bytes with a 1 MB name, more than %d × the %d bytes with the ordinary name", len(got), maxPeopleGrowth, len(short))
			}
			if n := longestRun(string(got), 'x'); n > maxWord {
				t.Errorf("shows %d characters of the name, want at most %d", n, maxWord)
			}
			if !bytes.Contains(got, []byte("team-backups-primary"+strings.Repeat("x", 40))) || !bytes.Contains(got, []byte("…")) {
				t.Errorf("the name is not shown cut with an ellipsis")
			}
			if !bytes.Contains(got, []byte(shortenedNote)) {
				t.Errorf("no note that a command was shortened")
			}
			if format == FormatHTML && bytes.Count(got, []byte(`class="copy"`)) >= bytes.Count(short, []byte(`class="copy"`)) {
				t.Errorf("shortened commands still have a copy button")
			}
			// The other findings are shown as before.
			if !bytes.Contains(got, []byte("team-backups-standby")) {
				t.Errorf("the other bucket is missing")
			}
		})
	}
}

func TestNotApplicableIgnoresCase(t *testing.T) {
	for msg, want := range map[string]bool{
		"MFA Delete is not applicable to bucket b: it has a lifecycle configuration.": true,
		"MFA Delete is NOT Applicable here.":                                          true,
		"Not applicable.":                                                             true,
		"not applicabl":                                                               false,
		"Bucket b passes.":                                                            false,
	} {
		if got := NotApplicable(checks.Finding{Status: checks.StatusPass, Message: msg}); got != want {
			t.Errorf("NotApplicable(%q) = %v, want %v", msg, got, want)
		}
	}
}
