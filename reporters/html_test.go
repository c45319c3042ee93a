package reporters

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/atomicfile"
	"github.com/coffer-audit/coffer/policies"
)

const htmlGolden = "report.html.golden"

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
	reCSP    = regexp.MustCompile(`http-equiv="Content-Security-Policy" content="([^"]*)"`)
)

// TestHTMLSelfContained: one file that loads nothing — no src, no external href, no CSS url() or
// @import — and whose CSP hashes match the inline style and script exactly (else the browser
// would refuse to run them).
func TestHTMLSelfContained(t *testing.T) {
	out := string(render(t, FormatHTML, Options{}, goldenReport()))
	for _, bad := range []string{" src=", "<link", "url(", "@import", "<iframe", "<img", "http://", "https://"} {
		if strings.Contains(out, bad) {
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
	style, script, csp := reStyle.FindStringSubmatch(out), reScript.FindStringSubmatch(out), reCSP.FindStringSubmatch(out)
	if style == nil || script == nil || csp == nil {
		t.Fatal("page lacks its inline style, script or CSP")
	}
	if n := strings.Count(out, "<script"); n != 1 {
		t.Errorf("%d script elements, want 1", n)
	}
	policy := html.UnescapeString(csp[1])
	for _, want := range []string{"default-src 'none'", "style-src '" + cspHash(style[1]) + "'", "script-src '" + cspHash(script[1]) + "'"} {
		if !strings.Contains(policy, want) {
			t.Errorf("CSP %q lacks %q", policy, want)
		}
	}
}

// TestHTMLEscaping puts markup in every text that comes from the account or the config.
func TestHTMLEscaping(t *testing.T) {
	r := goldenReport()
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Message = evil
		f.Resource.Name = evil
		f.Remediation.Commands = append(f.Remediation.Commands, "echo "+evil)
		f.Evidence = &checks.Evidence{Path: evil, Value: map[string]any{"k": evil}}
	}
	r.Notices = append(r.Notices, evil)
	r.Regions = []string{evil}
	out := string(render(t, FormatHTML, Options{}, r))
	for _, bad := range []string{"<script>alert", "<img"} {
		if strings.Contains(out, bad) {
			t.Errorf("unescaped markup %q reached the page", bad)
		}
	}
	if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("escaped message not found")
	}
}

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
		// Bucket matrix: primary first, with its public-access cell failing.
		`<th scope="row"><span class="name">team-backups-primary</span> <span class="muted">eu-west-1</span></th><td>primary</td>`,
		// Coverage by framework, natural order of CIS ids.
		`<caption>CIS AWS Foundations Benchmark v3.0.0 <code>cis-aws-3.0.0</code></caption>`,
		`<tr><th scope="row">1.5</th><td><span class="badge st-fail">FAIL</span></td><td class="num">1</td>`,
		// The password policy rule has no finding: its controls say so.
		`<tr><th scope="row">1.8</th><td><span class="badge st-na">no resources</span></td>`,
		`Waived: Legacy uploader &lt;v2&gt; needs ACLs &amp; &#39;cutover&#39; is planned | Q3 (expires 2026-09-30)`,
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
	// ShowPass checks the PASS filter from the start.
	if !strings.Contains(string(render(t, FormatHTML, Options{ShowPass: true}, r)), `value="PASS" checked`) {
		t.Error("ShowPass does not pre-select PASS")
	}
	// Worst first: the CRITICAL failures open the list, the passes close it.
	if i1, i2 := strings.LastIndex(out, `data-status="FAIL" data-service`), strings.Index(out, `data-status="PASS" data-service`); i1 < 0 || i2 < 0 || i1 > i2 {
		t.Errorf("FAIL findings (at %d) should come before PASS (at %d)", i1, i2)
	}
	if i := strings.Index(out, `<li class="finding"`); i < 0 || !strings.Contains(out[i:i+200], `data-severity="CRITICAL" data-status="FAIL"`) {
		t.Error("the findings list does not open with a CRITICAL FAIL")
	}
	// The not-applicable MFA Delete pass shows as n/a, not PASS.
	if !strings.Contains(out, `<span class="badge st-na">n/a</span> <span class="badge sev-low">LOW</span> Backup buckets require MFA to delete versions`) {
		t.Error("not-applicable finding not labelled n/a")
	}
}

