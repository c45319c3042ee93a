package shellcmd_test

import (
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"text/template"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks/shellcmd"
	"github.com/coffer-audit/coffer/checks/shellcmd/shelltest"
)

// hostile are values an account can hold in a name, path, key reference or tag.
var hostile = []string{
	"plain-name_1.2@x", "=ls", "~root", "-rf", "", " ", "a b", "'", "''", `"`, `\`, `\'`, `'\''`,
	"$(touch /tmp/pwned)", "`touch /tmp/pwned`", "${IFS}", "$HOME", "a;b", "a|b", "a&b", "a&&b",
	"<in", ">out", "2>&1", "*", "?", "[a]", "{a,b}", "!1", "#comment", "/$(touch${IFS}/tmp/x)/",
	"ünïcödé", "日本語", "🙂", strings.Repeat("x'$(y)", 200), "%s%d", `{"json":"yes"}`,
}

func TestQuoteIsOneInertWord(t *testing.T) {
	for _, v := range hostile {
		got, err := shelltest.Parse("aws s3api x --bucket " + shellcmd.Quote(v))
		if err != nil {
			t.Errorf("Quote(%q) = %s: %v", v, shellcmd.Quote(v), err)
			continue
		}
		if want := []string{"aws", "s3api", "x", "--bucket", v}; !cmp.Equal(got.Argv, want) {
			t.Errorf("Quote(%q) parses as %q", v, got.Argv)
		}
	}
}

// TestQuoteSurvivesRealShells runs the quoted values through the shells on the machine.
func TestQuoteSurvivesRealShells(t *testing.T) {
	for _, shell := range []string{"sh", "bash"} {
		for _, v := range hostile {
			out, err := exec.Command(shell, "-c", "printf %s "+shellcmd.Quote(v)).Output()
			if err != nil || string(out) != v {
				t.Errorf("%s printed %q for %q (err %v)", shell, out, v, err)
			}
		}
	}
}

func TestQuoteLeavesSafeValuesBare(t *testing.T) {
	for v, bare := range map[string]bool{
		"vault-primary": true, "arn:aws:iam::123456789012:policy/a/B+c=d,e.f@g_h": true, "50%": true,
		"=x": false, "a b": false, "": false, "a*": false, "é": false,
	} {
		if got := shellcmd.Quote(v) == v; got != bare {
			t.Errorf("Quote(%q) = %s: bare %v, want %v", v, shellcmd.Quote(v), got, bare)
		}
	}
}

func TestHasControl(t *testing.T) {
	for _, v := range []string{"a\nb", "a\rb", "\x1b[31m", "a\x00b", "\x7f", "\u0085", "\u202e", "\u2028", "\u200b", "\xff"} {
		if !shellcmd.HasControl(v) {
			t.Errorf("HasControl(%q) = false", v)
		}
	}
	for _, v := range []string{"a b", "ünï", "🙂", "'$`"} {
		if shellcmd.HasControl(v) {
			t.Errorf("HasControl(%q) = true", v)
		}
	}
}

