package reporters

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/policies"
)

const htmlGolden = "report.html.golden"

// TestHTMLGolden renders the hand-built report. The page is static HTML for the summary and the
// coverage, and the findings as a JSON document one table entry a line, so a change shows as the
// lines it changes.
func TestHTMLGolden(t *testing.T) {
	got := render(t, FormatHTML, Options{}, htmlGoldenReport())
	path := filepath.Join("testdata", htmlGolden)
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
		t.Errorf("%s differs from golden (-want +got); run go test ./reporters -update if intended:\n%s", htmlGolden, diff)
	}
}

// TestHTMLDeterministic renders from shuffled findings and rules and expects the same bytes, and
// checks that the reporter left its input alone.
func TestHTMLDeterministic(t *testing.T) {
	r := htmlGoldenReport()
	first := render(t, FormatHTML, Options{}, r)
	if diff := cmp.Diff(htmlGoldenReport(), r); diff != "" {
		t.Fatalf("html reporter modified the report (-before +after):\n%s", diff)
	}
	for seed := uint64(1); seed <= 3; seed++ {
		shuffled := htmlGoldenReport()
		rng := rand.New(rand.NewPCG(seed, 7))
		rng.Shuffle(len(shuffled.Findings), func(i, j int) {
			shuffled.Findings[i], shuffled.Findings[j] = shuffled.Findings[j], shuffled.Findings[i]
		})
		rng.Shuffle(len(shuffled.Rules), func(i, j int) { shuffled.Rules[i], shuffled.Rules[j] = shuffled.Rules[j], shuffled.Rules[i] })
		if second := render(t, FormatHTML, Options{}, shuffled); !bytes.Equal(first, second) {
			t.Fatalf("seed %d: output depends on input order:\n%s", seed, cmp.Diff(string(first), string(second)))
		}
	}
}

var (
	reHref   = regexp.MustCompile(`href="([^"]*)"`)
	reID     = regexp.MustCompile(` id="([^"]*)"`)
	reStyle  = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
	reScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	reData   = regexp.MustCompile(`(?s)<script type="application/json" id="coffer-data">(.*?)</script>`)
	reCSP    = regexp.MustCompile(`http-equiv="Content-Security-Policy" content="([^"]*)"`)
)

// TestHTMLSelfContained: one file that loads nothing — no src, no external href, no CSS url() or
// @import — and whose CSP hashes match the inline style and script exactly (else the browser
// would refuse to run them). Besides the script, the only script element is the data document,
// which a browser never runs, and which must be JSON.
func TestHTMLSelfContained(t *testing.T) {
	for name, r := range map[string]*checks.Report{"account": goldenReport(), "organisation": htmlOrgReport(t)} {
		t.Run(name, func(t *testing.T) {
			out := string(render(t, FormatHTML, Options{}, r))
			// The data document is text the script shows as text (an ACL grant's URI is http://…);
			// the rest of the page is where a load could hide.
			markup := reData.ReplaceAllString(out, "")
			for _, bad := range []string{" src=", "<link", "url(", "@import", "<iframe", "<img", "http://", "https://"} {
				if strings.Contains(markup, bad) {
					t.Errorf("page contains %q: it must not load anything", bad)
				}
			}
			ids := map[string]int{}
			for _, m := range reID.FindAllStringSubmatch(out, -1) {
				ids[m[1]]++
			}
			for id, n := range ids {
				if n > 1 {
					t.Errorf("id %q used %d times", id, n)
				}
			}
			for _, m := range reHref.FindAllStringSubmatch(out, -1) {
				target, ok := strings.CutPrefix(m[1], "#")
				if !ok {
					t.Errorf("link %q leaves the page", m[1])
					continue
				}
				if ids[target] == 0 {
					t.Errorf("link %q points at no element", m[1])
				}
			}
			style, script, data, csp := reStyle.FindStringSubmatch(out), reScript.FindStringSubmatch(out), reData.FindStringSubmatch(out), reCSP.FindStringSubmatch(out)
			if style == nil || script == nil || data == nil || csp == nil {
				t.Fatal("page lacks its inline style, script, data or CSP")
			}
			if n := strings.Count(out, "<script"); n != 2 {
				t.Errorf("%d script elements, want 2 (the data and the script)", n)
			}
			if !json.Valid([]byte(data[1])) {
				t.Error("the data document is not JSON")
			}
			policy := html.UnescapeString(csp[1])
			for _, want := range []string{"default-src 'none'", "style-src '" + cspHash(style[1]) + "'", "script-src '" + cspHash(script[1]) + "'"} {
				if !strings.Contains(policy, want) {
					t.Errorf("CSP %q lacks %q", policy, want)
				}
			}
		})
	}
}

// hostile is markup and script in every text that comes from the account or the config.
const hostile = `</script><script>alert(1)</script><img src=x onerror=alert(2)><!--"'&` + "\u2028"

func hostileReport() *checks.Report {
	r := goldenReport()
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Message = hostile + " on " + f.Resource.Name
		f.Resource.Name = hostile + f.Resource.Name
		f.Remediation.Commands = append(f.Remediation.Commands, "echo '"+hostile+"'")
		f.Evidence = &checks.Evidence{Path: hostile, Value: map[string]any{"k": hostile}}
	}
	r.Notices = append(r.Notices, hostile)
	r.Regions = []string{hostile}
	return r
}

// TestHTMLEscaping: markup from the report never reaches the page as markup, in the HTML (escaped)
// or in the data (JSON with <, > and & escaped, so it cannot end the script element), and the
// data still holds the texts exactly.
func TestHTMLEscaping(t *testing.T) {
	r := hostileReport()
	page := render(t, FormatHTML, Options{}, r)
	out := string(page)
	for _, bad := range []string{"<script>alert", "<img", "</script><script>", "<!--\""} {
		if strings.Contains(out, bad) {
			t.Errorf("unescaped markup %q reached the page", bad)
		}
	}
	if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("escaped notice not found")
	}
	got := pageData(t, page).findings(t)
	for _, f := range got {
		if !strings.HasPrefix(f.Res.Name, hostile) || f.Message != clipProse(hostile+" on "+strings.TrimPrefix(f.Res.Name, hostile)) || f.EvidencePath != hostile {
			t.Errorf("hostile texts not kept exactly: %+v", f)
		}
	}
}