func TestHTMLMatrixCells(t *testing.T) {
	fs := []checks.Finding{
		{CheckID: "s3-bucket-public-access-block", Status: checks.StatusPass},
		{CheckID: "s3-bucket-not-public", Status: checks.StatusFail},
		{CheckID: "s3-bucket-mfa-delete", Status: checks.StatusPass, Message: "MFA Delete is not applicable here.", NotApplicable: true},
		{CheckID: "s3-bucket-kms-cmk", Status: checks.StatusWaived},
		{CheckID: "s3-bucket-default-encryption", Status: checks.StatusError},
	}
	anchors := []string{"a0", "a1", "a2", "a3", "a4"}
	tests := []struct {
		name      string
		idx       []int
		wantLabel string
		wantMixed bool
	}{
		{"no finding", nil, "n/a", false},
		{"worst of two", []int{0, 1}, "FAIL", true},
		{"error beats waived", []int{3, 4}, "ERROR", true},
		{"not applicable", []int{2}, "n/a", false},
		{"single pass", []int{0}, "PASS", false},
	}
	for _, tc := range tests {
		c := matrixCell(fs, anchors, tc.idx)
		if c.Label != tc.wantLabel || c.Mixed != tc.wantMixed || len(c.Links) != len(tc.idx) {
			t.Errorf("%s: cell %+v, want label %s mixed %v and %d links", tc.name, c, tc.wantLabel, tc.wantMixed, len(tc.idx))
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

// chromiumPath is Debian's chromium; COFFER_CHROMIUM overrides it (another distribution).
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := cmpOr(os.Getenv("COFFER_CHROMIUM"), "/usr/bin/chromium")
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("chromium not found at %s (%v): run make tools (scripts/install-chromium.sh installs Debian's chromium)", path, err)
	}
	return path
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestHTMLInBrowser opens the report of a realistic account in headless chromium from file:// and
// checks what a reviewer relies on: the script runs without a console error (a CSP violation or a
// blocked load would be one), the counts shown are the report's, a filter click hides what it
// should, a matrix link to a hidden finding reveals it, print hides the controls. It saves a
// screenshot in the test's temp dir (COFFER_SCREENSHOT_DIR keeps a copy).
func TestHTMLInBrowser(t *testing.T) {
	bin := chromiumPath(t)
	start := time.Now()
	report := reviewReport(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := atomicfile.Write(page, func(w io.Writer) error { return (&HTML{}).Write(w, report) }); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(page); err == nil {
		t.Logf("report: %d findings, %d bytes of HTML", len(report.Findings), fi.Size())
	}

	// The machine's network is closed: without the background-networking flags chromium waits on
	// refused connections. A fresh profile keeps runs independent.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1400, 1000),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// The first Run starts the browser and must not carry a timeout (it would stop the browser
	// with it); the steps after it do, so a hung browser fails the test instead of hanging it.
	// Minutes: the steps take seconds, over ten on a loaded 2-core machine.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", bin, err)
	}
	stepCtx, cancelSteps := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelSteps()

	var (
		mu       sync.Mutex
		messages []chromedp.ConsoleMessage
		sawEnd   = make(chan struct{})
		sawCSP   = make(chan struct{}) // closed on the first CSP violation after the probe marker
	)
	const (
		probeMarker = "coffer-test: probe"
		endMarker   = "coffer-test: end of console"
	)
	consoleCtx, stopConsole := context.WithCancel(ctx)
	defer stopConsole()
	console := chromedp.Console(consoleCtx)
	go func() {
		probed, csp := false, false
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Text == endMarker {
				close(sawEnd)
				return
			}
			if m.Text == probeMarker {
				probed = true
			} else if probed && !csp && strings.Contains(m.Text, "Content Security Policy") {
				csp = true
				close(sawCSP)
			}
			mu.Lock()
			messages = append(messages, m)
			mu.Unlock()
		}
	}()

	run := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(stepCtx, a); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(what, js string) int {
		t.Helper()
		n, err := chromedp.Run(stepCtx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return n
	}
	visible := func(selector string) int {
		t.Helper()
		return eval("count visible "+selector, fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).filter(e => !e.closest('[hidden]')).length`, selector))
	}

	run("open the report", chromedp.Steps(
		chromedp.Navigate("file://"+page),
		chromedp.WaitVisible("#filters"), // the script un-hides the filters once it ran
	))

	// Counts shown = the report's summary.
	s := report.Summary
	shown := map[string]int{
		"#count-total":                 len(report.Findings),
		"#count-status-FAIL":           s.Fail,
		"#count-status-ERROR":          s.Error,
		"#count-status-WAIVED":         s.Waived,
		"#count-status-PASS":           s.Pass,
		"#count-severity-CRITICAL":     s.BySeverity["CRITICAL"],
		"#count-severity-HIGH":         s.BySeverity["HIGH"],
		"#count-severity-MEDIUM":       s.BySeverity["MEDIUM"],
		"#count-severity-LOW":          s.BySeverity["LOW"],
		`li.finding`:                   len(report.Findings),
		`li.finding[data-status=FAIL]`: s.Fail,
	}
	for sel, want := range shown {
		var got int
		if strings.HasPrefix(sel, "#") {
			text, err := chromedp.Run(stepCtx, chromedp.Text(sel))
			if err != nil {
				t.Fatalf("read %s: %v", sel, err)
			}
			if got, err = strconv.Atoi(strings.TrimSpace(text)); err != nil {
				t.Fatalf("%s shows %q, not a number", sel, text)
			}
		} else {
			got = eval("count "+sel, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
		}
		if got != want {
			t.Errorf("%s shows %d, the report says %d", sel, got, want)
		}
	}
	if s.Fail == 0 || s.Pass == 0 {
		t.Fatalf("the review account should have failures and passes: %+v", s)
	}

	// By default PASS is filtered out: what is visible is everything else.
	notPass := s.Fail + s.Error + s.Waived
	if got := visible("li.finding"); got != notPass {
		t.Errorf("initially %d findings visible, want %d (all but PASS)", got, notPass)
	}
	// A real click on the FAIL checkbox hides every FAIL and nothing else.
	run("click the FAIL filter", chromedp.Click(`#filters input[name=status][value=FAIL]`))
	if got := visible("li.finding[data-status=FAIL]"); got != 0 {
		t.Errorf("%d FAIL findings still visible after unticking FAIL", got)
	}
	if got, want := visible("li.finding"), s.Error+s.Waived; got != want {
		t.Errorf("%d findings visible after unticking FAIL, want %d", got, want)
	}
	if got := eval("shown count", `Number(document.getElementById('shown').dataset.shown)`); got != s.Error+s.Waived {
		t.Errorf("the 'Showing N' line says %d", got)
	}
	// Service filter: only IAM findings (FAIL back on).
	run("tick FAIL again", chromedp.Click(`#filters input[name=status][value=FAIL]`))
	run("choose iam", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('filter-service'); s.value = 'iam'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`))
	wantIAM := 0
	for _, f := range report.Findings {
		if strings.HasPrefix(f.CheckID, "iam-") && f.Status != checks.StatusPass {
			wantIAM++
		}
	}
	if got := visible("li.finding"); got != wantIAM || visible(`li.finding:not([data-service=iam])`) != 0 {
		t.Errorf("service filter iam: %d visible, want %d and none of another service", got, wantIAM)
	}
	// A matrix link to a PASS finding (hidden by the filters) reveals it.
	target := eval("find a PASS cell", `(() => { const a = document.querySelector('#buckets td.cell[data-status=PASS] a.badge'); if (!a) return -1; window.__target = a.getAttribute('href').slice(1); return 1; })()`)
	if target != 1 {
		t.Fatal("no PASS cell link in the bucket matrix")
	}
	run("click a PASS cell", chromedp.Click(`#buckets td.cell[data-status=PASS] a.badge`))
	if got := eval("target visible", `document.getElementById(window.__target).closest('[hidden]') ? 0 : 1`); got != 1 {
		t.Error("following a matrix link left its finding hidden")
	}
	// The copy button works or falls back to a selection, without an error either way.
	run("copy commands", chromedp.Click(`li.finding:not([hidden]) button.copy`))
	// The clipboard answers asynchronously; the feedback follows its promise.
	// No polling timeout of its own: stepCtx bounds it.
	if _, err := chromedp.Run(stepCtx, chromedp.Poll[bool](
		`['Copied', 'Selected'].includes(document.querySelector('li.finding:not([hidden]) button.copy').textContent)`,
		chromedp.WithPollingTimeout(0))); err != nil {
		t.Errorf("the copy button gave no feedback: %v", err)
	}

	screenshot, err := chromedp.Run(stepCtx, chromedp.FullScreenshot(80))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	shot := filepath.Join(dir, "report.jpg")
	if err := os.WriteFile(shot, screenshot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(screenshot))
	if keep := os.Getenv("COFFER_SCREENSHOT_DIR"); keep != "" {
		if err := os.WriteFile(filepath.Join(keep, "report.jpg"), screenshot, 0o644); err != nil {
			t.Error(err)
		}
	}

	// Print: controls are gone, the findings and matrices stay.
	run("print media", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	}))
	if got := eval("filters in print", `getComputedStyle(document.getElementById('filters')).display === 'none' ? 1 : 0`); got != 1 {
		t.Error("the filters are printed")
	}
	if got := eval("matrix in print", `getComputedStyle(document.querySelector('#buckets table')).display === 'none' ? 0 : 1`); got != 1 {
		t.Error("the bucket matrix is not printed")
	}

	// Probe the probe: a load the CSP forbids must show up as a console error, so that seeing
	// none above means something (and proves the page cannot reach the network).
	run("probe the console", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`console.info(%q); const img = new Image(); img.src = 'https://example.invalid/beacon.png'; document.body.append(img);`, probeMarker)))
	// The CSP report is asynchronous to the script: wait for it rather than for a fixed time,
	// which a loaded machine can overrun. The checks below still say whether it was an error.
	select {
	case <-sawCSP:
	case <-stepCtx.Done():
		mu.Lock()
		seen := append([]chromedp.ConsoleMessage(nil), messages...)
		mu.Unlock()
		t.Fatalf("no CSP violation was reported for an image load from the network; console: %v", seen)
	}
	run("mark the end of the console", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`console.info(%q)`, endMarker)))
	select {
	case <-sawEnd:
	case <-stepCtx.Done():
		t.Fatal("console messages did not arrive")
	}
	mu.Lock()
	defer mu.Unlock()
	probed, blocked := false, false
	for _, m := range messages {
		if m.Text == probeMarker {
			probed = true
			continue
		}
		bad := m.Type == chromedp.ConsoleError || m.IsException() || m.Type == chromedp.ConsoleWarning
		switch {
		case probed && bad && strings.Contains(m.Text, "Content Security Policy"):
			blocked = true
		case bad:
			t.Errorf("console %s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line)
		}
	}
	if !blocked {
		t.Errorf("an image load from the network was not reported as a CSP violation; console: %v", messages)
	}
	// Logged, not asserted: how long a browser takes says how busy the machine is, not whether
	// the report works. A hang is stepCtx's to catch.
	t.Logf("browser test took %s", time.Since(start).Round(time.Millisecond))
}