func render(t *testing.T, src string, data any, funcs template.FuncMap) ([]shellcmd.Line, error) {
	t.Helper()
	values := &shellcmd.Values{Skeleton: true}
	tmpl, err := template.New("t").Funcs(values.Funcs()).Funcs(funcs).Parse(src)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	if err := shellcmd.Escape(tmpl); err != nil {
		t.Fatalf("escape %q: %v", src, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		t.Fatalf("execute %q: %v", src, err)
	}
	return values.Lines(b.String())
}

// intended is the argv the template meant: its skeleton parsed, each placeholder replaced by its
// value.
func intended(t *testing.T, l shellcmd.Line) shelltest.Command {
	t.Helper()
	skel, err := shelltest.Parse(l.Skeleton)
	if err != nil {
		t.Fatalf("skeleton %q: %v", l.Skeleton, err)
	}
	fill := func(s string) string {
		for i := len(l.Values) - 1; i >= 0; i-- { // longest token first: VALUE10X before VALUE1X
			s = strings.ReplaceAll(s, shellcmd.SkeletonToken(i), l.Values[i])
		}
		return s
	}
	for i := range skel.Argv {
		skel.Argv[i] = fill(skel.Argv[i])
	}
	skel.Redirect = fill(skel.Redirect)
	return skel
}

func TestLinesQuoteEveryContext(t *testing.T) {
	templates := []string{
		`aws iam detach-user-policy --user-name {{.A}} --policy-arn {{.B}}`,
		`aws s3api create-bucket --bucket {{.A}}-standby --region eu-west-1`,
		`aws s3api put-bucket-versioning --mfa 'arn:aws:iam::{{.A}}:mfa/root {{.B}}'`,
		`aws x --query "Items[?Name=={{.A}}]"`,
		`aws kms get-key-policy --key-id {{.A}} --output text > key-{{.B}}.json`,
		`aws iam update-account-password-policy {{args .A .B}} --hard-expiry`,
		`{{range .L}}aws iam update-access-key --access-key-id {{.}} --status Inactive
{{end}}`,
		`aws x {{literal "--flag"}} {{.A}}`,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	funcs := template.FuncMap{"args": func(a, b string) shellcmd.Args { return shellcmd.Args{"--a", a, b} }}
	for _, src := range templates {
		for i := 0; i < 300; i++ {
			data := map[string]any{
				"A": hostile[rng.IntN(len(hostile))] + hostile[rng.IntN(len(hostile))],
				"B": hostile[rng.IntN(len(hostile))],
				"L": []string{hostile[rng.IntN(len(hostile))], hostile[rng.IntN(len(hostile))]},
			}
			lines, err := render(t, src, data, funcs)
			if err != nil {
				t.Fatalf("%q with %q: %v", src, data, err)
			}
			for _, l := range lines {
				got, err := shelltest.Parse(l.Text)
				if err != nil {
					t.Fatalf("%q with %q printed %s: %v", src, data, l.Text, err)
				}
				if want := intended(t, l); !cmp.Equal(got, want) {
					t.Fatalf("%q with %q printed %s\nshell reads %q\nintended    %q", src, data, l.Text, got, want)
				}
			}
		}
	}
}

func TestLinesJSONStringContext(t *testing.T) {
	src := `aws s3api put-bucket-logging --bucket-logging-status '{"LoggingEnabled":{"TargetBucket":"{{.A}}","TargetPrefix":"{{.B}}/"}}'`
	for _, v := range append(hostile, "a\"b", "\\\"", "\u202e") {
		lines, err := render(t, src, map[string]any{"A": v, "B": v}, nil)
		if err != nil || len(lines) != 1 {
			t.Fatalf("%q: %v %v", v, lines, err)
		}
		got, err := shelltest.Parse(lines[0].Text)
		if err != nil {
			t.Fatalf("%q printed %s: %v", v, lines[0].Text, err)
		}
		var doc struct {
			LoggingEnabled struct{ TargetBucket, TargetPrefix string }
		}
		if err := json.Unmarshal([]byte(got.Argv[len(got.Argv)-1]), &doc); err != nil {
			t.Fatalf("%q printed %s: argument is not JSON: %v", v, lines[0].Text, err)
		}
		if doc.LoggingEnabled.TargetBucket != v || doc.LoggingEnabled.TargetPrefix != v+"/" {
			t.Errorf("%q: JSON argument holds %+v", v, doc.LoggingEnabled)
		}
	}
}

func TestLinesControlCharactersBecomeANote(t *testing.T) {
	for _, v := range []string{"a\nrm -rf ~", "x\r", "\x1b]0;title\x07", "nul\x00", "\u202eevil", "tab\there"} {
		lines, err := render(t, `aws iam delete-user-policy --policy-name {{.A}}`+"\n"+`aws iam list-users`, map[string]any{"A": v}, nil)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if len(lines) != 2 || !lines[0].Note || lines[0].Text != shellcmd.ControlNote || lines[1].Text != "aws iam list-users" {
			t.Fatalf("%q: %+v", v, lines)
		}
		if !shelltest.IsComment(lines[0].Text) {
			t.Errorf("note %q is not a comment for every shell", lines[0].Text)
		}
	}
}

func TestNoteIsInert(t *testing.T) {
	n := shellcmd.Note(`the policy "x$(id)" has; duplicate | keys` + "\n`rm`")
	if !shelltest.IsComment(n) || strings.ContainsAny(n, "\"$;|`()\n") {
		t.Errorf("Note = %q", n)
	}
	// Without `#` comments (interactive zsh) the words after it must still be plain.
	if _, err := shelltest.Parse(strings.TrimPrefix(n, "# ")); err != nil {
		t.Errorf("note words are not inert: %v", err)
	}
}

func TestEscapeRejects(t *testing.T) {
	for _, src := range []string{
		`{{define "x"}}a{{end}}aws {{template "x"}}`,
		`aws {{literal .A}}`,
		`aws {{literal "a" "b"}}`,
		`aws {{printf "%s" (literal .A)}}`,
		"aws \ue0000\ue001",
		"aws \x1b[31m",
	} {
		tmpl, err := template.New("t").Funcs((&shellcmd.Values{}).Funcs()).Parse(src)
		if err != nil {
			continue // rejected by the parser already
		}
		if err := shellcmd.Escape(tmpl); err == nil {
			t.Errorf("Escape(%q) accepted it", src)
		}
	}
}

func TestLinesErrors(t *testing.T) {
	for src, data := range map[string]any{
		`aws x --a {{.Missing}}`:     map[string]any{},
		`aws x 'unterminated {{.A}}`: map[string]any{"A": "v"},
		`aws x --a={{args}}`:         map[string]any{},
	} {
		_, err := render(t, src, data, template.FuncMap{"args": func() shellcmd.Args { return shellcmd.Args{"a"} }})
		if err == nil {
			t.Errorf("%q rendered without error", src)
		}
	}
}

func TestEscapeJSONControls(t *testing.T) {
	in := "{\"a\":\"x\u202ey\x7f\U000E0001\"}"
	out := shellcmd.EscapeJSONControls(in)
	if shellcmd.HasControl(out) {
		t.Fatalf("%q still holds controls", out)
	}
	var a, b any
	if err := json.Unmarshal([]byte(in), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if !cmp.Equal(a, b) {
		t.Errorf("%q decodes to %v, want %v", out, b, a)
	}
}

// TestLinesWithoutSkeletonPrintTheSame: the engine renders without skeletons (they are for tests);
// the printed text must not depend on it.
func TestLinesWithoutSkeletonPrintTheSame(t *testing.T) {
	src := `aws x --a {{.A}} --q "v={{.B}}" '{"k":"{{.A}}"}' {{args .A .B}} > {{.B}}.json`
	funcs := template.FuncMap{"args": func(a, b string) shellcmd.Args { return shellcmd.Args{a, b} }}
	for _, a := range hostile {
		for _, b := range []string{"plain", "a b", "'"} {
			var texts [2]string
			for i, skeleton := range []bool{true, false} {
				values := &shellcmd.Values{Skeleton: skeleton}
				tmpl := template.Must(template.New("t").Funcs(values.Funcs()).Funcs(funcs).Parse(src))
				if err := shellcmd.Escape(tmpl); err != nil {
					t.Fatal(err)
				}
				var out strings.Builder
				if err := tmpl.Execute(&out, map[string]any{"A": a, "B": b}); err != nil {
					t.Fatal(err)
				}
				lines, err := values.Lines(out.String())
				if err != nil || len(lines) != 1 {
					t.Fatalf("%q: %v %v", a, lines, err)
				}
				texts[i] = lines[0].Text
				if !skeleton && (lines[0].Skeleton != "" || lines[0].Values != nil) {
					t.Errorf("skeleton built without being asked for: %+v", lines[0])
				}
			}
			if texts[0] != texts[1] {
				t.Errorf("%q %q: with skeleton %s, without %s", a, b, texts[0], texts[1])
			}
		}
	}
}