// TestHTMLContent: the static parts of the page (counts, coverage, notices, filters).
func TestHTMLContent(t *testing.T) {
	r := goldenReport()
	out := string(render(t, FormatHTML, Options{}, r))
	for _, want := range []string{
		`<span id="count-total">13</span>`,
		`<span class="count" id="count-status-FAIL">7</span>`,
		`<span class="count" id="count-status-ERROR">1</span>`,
		`<span class="count" id="count-status-WAIVED">1</span>`,
		`<span class="count" id="count-status-PASS">4</span>`,
		`<span class="count" id="count-severity-CRITICAL">2</span>`,
		`<dd id="meta-version">coffer 1.2.3-test</dd>`,
		`2025-06-01 02:00:07 UTC (took 7s)`,
		// Coverage by framework, natural order of CIS ids.
		`<caption>CIS AWS Foundations Benchmark v3.0.0 <code>cis-aws-3.0.0</code></caption>`,
		`<tr><th scope="row">1.5</th><td><span class="badge st-fail">FAIL</span></td><td class="num">1</td>`,
		// The password policy rule has no finding: its controls say so.
		`<tr><th scope="row">1.8</th><td><span class="badge st-na">no resources</span></td>`,
		`Waiver for s3-bucket-versioning on team-old-* expired`,
		`<option value="cloudtrail">cloudtrail</option>`,
		`<input type="checkbox" name="status" value="PASS"> PASS`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if i1, i2 := strings.Index(out, "1.5</th>"), strings.Index(out, "1.10</th>"); i1 < 0 || i2 < 0 || i1 > i2 {
		t.Errorf("CIS 1.5 at %d should come before 1.10 at %d", i1, i2)
	}
	if strings.Contains(out, `id="organisation"`) {
		t.Error("the report of one account has an organisation section")
	}
	// ShowPass checks the PASS filter from the start.
	shown := render(t, FormatHTML, Options{ShowPass: true}, r)
	if !strings.Contains(string(shown), `value="PASS" checked`) || !pageData(t, shown).ShowPass {
		t.Error("ShowPass does not pre-select PASS")
	}
}

// TestHTMLData: every finding is in the data, with what the page shows of it exactly (the texts
// cut for display as in every format for people), worst first.
func TestHTMLData(t *testing.T) {
	r := htmlGoldenReport()
	doc := pageData(t, render(t, FormatHTML, Options{}, r))
	got := doc.findings(t)
	var want []docFinding
	for _, f := range r.Findings {
		want = append(want, expectedDocFinding(r, f))
	}
	order := func(a, b docFinding) int {
		return strings.Compare(a.Check.ID+a.Res.ARN+a.Status, b.Check.ID+b.Res.ARN+b.Status)
	}
	sorted := slices.Clone(got)
	slices.SortFunc(sorted, order)
	slices.SortFunc(want, order)
	if diff := cmp.Diff(want, sorted); diff != "" {
		t.Errorf("findings in the data (-want +got):\n%s", diff)
	}
	rank := map[string]int{"FAIL": 0, "ERROR": 1, "WAIVED": 2, "PASS": 3}
	if !slices.IsSortedFunc(got, func(a, b docFinding) int { return rank[a.Status] - rank[b.Status] }) {
		t.Error("findings are not worst first")
	}
	if got[0].Check.Severity != "CRITICAL" || got[0].Status != "FAIL" {
		t.Errorf("the findings open with %s %s, want a CRITICAL FAIL", got[0].Check.Severity, got[0].Status)
	}
	// The not-applicable MFA Delete pass is marked so (the page shows it as n/a).
	for _, f := range got {
		if f.Check.ID == "s3-bucket-mfa-delete" && f.Status == "PASS" && f.Flags&flagNotApplicable == 0 {
			t.Errorf("not-applicable finding on %s not marked", f.Res.Name)
		}
	}
	// Repeated texts are stored once: the check's message on each bucket is one template.
	if n, m := len(doc.T), len(got); n >= 3*m {
		t.Errorf("%d texts for %d findings: templates are not shared", n, m)
	}
}

// expectedDocFinding is what the data should hold of f: texts cut for display.
func expectedDocFinding(r *checks.Report, f checks.Finding) docFinding {
	name := clipProse(cmpOr(f.Resource.Name, f.Resource.ARN))
	region := f.Resource.Region
	if region == "global" {
		region = ""
	}
	d := docFinding{
		Check:  docCheck{ID: f.CheckID, Title: cmpOr(f.Title, f.CheckID), Severity: f.Severity.String(), Fix: string(f.Remediation.Fix), Summary: clipProse(f.Remediation.Summary)},
		Status: string(f.Status), Message: clipProse(f.Message),
		Res: docRes{Name: name, ARN: clipProse(f.Resource.ARN), Kind: resourceKind(f.Resource.Type), Region: clipProse(region), Role: clipProse(f.Resource.Role),
			Account: clipProse(cmpOr(f.Resource.AccountID, r.AccountID))},
	}
	if f.Evidence != nil {
		d.Flags |= flagEvidence
		d.EvidencePath = clipProse(f.Evidence.Path)
		d.EvidenceValue, _ = clipCommand(evidenceJSON(f.Evidence.Value))
	}
	if NotApplicable(f) {
		d.Flags |= flagNotApplicable
	}
	if f.InBaseline {
		d.Flags |= flagInBaseline
	}
	if f.Status != checks.StatusPass {
		cmds, shortened := clipCommands(f.Remediation.Commands)
		d.Commands = strings.Join(cmds, "\n")
		if shortened {
			d.Flags |= flagShortened
		}
	}
	if f.Status == checks.StatusWaived {
		d.Waiver = clipProse(waiverText(f.Waiver))
	}
	return d
}

func TestHTMLMatrixCells(t *testing.T) {
	fs := []*checks.Finding{
		{CheckID: "s3-bucket-public-access-block", Status: checks.StatusPass},
		{CheckID: "s3-bucket-not-public", Status: checks.StatusFail},
		{CheckID: "s3-bucket-mfa-delete", Status: checks.StatusPass, Message: "MFA Delete is not applicable here.", NotApplicable: true},
		{CheckID: "s3-bucket-kms-cmk", Status: checks.StatusWaived},
		{CheckID: "s3-bucket-default-encryption", Status: checks.StatusError},
	}
	colOf := map[string]int{"s3-bucket-public-access-block": 0, "s3-bucket-not-public": 0, "s3-bucket-mfa-delete": 1, "s3-bucket-kms-cmk": 2, "s3-bucket-default-encryption": 2}
	tests := []struct {
		name string
		fis  []int
		want string
	}{
		{"no finding", nil, "---"},
		{"worst of two", []int{0, 1}, "F--"},
		{"error beats waived", []int{3, 4}, "--E"},
		{"not applicable", []int{2}, "-n-"},
		{"a pass beside a not-applicable pass", []int{0, 2}, "Pn-"},
		{"single pass", []int{0}, "P--"},
	}
	for _, tc := range tests {
		if got := matrixCells(fs, tc.fis, 3, colOf); got != tc.want {
			t.Errorf("%s: cells %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestNaturalCompare(t *testing.T) {
	ids := []string{"S3.10", "1.10", "S3.9", "1.9", "2.1.4", "2.1.1", "IAM.16", "IAM.7", "3.1"}
	want := []string{"1.9", "1.10", "2.1.1", "2.1.4", "3.1", "IAM.7", "IAM.16", "S3.9", "S3.10"}
	got := append([]string(nil), ids...)
	slices.SortFunc(got, naturalCompare)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("natural order (-want +got):\n%s", diff)
	}
}

// TestHTMLTextTemplates: a text split on its resource's name and joined again is the text, for
// names that occur anywhere, several times or not at all, and texts that hold NUL.
func TestHTMLTextTemplates(t *testing.T) {
	tests := []struct{ text, name string }{
		{"Bucket b1 has no versioning.", "b1"},
		{"aws s3api put-bucket-versioning --bucket team-b --versioning-configuration Status=Enabled", "team-b"},
		{"team-b", "team-b"},
		{"team-bteam-b then team-b", "team-b"},
		{"no name here", "team-b"},
		{"splits on short names? ab ab", "ab"},
		{"NUL \x00 team-b", "team-b"},
		{"", "team-b"},
		{"arn:aws:s3:::team-b/*", "team-b"},
	}
	d := &htmlData{}
	d.texts.add(textSplit)
	for _, tc := range tests {
		i := d.text(tc.text, tc.name)
		key := d.texts.list[i]
		var got string
		if key[:1] == textLiteral {
			got = key[1:]
		} else {
			got = strings.Join(strings.Split(key[1:], "\x00"), tc.name)
		}
		if got != tc.text {
			t.Errorf("text %q on name %q: joined again %q", tc.text, tc.name, got)
		}
	}
	if a, b := d.text("Bucket one-1 fails.", "one-1"), d.text("Bucket two-2 fails.", "two-2"); a != b {
		t.Error("the same message on two buckets is two texts")
	}
}

// htmlCopyable counts the findings of a page whose commands have a copy button: those not
// shortened for display.
func htmlCopyable(t testing.TB, page []byte) int {
	t.Helper()
	n := 0
	for _, f := range pageData(t, page).findings(t) {
		if f.Commands != "" && f.Flags&flagShortened == 0 {
			n++
		}
	}
	return n
}

// htmlOrgReport is an organisation of three accounts: two scanned (the review account and a copy of it
// under another id), one that could not be read (every check ERROR), and one skipped.
func htmlOrgReport(t testing.TB) *checks.Report {
	t.Helper()
	ctx := context.Background()
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	src := &checks.MemoryAccounts{Snapshot: checks.OrgSnapshot{SchemaVersion: checks.OrgSnapshotSchemaVersion, Accounts: []checks.OrgAccount{
		{ID: "111111111111", Name: "backups-prod", Status: checks.AccountScanned, Snapshot: withAccount(t, reviewSnapshot(now), "111111111111")},
		{ID: "222222222222", Name: "backups-dev", Status: checks.AccountScanned, Snapshot: withAccount(t, reviewSnapshot(now), "222222222222")},
		{ID: "333333333333", Name: "legacy", Status: checks.AccountError, Error: "AccessDenied assuming coffer-audit"},
		{ID: "444444444444", Name: "sandbox", Status: checks.AccountSkipped, Error: "suspended"},
	}}}
	var reports []*checks.Report
	accounts, err := engine.EvaluateOrg(ctx, src, checks.OrgEvalOptions{EvalOptions: checks.EvalOptions{
		Config: checks.DefaultConfig(), Tool: checks.Tool{Name: "coffer", Version: "1.2.3-test"}, Now: func() time.Time { return now },
	}}, func(_ checks.AccountInfo, r *checks.Report) error {
		reports = append(reports, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return checks.MergeReports(reports, accounts)
}

// withAccount is snap as if collected in account id: every ARN and id of the account replaced.
func withAccount(t testing.TB, snap *checks.Snapshot, id string) *checks.Snapshot {
	t.Helper()
	var buf bytes.Buffer
	if err := checks.WriteSnapshot(&buf, snap); err != nil {
		t.Fatal(err)
	}
	out, err := checks.ParseSnapshot("copy", bytes.ReplaceAll(buf.Bytes(), []byte(snap.Account.ID), []byte(id)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHTMLOrganisation: an organisation report opens with a row per account, its status and its
// failures per service; the data lists the accounts and every resource's account.
func TestHTMLOrganisation(t *testing.T) {
	r := htmlOrgReport(t)
	page := render(t, FormatHTML, Options{}, r)
	out := string(page)
	org := regexp.MustCompile(`(?s)<section id="organisation".*?</section>`).FindString(out)
	if org == "" {
		t.Fatal("no organisation section")
	}
	if i, j := strings.Index(out, `id="organisation"`), strings.Index(out, `id="summary"`); i > j {
		t.Error("the organisation summary does not come first")
	}
	for _, want := range []string{
		`<dd id="meta-account">4 accounts</dd>`,
		`<th scope="col">Failed</th><th scope="col">cloudtrail</th><th scope="col">iam</th><th scope="col">kms</th><th scope="col">s3</th><th scope="col">Errors</th>`,
		`<tr><th scope="row">333333333333</th><td>legacy</td><td><span class="badge st-error">error</span> <span class="muted">AccessDenied assuming coffer-audit</span></td><td class="num">0</td>`,
		`<tr><th scope="row">444444444444</th><td>sandbox</td><td><span class="badge st-na">skipped</span> <span class="muted">suspended</span></td>`,
		`<button type="button" class="show-account" data-account="111111111111" hidden>Show</button>`,
	} {
		if !strings.Contains(org+out[:strings.Index(out, "<main>")], want) {
			t.Errorf("organisation section lacks %q", want)
		}
	}
	// Each scanned account's row counts its failures: the two are the same account under two ids.
	var fails [2]int
	for _, f := range r.Findings {
		if f.Status == checks.StatusFail {
			if f.Resource.AccountID == "111111111111" {
				fails[0]++
			} else if f.Resource.AccountID == "222222222222" {
				fails[1]++
			}
		}
	}
	if fails[0] == 0 || fails[0] != fails[1] {
		t.Fatalf("failures per account %v: want the same, not zero", fails)
	}
	for _, id := range []string{"111111111111", "222222222222"} {
		if want := fmt.Sprintf(`<tr><th scope="row">%s</th><td>backups-%s</td><td><span class="badge st-pass">scanned</span></td><td class="num has-fail">%d</td>`,
			id, map[string]string{"111111111111": "prod", "222222222222": "dev"}[id], fails[0]); !strings.Contains(org, want) {
			t.Errorf("no row %q", want)
		}
	}
	doc := pageData(t, page)
	var accounts []string
	for _, a := range doc.Accounts {
		accounts = append(accounts, doc.S[a[0]]+" "+doc.S[a[2]])
	}
	if want := []string{"111111111111 scanned", "222222222222 scanned", "333333333333 error", "444444444444 skipped"}; !slices.Equal(accounts, want) {
		t.Errorf("data accounts %v, want %v", accounts, want)
	}
	perAccount := map[string]int{}
	for _, f := range doc.findings(t) {
		perAccount[f.Res.Account]++
	}
	for _, f := range r.Findings {
		perAccount[f.Resource.AccountID]--
	}
	for id, n := range perAccount {
		if n != 0 {
			t.Errorf("account %s: %d findings more in the data than in the report", id, n)
		}
	}
	// Bucket rows of both accounts: S3 ARNs name no account, the two accounts' buckets share names.
	rows := map[string]int{}
	for ri := range doc.NB {
		rows[doc.res(t, ri).Account]++
	}
	if rows["111111111111"] == 0 || rows["111111111111"] != rows["222222222222"] {
		t.Errorf("bucket rows per account %v", rows)
	}
}

// TestHTMLMatrixShowsUserChecks: a check from --policy-dir that declares a matrix column shows in
// the HTML matrix like a built-in one: its own column where its order puts it, with a cell per
// bucket, or a place in the built-in column it names; not under "Other checks".
func TestHTMLMatrixShowsUserChecks(t *testing.T) {
	dir := t.TempDir()
	for name, src := range userMatrixChecks {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS, PolicyDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	report, err := engine.Evaluate(ctx, reviewSnapshot(now), checks.EvalOptions{Config: checks.DefaultConfig(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	doc := pageData(t, render(t, FormatHTML, Options{}, report))
	cols := doc.columns(t, 0)
	var labels []string
	for _, c := range cols {
		labels = append(labels, c.Label)
	}
	role := slices.Index(labels, "Role tag")
	// Order 95: after the built-in Data events (90), before Other checks.
	if role < 0 || labels[role-1] != "Data events" || labels[role+1] != "Other checks" || !slices.Equal(cols[role].Checks, []string{"acme-bucket-role-tag"}) {
		t.Errorf("columns %v: want Role tag (acme-bucket-role-tag) between Data events and Other checks", labels)
	}
	// No order: after the column's numbered checks.
	if i := slices.Index(labels, "Public access"); i < 0 || !slices.Equal(cols[i].Checks, []string{"s3-bucket-public-access-block", "s3-bucket-not-public", "acme-bucket-no-website"}) {
		t.Errorf("Public access column: %+v", cols)
	}
	if other := cols[len(cols)-1]; slices.ContainsFunc(other.Checks, func(id string) bool { return strings.HasPrefix(id, "acme-") }) {
		t.Errorf("a user check with a matrix column is under Other checks: %v", other.Checks)
	}
	// The cells: the tagged primary passes, the untagged scratch bucket fails.
	for bucket, code := range map[string]byte{"vault-primary": cellPass, "vault-scratch": cellFail} {
		ri := -1
		for i := range doc.NB {
			if doc.res(t, i).Name == bucket {
				ri = i
			}
		}
		if ri < 0 {
			t.Fatalf("no matrix row for %s", bucket)
		}
		cells := doc.Cells[ri]
		if len(cells) != len(cols) || cells[role] != code {
			t.Errorf("row of %s: cells %q for %d columns, want %c under Role tag", bucket, cells, len(cols), code)
		}
	}
}

// htmlDoc is the data document of a page, decoded for tests.
type htmlDoc struct {
	V        int                   `json:"v"`
	S        []string              `json:"s"`
	T        [][]string            `json:"t"`
	Checks   [][]json.RawMessage   `json:"checks"`
	Accounts [][4]int              `json:"accounts"`
	Cols     [][][]json.RawMessage `json:"cols"`
	NB       int                   `json:"nb"`
	NP       int                   `json:"np"`
	Res      [][]json.RawMessage   `json:"res"`
	Cells    []string              `json:"cells"`
	F        map[string][]int      `json:"f"`
	W        [][2]int              `json:"w"`
	ShowPass bool                  `json:"showPass"`
	Notes    map[string]string     `json:"notes"`
}

type docCheck struct {
	ID, Title, Severity, Fix, Summary string
}

type docRes struct {
	Name, ARN, Kind, Region, Role, Account string
}

type docFinding struct {
	Check                                docCheck
	Status                               string
	Res                                  docRes
	Message, EvidencePath, EvidenceValue string
	Commands, Waiver                     string
	Flags                                int
}

type docCol struct {
	Label  string
	Checks []string
}

// pageData decodes the data document of a page, strictly: an unknown field fails.
func pageData(t testing.TB, page []byte) *htmlDoc {
	t.Helper()
	m := reData.FindSubmatch(page)
	if m == nil {
		t.Fatal("page has no data document")
	}
	dec := json.NewDecoder(bytes.NewReader(m[1]))
	dec.DisallowUnknownFields()
	var d htmlDoc
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("decode the data document: %v", err)
	}
	if d.V != 1 || len(d.T) == 0 || len(d.T[0]) != 1 || d.T[0][0] != "" {
		t.Fatalf("data document version %d, t[0] %q", d.V, d.T[:min(1, len(d.T))])
	}
	return &d
}

func decodeInto(t testing.TB, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}

// text joins template ti with name, as the page's script does.
func (d *htmlDoc) text(ti int, name string) string {
	return strings.Join(d.T[ti], name)
}

func (d *htmlDoc) res(t testing.TB, ri int) docRes {
	t.Helper()
	r := d.Res[ri]
	var name string
	var idx [5]int
	decodeInto(t, r[0], &name)
	for k := range idx {
		decodeInto(t, r[k+1], &idx[k])
	}
	return docRes{Name: name, ARN: d.text(idx[0], name), Kind: d.S[idx[1]], Region: d.S[idx[2]], Role: d.S[idx[3]], Account: d.S[idx[4]]}
}

func (d *htmlDoc) check(t testing.TB, ci int) docCheck {
	t.Helper()
	var s [7]string
	for k := range s {
		decodeInto(t, d.Checks[ci][k], &s[k])
	}
	return docCheck{ID: s[0], Title: s[1], Severity: s[2], Fix: s[4], Summary: s[5]}
}

func (d *htmlDoc) columns(t testing.TB, matrix int) []docCol {
	t.Helper()
	var out []docCol
	for _, c := range d.Cols[matrix] {
		var col docCol
		decodeInto(t, c[0], &col.Label)
		decodeInto(t, c[1], &col.Checks)
		out = append(out, col)
	}
	return out
}

// findings expands every finding of the data, in its order.
func (d *htmlDoc) findings(t testing.TB) []docFinding {
	t.Helper()
	statuses := []string{"FAIL", "ERROR", "WAIVED", "PASS"}
	waivers := map[int]int{}
	for _, w := range d.W {
		waivers[w[0]] = w[1]
	}
	var out []docFinding
	for i := range d.F["c"] {
		res := d.res(t, d.F["r"][i])
		f := docFinding{
			Check: d.check(t, d.F["c"][i]), Status: statuses[d.F["st"][i]], Res: res,
			Message: d.text(d.F["m"][i], res.Name), EvidencePath: d.text(d.F["ep"][i], res.Name), EvidenceValue: d.text(d.F["ev"][i], res.Name),
			Commands: d.text(d.F["x"][i], res.Name), Flags: d.F["fl"][i],
		}
		if w, ok := waivers[i]; ok {
			f.Waiver = d.text(w, res.Name)
		}
		out = append(out, f)
	}
	return out
}

// reviewReport evaluates reviewSnapshot with the built-in checks: a realistic report, made in the
// test so it never depends on fixtures being regenerated.
func reviewReport(t testing.TB) *checks.Report {
	t.Helper()
	ctx := context.Background()
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	r, err := engine.Evaluate(ctx, reviewSnapshot(now), checks.EvalOptions{
		Config: checks.DefaultConfig(),
		Tool:   checks.Tool{Name: "coffer", Version: "1.2.3-test"},
		Now:    func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// reviewSnapshot is a drifted backup account, after fixtures/README.md's "drifted": a primary and
// its standby in two regions, a hand-made bucket outside the baseline, public log buckets, an
// admin group, users without MFA, a key pending deletion and a single-region trail.
func reviewSnapshot(now time.Time) *checks.Snapshot {
	const acct = "123456789012"
	created := now.Add(-400 * 24 * time.Hour)
	on := true
	off := false
	bpa := func(all bool) *checks.PublicAccessBlock {
		return &checks.PublicAccessBlock{BlockPublicAcls: all, IgnorePublicAcls: all, BlockPublicPolicy: all, RestrictPublicBuckets: all}
	}
	policy := func(text string) *checks.Policy { p := checks.ParsePolicy(text); return &p }
	tls := func(b string) string {
		return `{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::` + b + `","arn:aws:s3:::` + b + `/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`
	}
	doc := func(stmts ...string) string {
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
	}
	keyARN := func(region, id string) string { return "arn:aws:kms:" + region + ":" + acct + ":key/" + id }
	primaryKey, standbyKey, trailKey := keyARN("us-east-1", "1111aaaa-0000-4000-8000-000000000001"), keyARN("eu-west-1", "2222bbbb-0000-4000-8000-000000000002"), keyARN("us-east-1", "3333cccc-0000-4000-8000-000000000003")
	days := func(n int32) *int32 { return &n }
	hygiene := checks.LifecycleRule{ID: "hygiene", Status: "Enabled", NoncurrentExpiration: &checks.NoncurrentExpiration{NoncurrentDays: 90}, AbortIncompleteMultipartUploadDays: days(7)}
	archive := func(id, status string, after int32) checks.LifecycleRule {
		r := hygiene
		r.ID, r.Status = id, status
		r.Transitions = []checks.Transition{{Days: after, StorageClass: "GLACIER"}}
		return r
	}
	bucket := func(name, region string, tags map[string]string) checks.Bucket {
		return checks.Bucket{
			Name: name, ARN: "arn:aws:s3:::" + name, Region: region, CreationDate: &created, Tags: tags,
			Versioning: &checks.Versioning{Status: "Enabled", MFADelete: "Disabled"},
			ObjectLock: &checks.ObjectLock{Enabled: true, DefaultRetention: &checks.Retention{Mode: "GOVERNANCE", Days: 30}},
			Encryption: &checks.Encryption{Rules: []checks.EncryptionRule{{Algorithm: "AES256", BucketKeyEnabled: true}}},
			Lifecycle:  &checks.Lifecycle{Rules: []checks.LifecycleRule{hygiene}}, PublicAccessBlock: bpa(true),
			Policy: policy(doc(tls(name))), ACL: &checks.ACL{OwnerID: "owner", Grants: []checks.Grant{{Type: "CanonicalUser", ID: "owner", Permission: "FULL_CONTROL"}}},
			Ownership:   &checks.Ownership{ObjectOwnership: "BucketOwnerEnforced"},
			Logging:     &checks.Logging{Enabled: true, TargetBucket: "vault-access-logs", TargetPrefix: name + "/"},
			Replication: &checks.Replication{Rules: []checks.ReplicationRule{}},
		}
	}
	primary := bucket("vault-primary", "us-east-1", map[string]string{"coffer:role": "primary"})
	primary.Encryption.Rules[0] = checks.EncryptionRule{Algorithm: "aws:kms", KMSKeyID: primaryKey, BucketKeyEnabled: true}
	primary.ObjectLock.DefaultRetention.Days = 7                                        // object lock below 30 days
	primary.Lifecycle.Rules = []checks.LifecycleRule{archive("archive", "Enabled", 30)} // archive after 30, not 14
	primary.Replication = &checks.Replication{Role: "arn:aws:iam::" + acct + ":role/BackupReplicationRole", Rules: []checks.ReplicationRule{{
		ID: "to-standby", Status: "Enabled", Priority: 1, DestinationBucket: "vault-standby", DestinationBucketARN: "arn:aws:s3:::vault-standby", StorageClass: "GLACIER",
	}}}
	standby := bucket("vault-standby", "eu-west-1", map[string]string{"coffer:role": "standby", "coffer:standby-for": "vault-primary"})
	standby.Encryption.Rules[0] = checks.EncryptionRule{Algorithm: "aws:kms", KMSKeyID: standbyKey, BucketKeyEnabled: true}
	standby.Logging.TargetBucket = "vault-access-logs-eu-west-1"
	scratch := bucket("vault-scratch", "us-east-1", map[string]string{})
	scratch.Versioning = &checks.Versioning{Status: "Suspended"}
	scratch.ObjectLock = &checks.ObjectLock{}
	scratch.Encryption = &checks.Encryption{Rules: []checks.EncryptionRule{}}
	scratch.Lifecycle = &checks.Lifecycle{Rules: []checks.LifecycleRule{}}
	logs := bucket("vault-access-logs", "us-east-1", map[string]string{})
	logs.ObjectLock, logs.Logging, logs.Lifecycle = &checks.ObjectLock{}, &checks.Logging{}, &checks.Lifecycle{Rules: []checks.LifecycleRule{}}
	logs.PublicAccessBlock = &checks.PublicAccessBlock{BlockPublicPolicy: true, RestrictPublicBuckets: true}
	logs.Ownership = &checks.Ownership{ObjectOwnership: "ObjectWriter"}
	logs.ACL.Grants = append(logs.ACL.Grants, checks.Grant{Type: "Group", URI: "http://acs.amazonaws.com/groups/global/AllUsers", Permission: "READ"})
	logsEU := bucket("vault-access-logs-eu-west-1", "eu-west-1", map[string]string{})
	logsEU.ObjectLock, logsEU.Logging, logsEU.Lifecycle = &checks.ObjectLock{}, &checks.Logging{}, &checks.Lifecycle{Rules: []checks.LifecycleRule{}}
	logsEU.Policy = &checks.Policy{} // TLS statement removed
	trailLogs := bucket("vault-trail-logs", "us-east-1", map[string]string{})
	trailLogs.ObjectLock, trailLogs.Logging, trailLogs.Lifecycle = &checks.ObjectLock{}, &checks.Logging{}, &checks.Lifecycle{Rules: []checks.LifecycleRule{}}
	trailLogs.PublicAccessBlock = &checks.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true}
	trailLogs.Policy = policy(doc(tls("vault-trail-logs"),
		`{"Sid":"PublicReadForAuditors","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::vault-trail-logs/*"}`))

	keyPolicy := policy(doc(`{"Sid":"EnableIAMUserPermissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}`))
	deletion := now.Add(20 * 24 * time.Hour)
	key := func(arn, region, alias string, rotation *bool) checks.Key {
		id := arn[strings.LastIndex(arn, "/")+1:]
		return checks.Key{ID: id, ARN: arn, Region: region, State: "Enabled", Manager: "CUSTOMER", Spec: "SYMMETRIC_DEFAULT", Usage: "ENCRYPT_DECRYPT",
			Origin: "AWS_KMS", RotationEnabled: rotation, Policy: keyPolicy, Aliases: []string{alias}}
	}
	kPrimary := key(primaryKey, "us-east-1", "alias/vault-primary", &off)
	kStandby := key(standbyKey, "eu-west-1", "alias/vault-standby", nil)
	kStandby.State, kStandby.DeletionDate = "PendingDeletion", &deletion
	kTrail := key(trailKey, "us-east-1", "alias/vault-trail", &on)
	kTrail.Policy = policy(doc(`{"Sid":"EnableIAMUserPermissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:root"},"Action":"kms:*","Resource":"*"}`,
		`{"Sid":"AllowLogReaders","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Decrypt","kms:DescribeKey"],"Resource":"*"}`))

	managementAndData := []checks.AdvancedEventSelector{
		{Name: "management", FieldSelectors: []checks.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}},
		{Name: "backup data", FieldSelectors: []checks.FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
			{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::vault-primary/", "arn:aws:s3:::vault-standby/"}}}},
	}
	trails := []checks.Trail{
		{Name: "vault-trail", ARN: "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/vault-trail", HomeRegion: "us-east-1", MultiRegion: true, IsLogging: &on,
			LogFileValidation: true, KMSKeyID: trailKey, S3BucketName: "vault-trail-logs", IncludeGlobalServiceEvents: true,
			EventSelectors: []checks.EventSelector{}, AdvancedEventSelectors: managementAndData, SelectorsRead: true},
		{Name: "legacy-trail", ARN: "arn:aws:cloudtrail:eu-west-1:" + acct + ":trail/legacy-trail", HomeRegion: "eu-west-1", IsLogging: &on,
			S3BucketName: "vault-trail-logs", S3KeyPrefix: "legacy", AdvancedEventSelectors: []checks.AdvancedEventSelector{},
			EventSelectors: []checks.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, DataResources: []checks.DataResource{}}}, SelectorsRead: true},
	}

	iamARN := func(kind, name string) string { return "arn:aws:iam::" + acct + ":" + kind + "/" + name }
	s3Full := checks.AttachedPolicy{Name: "AmazonS3FullAccess", ARN: "arn:aws:iam::aws:policy/AmazonS3FullAccess"}
	keyDate := now.Add(-200 * 24 * time.Hour)
	users := []checks.User{
		{Name: "huy.nguyen", ARN: iamARN("user", "huy.nguyen"), ID: "AIDAHUY", CreateDate: &created, PasswordEnabled: true, PasswordLastUsed: &now,
			MFADevices: []string{iamARN("mfa", "huy.nguyen")}, AccessKeys: []checks.AccessKey{}, Groups: []string{"backup-operators"},
			AttachedPolicies: []checks.AttachedPolicy{}, InlinePolicies: []checks.InlinePolicy{}, Tags: map[string]string{}},
		{Name: "ci-uploader", ARN: iamARN("user", "ci-uploader"), ID: "AIDACI", CreateDate: &created, MFADevices: []string{},
			AccessKeys: []checks.AccessKey{{ID: "AKIACIUPLOADER", Status: "Active", CreateDate: &keyDate, LastUsedDate: &now}}, Groups: []string{},
			AttachedPolicies: []checks.AttachedPolicy{}, Tags: map[string]string{},
			InlinePolicies: []checks.InlinePolicy{{Name: "ci-upload", Document: *policy(doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::vault-primary/ci/*"}`))}}},
		{Name: "contractor-jdoe", ARN: iamARN("user", "contractor-jdoe"), ID: "AIDAJDOE", CreateDate: &created, PasswordEnabled: true, PasswordLastUsed: &now,
			MFADevices: []string{}, AccessKeys: []checks.AccessKey{}, Groups: []string{}, AttachedPolicies: []checks.AttachedPolicy{s3Full},
			InlinePolicies: []checks.InlinePolicy{}, Tags: map[string]string{}},
	}
	var report []checks.CredentialReportRow
	for _, u := range users {
		row := checks.CredentialReportRow{User: u.Name, ARN: u.ARN, PasswordEnabled: u.PasswordEnabled, PasswordLastUsed: u.PasswordLastUsed, MFAActive: len(u.MFADevices) > 0}
		if len(u.AccessKeys) > 0 {
			row.AccessKey1Active, row.AccessKey1LastRotated, row.AccessKey1LastUsedDate = true, u.AccessKeys[0].CreateDate, u.AccessKeys[0].LastUsedDate
		}
		report = append(report, row)
	}
	operatorDoc := doc(`{"Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::vault-primary","arn:aws:s3:::vault-standby"]}`,
		`{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::vault-primary/*"}`)
	return &checks.Snapshot{
		SchemaVersion: checks.SnapshotSchemaVersion,
		Collector:     checks.Collector{Name: "coffer", Version: "1.2.3-test"},
		CollectedAt:   now,
		Regions:       []string{"eu-west-1", "us-east-1"},
		Account: checks.Account{
			ID: acct, CallerARN: iamARN("user", "auditor"), Partition: "aws", HomeRegion: "us-east-1",
			PublicAccessBlock: bpa(false),
			Summary:           map[string]int32{"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0},
			PasswordPolicy:    &checks.PasswordPolicy{Exists: true, MinimumPasswordLength: 8, PasswordReusePrevention: 5},
		},
		S3: checks.S3{Buckets: []checks.Bucket{logs, logsEU, primary, scratch, standby, trailLogs}},
		IAM: checks.IAM{
			Users: users,
			Groups: []checks.Group{
				{Name: "backup-operators", ARN: iamARN("group", "backup-operators"), AttachedPolicies: []checks.AttachedPolicy{{Name: "BackupOperatorAccess", ARN: iamARN("policy", "BackupOperatorAccess")}}, InlinePolicies: []checks.InlinePolicy{}},
				{Name: "break-glass", ARN: iamARN("group", "break-glass"), AttachedPolicies: []checks.AttachedPolicy{{Name: "BreakGlassAdmin", ARN: iamARN("policy", "BreakGlassAdmin")}}, InlinePolicies: []checks.InlinePolicy{}},
			},
			Roles: []checks.Role{
				{Name: "BackupOperatorRole", ARN: iamARN("role", "BackupOperatorRole"), Path: "/", Tags: map[string]string{}, InlinePolicies: []checks.InlinePolicy{},
					TrustPolicy:      *policy(doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sts:AssumeRole"}`)),
					AttachedPolicies: []checks.AttachedPolicy{{Name: "BackupOperatorAccess", ARN: iamARN("policy", "BackupOperatorAccess")}}},
			},
			Policies: []checks.ManagedPolicy{
				{Name: "BackupOperatorAccess", ARN: iamARN("policy", "BackupOperatorAccess"), AttachmentCount: 2, DefaultVersion: "v1", Document: *policy(operatorDoc)},
				{Name: "BreakGlassAdmin", ARN: iamARN("policy", "BreakGlassAdmin"), AttachmentCount: 1, DefaultVersion: "v1", Document: *policy(doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`))},
				{Name: "AmazonS3FullAccess", ARN: s3Full.ARN, AWSManaged: true, AttachmentCount: 1, DefaultVersion: "v2", Document: *policy(doc(`{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}`))},
			},
			VirtualMFADevices: []checks.VirtualMFADevice{{SerialNumber: iamARN("mfa", "huy.nguyen"), User: iamARN("user", "huy.nguyen")}},
			CredentialReport:  report,
		},
		KMS:        checks.KMS{Keys: []checks.Key{kPrimary, kStandby, kTrail}},
		CloudTrail: checks.CloudTrail{Trails: trails},
		Errors:     []checks.CollectError{},
	}
}

// TestHTMLGoldenMatrixIsTheCatalogs: the posture matrices of the HTML golden are laid out from
// matrixOf, which must be where the built-in checks place themselves (custom.matrix), so that the
// golden shows what a scan shows.
func TestHTMLGoldenMatrixIsTheCatalogs(t *testing.T) {
	engine, err := checks.NewEngine(context.Background(), checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	catalog := map[string]*checks.MatrixColumn{}
	for _, r := range engine.Rules() {
		if r.Matrix != nil {
			catalog[r.ID] = r.Matrix
		}
	}
	if diff := cmp.Diff(catalog, matrixOf); diff != "" {
		t.Errorf("matrix placement (-policies/ +fixture_test.go matrixOf):\n%s", diff)
	}
}

// userMatrixChecks are --policy-dir checks that place themselves in the bucket matrix: one in a
// column of its own, one in a built-in column without an order.
var userMatrixChecks = map[string]string{
	"tagged.rego": `# METADATA
# title: Buckets carry a coffer:role tag
# custom:
#   id: acme-bucket-role-tag
#   severity: LOW
#   service: s3
#   matrix:
#     table: buckets
#     column: Role tag
#     order: 95
#   remediation:
#     summary: Tag the bucket with its role.
#     fix: manual
package acme.role_tag

import rego.v1

resources contains b.arn if some b in input.s3.buckets

deny contains {"resource": b.arn, "msg": sprintf("Bucket %s has no coffer:role tag.", [b.name])} if {
	some b in input.s3.buckets
	not b.tags["coffer:role"]
}
`,
	"website.rego": `# METADATA
# title: Buckets host no website
# custom:
#   id: acme-bucket-no-website
#   severity: MEDIUM
#   service: s3
#   matrix:
#     table: buckets
#     column: Public access
#   remediation:
#     summary: Remove the website configuration.
#     fix: manual
package acme.no_website

import rego.v1

resources contains b.arn if some b in input.s3.buckets

deny := set()
`,
}

func TestMatrixColumns(t *testing.T) {
	rule := func(id, table, column string, order int) checks.Rule {
		return checks.Rule{ID: id, Matrix: &checks.MatrixColumn{Table: table, Column: column, Order: order}}
	}
	tests := []struct {
		name  string
		rules []checks.Rule
		want  []matrixSpec
	}{
		{"a column comes at its smallest order, its checks in theirs", []checks.Rule{
			rule("c", checks.MatrixBuckets, "Late", 30), rule("b", checks.MatrixBuckets, "Mixed", 40),
			rule("a", checks.MatrixBuckets, "Mixed", 10), rule("d", checks.MatrixBuckets, "Mixed", 0),
		}, []matrixSpec{{"Mixed", []string{"a", "b", "d"}}, {"Late", []string{"c"}}}},
		{"no order: after the numbered ones, by header, then id", []checks.Rule{
			rule("z", checks.MatrixBuckets, "B", 0), rule("y", checks.MatrixBuckets, "A", 0),
			rule("x", checks.MatrixBuckets, "A", 0), rule("w", checks.MatrixBuckets, "C", 5),
		}, []matrixSpec{{"C", []string{"w"}}, {"A", []string{"x", "y"}}, {"B", []string{"z"}}}},
		{"equal orders: by header", []checks.Rule{
			rule("p", checks.MatrixBuckets, "Two", 1), rule("q", checks.MatrixBuckets, "One", 1),
		}, []matrixSpec{{"One", []string{"q"}}, {"Two", []string{"p"}}}},
		{"other tables and rules without a column are left out", []checks.Rule{
			rule("u", checks.MatrixPrincipals, "MFA", 1), {ID: "v"},
		}, nil},
	}
	for _, tc := range tests {
		got := matrixColumns(tc.rules, checks.MatrixBuckets)
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(matrixSpec{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestShortCheckID(t *testing.T) {
	tests := []struct{ id, service, noun, want string }{
		{"s3-bucket-kms-cmk", "s3", "bucket", "kms-cmk"},
		{"s3-standby-exists", "s3", "bucket", "standby-exists"},
		{"cloudtrail-s3-data-events", "cloudtrail", "bucket", "s3-data-events"},
		{"iam-user-mfa", "iam", "", "user-mfa"},
		{"acme-bucket-tagged", "s3", "bucket", "acme-bucket-tagged"}, // not the service's prefix: kept whole
		{"s3-bucket", "s3", "bucket", "bucket"},                      // never empty
	}
	for _, tc := range tests {
		if got := shortCheckID(tc.id, tc.service, tc.noun); got != tc.want {
			t.Errorf("shortCheckID(%q, %q, %q) = %q, want %q", tc.id, tc.service, tc.noun, got, tc.want)
		}
	}
}