// reviewReport evaluates reviewSnapshot with the built-in checks: a realistic report, made in the
// test so it never depends on fixtures being regenerated.
func reviewReport(t *testing.T) *checks.Report {
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
	out := string(render(t, FormatHTML, Options{}, report))
	for _, want := range []string{
		// Order 95: after the built-in Data events (90), before Other checks.
		`title="cloudtrail-s3-data-events">Data events</th><th scope="col" title="acme-bucket-role-tag">Role tag</th><th scope="col" title="`,
		// No order: after the column's numbered checks.
		`title="s3-bucket-public-access-block, s3-bucket-not-public, acme-bucket-no-website">Public access</th>`,
		`<strong>Role tag</strong> = acme-bucket-role-tag;`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The cells: the tagged primary passes, the untagged scratch bucket fails; each links to its finding.
	for bucket, status := range map[string]string{"vault-primary": "PASS", "vault-scratch": "FAIL"} {
		row := matrixRow(t, out, bucket)
		cell := regexp.MustCompile(`<a class="badge st-` + strings.ToLower(status) + `" href="#f-acme-bucket-role-tag-[0-9a-f]{8}" title="acme-bucket-role-tag">` + status + `</a>`)
		if !cell.MatchString(row) {
			t.Errorf("row of %s has no %s cell for acme-bucket-role-tag:\n%s", bucket, status, row)
		}
		if cells := strings.Count(row, `<td class="cell `); cells != strings.Count(matrixHeader(t, out), `<th scope="col" title=`) {
			t.Errorf("row of %s has %d cells for its columns:\n%s", bucket, cells, row)
		}
	}
	if other := regexp.MustCompile(`<strong>Other checks</strong> = [^.<]*`).FindString(out); strings.Contains(other, "acme-") {
		t.Errorf("a user check with a matrix column is under Other checks: %s", other)
	}
}

// matrixRow returns the bucket matrix row of the named bucket.
func matrixRow(t *testing.T, page, bucket string) string {
	t.Helper()
	start := strings.Index(page, `<tr><th scope="row"><span class="name">`+bucket+`</span>`)
	if start < 0 {
		t.Fatalf("no matrix row for %s", bucket)
	}
	end := strings.Index(page[start:], "</tr>")
	return page[start : start+end]
}

// matrixHeader returns the bucket matrix's header row.
func matrixHeader(t *testing.T, page string) string {
	t.Helper()
	start := strings.Index(page, `<thead><tr><th scope="col">Bucket</th>`)
	if start < 0 {
		t.Fatal("no bucket matrix")
	}
	end := strings.Index(page[start:], "</thead>")
	return page[start : start+end]
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
