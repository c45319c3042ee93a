package reporters

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
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
			if format == FormatHTML && htmlCopyable(t, got) >= htmlCopyable(t, short) {
				t.Errorf("shortened commands still have a copy button")
			}
			// The other findings are shown as before.
			if !bytes.Contains(got, []byte("team-backups-standby")) {
				t.Errorf("the other bucket is missing")
			}
		})
	}
}

// The machine formats keep whole what programs match on: every field in JSON, the ARN and name
// of the logical location and the fingerprint in SARIF, the test case name in JUnit. The text
// that GitHub and CI servers show people (SARIF messages, JUnit failure messages and bodies) is
// cut as in the formats for people. Each format's size is then bounded by how many copies of the
// value it must carry.
func TestLongValuesForMachines(t *testing.T) {
	r, long := longNameReport(t, "team-backups-primary")
	arn := "arn:aws:s3:::" + long
	onLong := 0
	failsOnLong := 0
	for _, f := range r.Findings {
		if f.Resource.ARN == arn {
			onLong++
			if f.Status == checks.StatusFail {
				failsOnLong++
			}
		}
	}

	t.Run("json", func(t *testing.T) {
		out := render(t, FormatJSON, Options{}, r)
		var doc struct {
			Findings []checks.Finding `json:"findings"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		n := 0
		for i, f := range doc.Findings {
			if f.Resource.ARN != arn {
				continue
			}
			n++
			if f.Resource.Name != long {
				t.Errorf("finding %d: name cut to %d bytes", i, len(f.Resource.Name))
			}
			if f.Status == checks.StatusFail && !strings.Contains(f.Message, long) {
				t.Errorf("finding %d: message lost the name", i)
			}
			for _, c := range f.Remediation.Commands {
				if !strings.Contains(c, long) {
					t.Errorf("finding %d: command lost the name: %.80q", i, c)
				}
			}
		}
		if n != onLong {
			t.Errorf("%d findings carry the whole ARN, want %d", n, onLong)
		}
	})

	t.Run("sarif", func(t *testing.T) {
		short := render(t, FormatSARIF, Options{}, goldenReport())
		out := render(t, FormatSARIF, Options{}, r)
		var doc struct {
			Runs []struct {
				Results []struct {
					RuleID              string `json:"ruleId"`
					Message             struct{ Text string }
					PartialFingerprints map[string]string `json:"partialFingerprints"`
					Locations           []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
						}
						LogicalLocations []struct {
							FullyQualifiedName string `json:"fullyQualifiedName"`
							Name               string `json:"name"`
						} `json:"logicalLocations"`
					}
				}
			}
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, res := range doc.Runs[0].Results {
			loc := res.Locations[0]
			if loc.LogicalLocations[0].FullyQualifiedName != arn {
				continue
			}
			n++
			if loc.LogicalLocations[0].Name != long {
				t.Errorf("%s: logical location name cut to %d bytes", res.RuleID, len(loc.LogicalLocations[0].Name))
			}
			if got, want := res.PartialFingerprints[FingerprintKey], Fingerprint(res.RuleID, arn); got != want {
				t.Errorf("%s: fingerprint %s, want %s (of the whole ARN)", res.RuleID, got, want)
			}
			if len(res.Message.Text) > 4*maxProse || !strings.Contains(res.Message.Text, "…") {
				t.Errorf("%s: message of %d bytes not cut for display", res.RuleID, len(res.Message.Text))
			}
			if uri := loc.PhysicalLocation.ArtifactLocation.URI; len(uri) > 5*maxURISegment {
				t.Errorf("%s: artifact URI of %d bytes", res.RuleID, len(uri))
			}
		}
		if n != failsOnLong {
			t.Errorf("%d results on the whole ARN, want %d", n, failsOnLong)
		}
		// Two copies per result: the logical location's ARN and name.
		if limit := len(short) + 2*failsOnLong*longNameBytes + 4096*failsOnLong; len(out) > limit {
			t.Errorf("%d bytes, more than %d (two copies of the name per result)", len(out), limit)
		}
	})

	t.Run("junit", func(t *testing.T) {
		short := render(t, FormatJUnit, Options{}, goldenReport())
		out := render(t, FormatJUnit, Options{}, r)
		var doc junitSuites
		if err := xml.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range doc.Suites {
			for _, c := range s.Cases {
				if c.Name != arn {
					continue
				}
				n++
				if c.Failure != nil && (len(c.Failure.Message) > 4*maxProse || len(c.Failure.Body) > 4*maxCommand || !strings.Contains(c.Failure.Body, "…")) {
					t.Errorf("%s: failure of %d+%d bytes not cut for display", s.Name, len(c.Failure.Message), len(c.Failure.Body))
				}
			}
		}
		if n != onLong {
			t.Errorf("%d test cases named by the whole ARN, want %d", n, onLong)
		}
		// One copy per test case: its name.
		if limit := len(short) + onLong*longNameBytes + 4096*onLong; len(out) > limit {
			t.Errorf("%d bytes, more than %d (one copy of the name per test case)", len(out), limit)
		}
	})
}

// TestSARIFTexts renders the golden report with every string, however short, routed through
// sarifTexts: the placeholders must give back exactly the log encoded in place.
func TestSARIFTexts(t *testing.T) {
	want := render(t, FormatSARIF, Options{}, goldenReport())
	defer func(old int) { sarifTextMin = old }(sarifTextMin)
	sarifTextMin = 0
	if got := render(t, FormatSARIF, Options{}, goldenReport()); !bytes.Equal(got, want) {
		t.Errorf("with placeholders the log differs:\n%s", lineDiff(string(want), string(got)))
	}

	// A rule text that looks like a placeholder must not be taken for one.
	r := goldenReport()
	fake := sarifPlaceholder + "0\x00"
	r.Rules[0].Title = fake
	got := render(t, FormatSARIF, Options{}, r)
	if !bytes.Contains(got, []byte(`"text": "\u0000coffer-text:0\u0000"`)) {
		t.Errorf("the rule's title was replaced")
	}
	var doc map[string]any
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
}

func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return "line " + al[i] + "\n  vs " + bl[i]
		}
	}
	return "different lengths"
}

// TestIndentWriter compares the streaming indentation of the JSON report with encoding/json's.
func TestIndentWriter(t *testing.T) {
	values := []any{
		goldenReport().Findings,
		map[string]any{"a": []any{}, "b": map[string]any{}, "c": []any{map[string]any{}, []any{1, "x"}}},
		`quotes " and \ backslashes \" inside, {braces} [brackets], commas, colons: and \n newlines`,
		"\u2028 <script> & \x01 \xff",
		[]any{nil, true, false, 1.5, -2, "", map[string]any{"k": `\\"`}},
	}
	for i, v := range values {
		compact, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact, "    ", "  "); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		bw := bufio.NewWriter(&got)
		enc := json.NewEncoder(&indentWriter{w: bw, prefix: "    ", indent: "  "})
		enc.SetEscapeHTML(true) // as json.Marshal, so both sides hold the same compact bytes
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("value %d:\n got %s\nwant %s", i, got.String(), want.String())
		}
	}
}

func TestURISegmentBounded(t *testing.T) {
	a := strings.Repeat("x", 1000) + "a"
	b := strings.Repeat("x", 1000) + "b"
	sa, sb := uriSegment(a), uriSegment(b)
	if len(sa) > maxURISegment || len(sb) > maxURISegment {
		t.Errorf("segments of %d and %d bytes, want at most %d", len(sa), len(sb), maxURISegment)
	}
	if sa == sb {
		t.Errorf("two long names share the segment %s", sa)
	}
	if name := strings.Repeat("n", maxURISegment); uriSegment(name) != name {
		t.Errorf("a name of %d characters was changed", maxURISegment)
	}
}
