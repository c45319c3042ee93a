package reporters

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/bench"
	"github.com/coffer-audit/coffer/checks/shellcmd"
	"github.com/coffer-audit/coffer/checks/shellcmd/shelltest"
	"github.com/coffer-audit/coffer/policies"
)

func TestParseGroupBy(t *testing.T) {
	tests := []struct {
		in      string
		want    GroupBy
		wantErr bool
	}{
		{"", GroupByCheck, false},
		{"check", GroupByCheck, false},
		{" Resource ", GroupByResource, false},
		{"none", GroupByNone, false},
		{"account", GroupByAccount, false},
		{"severity", "", true},
	}
	for _, tc := range tests {
		got, err := ParseGroupBy(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParseGroupBy(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	for _, format := range []string{FormatTable, FormatMarkdown, FormatMarkdownComment} {
		rep, _ := New(format, Options{GroupBy: "severity"})
		if err := rep.Write(&strings.Builder{}, goldenReport()); err == nil {
			t.Errorf("%s: unknown GroupBy: want an error", format)
		}
	}
}

func TestReplaceWord(t *testing.T) {
	tests := []struct{ s, word, want string }{
		{"Bucket logs has no policy.", "logs", "Bucket # has no policy."},
		{"Bucket logs.", "logs", "Bucket #."},
		{"arn:aws:s3:::logs/*", "logs", "arn:aws:s3:::#/*"},
		{"> logs-policy.json", "logs", "> #-policy.json"},
		{"old-logs logs2 logs_x xlogs", "logs", "old-logs logs2 logs_x xlogs"},
		{"logs logs", "logs", "# #"},
		{"ünilogs logs", "logs", "ünilogs #"},
		// A name that does not start or end with a name character is found anywhere.
		{"a/b/c", "/b/", "a#c"},
		{"nothing here", "", "nothing here"},
	}
	for _, tc := range tests {
		if got := replaceWord(tc.s, tc.word, "#"); got != tc.want {
			t.Errorf("replaceWord(%q, %q) = %q, want %q", tc.s, tc.word, got, tc.want)
		}
	}
}

func TestPlaceholderKind(t *testing.T) {
	for typ, want := range map[string]string{
		"AWS::S3::Bucket": "BUCKET", "AWS::IAM::AccessKey": "ACCESS_KEY", "AWS::::Account": "ACCOUNT",
		"AWS::KMS::Key": "KEY", "": "RESOURCE", "weird": "WEIRD", "AWS::X::9?": "9",
	} {
		if got := placeholderKind(typ); got != want {
			t.Errorf("placeholderKind(%q) = %q, want %q", typ, got, want)
		}
	}
}

// TestFillPlaceholdersQuoting: a placeholder in a command is literal text for the shell wherever
// it stands.
func TestFillPlaceholdersQuoting(t *testing.T) {
	bucket := checks.Resource{Type: "AWS::S3::Bucket"}
	tests := []struct{ in, want string }{
		{"aws s3api x --bucket \x00N\x00", "aws s3api x --bucket '<BUCKET>'"},
		{"aws x > \x00N\x00-policy.json", "aws x > '<BUCKET>-policy.json'"},
		{"aws x --policy file://\x00N\x00-policy.json", "aws x --policy 'file://<BUCKET>-policy.json'"},
		{"aws x --policy '{\"Resource\":\"\x00A\x00/*\"}'", "aws x --policy '{\"Resource\":\"<BUCKET_ARN>/*\"}'"},
		{"aws x --query \"B[?N=='\x00N\x00']\"", "aws x --query \"B[?N=='<BUCKET>']\""},
		// Beside quotes the word cannot be quoted whole, so the placeholder is.
		{"aws x --y a'b'\x00N\x00", "aws x --y a'b''<BUCKET>'"},
		{"aws x \\'\x00N\x00", "aws x \\''<BUCKET>'"},
		{"aws x --mfa 'arn:aws:iam::\x00I\x00:mfa/root <MFA_CODE>'", "aws x --mfa 'arn:aws:iam::<ACCOUNT_ID>:mfa/root <MFA_CODE>'"},
	}
	for _, tc := range tests {
		var used []string
		got := fillPlaceholders(tc.in, bucket, "", true, &used)
		if got != tc.want {
			t.Errorf("fillPlaceholders(%q) = %q, want %q", tc.in, got, tc.want)
			continue
		}
		cmd, err := shelltest.Parse(got)
		if err != nil {
			t.Errorf("%q does not parse as one inert command: %v", got, err)
			continue
		}
		words := strings.Join(append(cmd.Argv, cmd.Redirect), " ")
		for _, p := range used {
			if !strings.Contains(words, p) {
				t.Errorf("%q: %s is not literal text of a word (%q)", got, p, cmd.Argv)
			}
		}
	}
	var used []string
	if got := fillPlaceholders("Bucket \x00N\x00 in \x00I\x00", bucket, "123456789012", false, &used); got != "Bucket <BUCKET> in 123456789012" {
		t.Errorf("message with the account kept = %q", got)
	}
	if diff := cmp.Diff([]string{"<BUCKET>"}, used); diff != "" {
		t.Errorf("placeholders used (-want +got):\n%s", diff)
	}
}

// groupFinding is a FAIL of check on a bucket, its message and commands naming the bucket as the
// engine renders them (every value shell-quoted).
func groupFinding(check, name, account string, cmds ...string) checks.Finding {
	res := checks.Resource{ARN: "arn:aws:s3:::" + name, Type: "AWS::S3::Bucket", Name: name, Region: "eu-west-1", Role: "primary", AccountID: account}
	rendered := make([]string, len(cmds))
	for i, c := range cmds {
		rendered[i] = strings.NewReplacer("NAME", shellcmd.Quote(name), "ARN", shellcmd.Quote(res.ARN)).Replace(c)
	}
	return checks.Finding{
		CheckID: check, Title: check, Severity: checks.SeverityHigh, Status: checks.StatusFail, Resource: res,
		Message:     "Bucket " + name + " does not have versioning enabled.",
		Remediation: checks.Remediation{Summary: "Turn versioning on.", Commands: rendered, Fix: checks.FixAuto},
	}
}

func ptrs(fs []checks.Finding) []*checks.Finding {
	out := make([]*checks.Finding, len(fs))
	for i := range fs {
		out[i] = &fs[i]
	}
	return out
}

func TestGroupFindings(t *testing.T) {
	cmd := "aws s3api put-bucket-versioning --bucket NAME --versioning-configuration Status=Enabled"
	fs := []checks.Finding{
		groupFinding("s3-bucket-versioning", "a-bucket", "111111111111", cmd),
		groupFinding("s3-bucket-versioning", "b-bucket", "111111111111", cmd),
		groupFinding("s3-bucket-versioning", "c-bucket", "222222222222", cmd),
		// Another command: another group.
		groupFinding("s3-bucket-versioning", "d-bucket", "111111111111", cmd+" --region us-east-1"),
		// Same words, another check: another group.
		groupFinding("s3-bucket-object-lock", "e-bucket", "111111111111", cmd),
	}
	known := groupFinding("s3-bucket-versioning", "f-bucket", "111111111111", cmd)
	known.InBaseline = true // known failures are told apart from new ones
	fs = append(fs, known)
	type got struct {
		Members  []string
		Message  string
		Commands []string
	}
	summarise := func(groups []Group) []got {
		var out []got
		for _, g := range groups {
			var names []string
			for _, f := range g.Findings {
				names = append(names, f.Resource.Name)
			}
			out = append(out, got{names, g.Message, g.Commands})
		}
		return out
	}
	template := []string{"aws s3api put-bucket-versioning --bucket '<BUCKET>' --versioning-configuration Status=Enabled"}
	tests := []struct {
		by   GroupBy
		want []got
	}{
		{GroupByCheck, []got{
			{[]string{"a-bucket", "b-bucket", "c-bucket"}, "Bucket <BUCKET> does not have versioning enabled.", template},
			{[]string{"d-bucket"}, fs[3].Message, fs[3].Remediation.Commands},
			{[]string{"e-bucket"}, fs[4].Message, fs[4].Remediation.Commands},
			{[]string{"f-bucket"}, fs[5].Message, fs[5].Remediation.Commands},
		}},
		// By account, a group stays in its account.
		{GroupByAccount, []got{
			{[]string{"a-bucket", "b-bucket"}, "Bucket <BUCKET> does not have versioning enabled.", template},
			{[]string{"c-bucket"}, fs[2].Message, fs[2].Remediation.Commands},
			{[]string{"d-bucket"}, fs[3].Message, fs[3].Remediation.Commands},
			{[]string{"e-bucket"}, fs[4].Message, fs[4].Remediation.Commands},
			{[]string{"f-bucket"}, fs[5].Message, fs[5].Remediation.Commands},
		}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, summarise(GroupFindings(ptrs(fs), tc.by))); diff != "" {
			t.Errorf("GroupFindings(%s) (-want +got):\n%s", tc.by, diff)
		}
	}
	if n := len(GroupFindings(ptrs(fs), GroupByNone)); n != len(fs) {
		t.Errorf("GroupByNone: %d groups, want one per finding (%d)", n, len(fs))
	}
}

// TestGroupTemplatesAreEachMembersCommand is the promise of a group: its template, with a
// member's own name, ARN and account in place of the placeholders, is that member's message and
// runs that member's commands (the same words for the shell). Proven on every group of an
// account of varied buckets and on hostile names.
func TestGroupTemplatesAreEachMembersCommand(t *testing.T) {
	ctx := context.Background()
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	r, err := engine.Evaluate(ctx, bench.VariedSnapshot(300), checks.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hostile := []string{"it's", "$(touch x)", "a b", "x;y", `q"uote`, "back\\slash", "star*", "-dash"}
	var fs []checks.Finding
	for i, name := range hostile {
		f := groupFinding("hostile", name, []string{"111111111111", "222222222222"}[i%2],
			"aws s3api x --bucket NAME --policy '{\"Resource\":\"arn:aws:s3:::'NAME'/*\"}'",
			"aws s3api get-bucket-policy --bucket NAME > NAME-policy.json",
			`aws s3api y --query "B[?N==`+"'"+`x']" --arn ARN`)
		fs = append(fs, f)
	}
	all := append(ptrs(r.Findings), ptrs(fs)...)

	grouped, hostileGrouped := 0, 0
	for _, g := range GroupFindings(shownFindings(derefs(all), false), GroupByCheck) {
		if g.Len() == 1 {
			if g.Message != g.First().Message || !cmp.Equal(g.Commands, g.First().Remediation.Commands) {
				t.Errorf("a group of one shows other text than its finding: %q", g.Message)
			}
			continue
		}
		grouped++
		for _, f := range g.Findings {
			if f.CheckID == "hostile" {
				hostileGrouped++
			}
			fill := strings.NewReplacer(valuesOf(g, f)...)
			if got := fill.Replace(g.Message); got != f.Message {
				t.Errorf("%s: message template %q filled for %s is %q, want %q", f.CheckID, g.Message, f.Resource.Name, got, f.Message)
			}
			for i, tmpl := range g.Commands {
				want := f.Remediation.Commands[i]
				if shelltest.IsComment(want) {
					if !shelltest.IsComment(tmpl) {
						t.Errorf("%s: note %q became %q", f.CheckID, want, tmpl)
					}
					continue
				}
				parsedTmpl, err := shelltest.Parse(tmpl)
				if err != nil {
					t.Errorf("%s: template %q is not one inert command: %v", f.CheckID, tmpl, err)
					continue
				}
				wantCmd, err := shelltest.Parse(want)
				if err != nil {
					t.Fatalf("%s: command %q does not parse: %v", f.CheckID, want, err)
				}
				for i := range parsedTmpl.Argv {
					parsedTmpl.Argv[i] = fill.Replace(parsedTmpl.Argv[i])
				}
				parsedTmpl.Redirect = fill.Replace(parsedTmpl.Redirect)
				if diff := cmp.Diff(wantCmd, parsedTmpl); diff != "" {
					t.Errorf("%s on %s: template %q filled in is not the command %q (-want +got):\n%s", f.CheckID, f.Resource.Name, tmpl, want, diff)
				}
			}
		}
	}
	if grouped < 20 || hostileGrouped < 4 {
		t.Errorf("only %d groups of several findings, %d hostile names in them: the test proves little", grouped, hostileGrouped)
	}
}

func derefs(fs []*checks.Finding) []checks.Finding {
	out := make([]checks.Finding, len(fs))
	for i, f := range fs {
		out[i] = *f
	}
	return out
}

// valuesOf pairs each placeholder of g with f's value, for strings.NewReplacer.
func valuesOf(g Group, f *checks.Finding) []string {
	kind := placeholderKind(f.Resource.Type)
	return []string{"<" + kind + "_ARN>", f.Resource.ARN, "<" + kind + ">", f.Resource.Name, "<ACCOUNT_ID>", f.Resource.AccountID}
}
