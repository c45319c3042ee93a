package reporters

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/atomicfile"
)

// chromiumPath is Debian's chromium; COFFER_CHROMIUM overrides it (another distribution).
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	path := cmpOr(os.Getenv("COFFER_CHROMIUM"), "/usr/bin/chromium")
	if _, err := exec.LookPath(path); err != nil {
		tb.Fatalf("chromium not found at %s (%v): run make tools (scripts/install-chromium.sh installs Debian's chromium)", path, err)
	}
	return path
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// writePage writes the HTML report of r to dir/name, as `coffer scan --format html=FILE` does.
func writePage(tb testing.TB, dir, name string, r *checks.Report, opts Options) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := atomicfile.Write(path, func(w io.Writer) error { return (&HTML{Options: opts}).Write(w, r) }); err != nil {
		tb.Fatal(err)
	}
	return path
}

// startChromium starts headless chromium with a fresh profile in dir and returns a context for
// its tab. The machine's network is closed: without the background-networking flags chromium
// waits on refused connections.
func startChromium(tb testing.TB, dir string) context.Context {
	tb.Helper()
	bin := chromiumPath(tb)
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
	tb.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	tb.Cleanup(cancel)
	// The first Run starts the browser and must not carry a timeout (it would stop the browser
	// with it); the steps after it do, so a hung browser fails the test instead of hanging it.
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start chromium %s: %v", bin, err)
	}
	return ctx
}

// readyJS is true once the page's script has drawn the page (its last step sets data-ready).
const readyJS = `document.documentElement.dataset.ready === '1'`

// openPage navigates to a page and waits until its script has finished. It asks the page every
// 10 ms rather than with chromedp.Poll, whose evaluation can land in the execution context of the
// page navigated away from ("Cannot find context with specified id").
func openPage(ctx context.Context, path string) error {
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path)); err != nil {
		return err
	}
	for {
		ready, err := chromedp.Run(ctx, chromedp.Evaluate[bool](readyJS))
		if err == nil && ready {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("wait for the page's script: %w (last: %v)", ctx.Err(), err)
		}
		if err != nil && !strings.Contains(err.Error(), "Cannot find context") {
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestHTMLInBrowser opens reports in headless chromium from file:// and checks what a reviewer
// relies on: the script runs without a console error (a CSP violation or a blocked load would be
// one), the counts shown are the report's, the filters of the findings and of the matrices show
// what they should, a matrix cell shows its findings, copy buttons copy the exact commands, text
// from a hostile account stays text, an organisation report shows one account when asked, print
// hides the controls. It saves a screenshot in the test's temp dir (COFFER_SCREENSHOT_DIR keeps a
// copy).
func TestHTMLInBrowser(t *testing.T) {
	start := time.Now()
	report := reviewReport(t)
	dir := t.TempDir()
	page := writePage(t, dir, "report.html", report, Options{})
	doc := pageData(t, mustRead(t, page))
	ctx := startChromium(t, dir)
	// Minutes: the steps take seconds, over ten on a loaded 2-core machine.
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
	do := func(what, js string) {
		t.Helper()
		run(what, chromedp.Evaluate[chromedp.Void](js))
	}
	eval := func(what, js string) int {
		t.Helper()
		n, err := chromedp.Run(stepCtx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return n
	}
	evalString := func(what, js string) string {
		t.Helper()
		s, err := chromedp.Run(stepCtx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return s
	}
	count := func(selector string) int {
		t.Helper()
		return eval("count "+selector, fmt.Sprintf(`document.querySelectorAll(%q).length`, selector))
	}
	text := func(selector string) int {
		t.Helper()
		s := evalString("read "+selector, fmt.Sprintf(`document.querySelector(%q).textContent`, selector))
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			t.Fatalf("%s shows %q, not a number", selector, s)
		}
		return n
	}
	shownFindings := func() int {
		t.Helper()
		return eval("shown count", `Number(document.getElementById('shown').dataset.shown)`)
	}
	open := func(what, path string) {
		t.Helper()
		if err := openPage(stepCtx, path); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	open("open the report", page)

	// Counts shown = the report's summary.
	s := report.Summary
	for sel, want := range map[string]int{
		"#count-total":             len(report.Findings),
		"#count-status-FAIL":       s.Fail,
		"#count-status-ERROR":      s.Error,
		"#count-status-WAIVED":     s.Waived,
		"#count-status-PASS":       s.Pass,
		"#count-severity-CRITICAL": s.BySeverity["CRITICAL"],
		"#count-severity-HIGH":     s.BySeverity["HIGH"],
		"#count-severity-MEDIUM":   s.BySeverity["MEDIUM"],
		"#count-severity-LOW":      s.BySeverity["LOW"],
	} {
		if got := text(sel); got != want {
			t.Errorf("%s shows %d, the report says %d", sel, got, want)
		}
	}
	if s.Fail == 0 || s.Pass == 0 {
		t.Fatalf("the review account should have failures and passes: %+v", s)
	}

	// By default PASS is filtered out: what is listed is everything else, grouped by check and
	// failure (here every group has one resource; the organisation below has larger ones). Every
	// group is drawn: there are fewer than a page of them.
	notPass := s.Fail + s.Error + s.Waived
	if got := shownFindings(); got != notPass {
		t.Errorf("initially %d findings shown, want %d (all but PASS)", got, notPass)
	}
	if got, want := count("details.group"), docGroups(t, doc, func(f docFinding) bool { return f.Status != "PASS" }); got != want {
		t.Errorf("%d groups drawn, want %d", got, want)
	}
	// A real click on the FAIL checkbox hides every FAIL and nothing else.
	run("click the FAIL filter", chromedp.Click(`#filters input[name=status][value=FAIL]`))
	if got := count(`details.group[data-status=FAIL]`); got != 0 {
		t.Errorf("%d FAIL groups still listed after unticking FAIL", got)
	}
	if got, want := shownFindings(), s.Error+s.Waived; got != want {
		t.Errorf("%d findings shown after unticking FAIL, want %d", got, want)
	}
	run("tick FAIL again", chromedp.Click(`#filters input[name=status][value=FAIL]`))
	// Severity: without CRITICAL, the CRITICAL findings are gone.
	critical := 0
	for _, f := range report.Findings {
		if f.Severity == checks.SeverityCritical && f.Status != checks.StatusPass {
			critical++
		}
	}
	run("untick CRITICAL", chromedp.Click(`#filters input[name=severity][value=CRITICAL]`))
	if got := shownFindings(); got != notPass-critical || critical == 0 || count(`details.group .sev-critical`) != 0 {
		t.Errorf("without CRITICAL: %d findings shown, want %d", got, notPass-critical)
	}
	run("tick CRITICAL again", chromedp.Click(`#filters input[name=severity][value=CRITICAL]`))
	// Service filter: only IAM findings.
	do("choose iam", `(() => { const s = document.getElementById('filter-service'); s.value = 'iam'; s.dispatchEvent(new Event('input', {bubbles: true})); })()`)
	wantIAM := 0
	for _, f := range report.Findings {
		if strings.HasPrefix(f.CheckID, "iam-") && f.Status != checks.StatusPass {
			wantIAM++
		}
	}
	if got := shownFindings(); got != wantIAM || eval("non-iam groups", `[...document.querySelectorAll('details.group > summary > code')].filter(c => !c.textContent.startsWith('iam-')).length`) != 0 {
		t.Errorf("service filter iam: %d shown, want %d and no group of another service", got, wantIAM)
	}
	do("all services", `(() => { const s = document.getElementById('filter-service'); s.value = ''; s.dispatchEvent(new Event('input', {bubbles: true})); })()`)

	// A matrix cell shows its findings under the matrix: a PASS cell, whose finding the findings
	// list hides by default.
	run("click a PASS cell", chromedp.Click(`#buckets td.cell[data-status=PASS] button`))
	if got := count(`#buckets .detail .finding-detail`); got == 0 || count(`#buckets .detail .finding-detail .badge.st-pass`) == 0 {
		t.Errorf("a PASS cell shows %d findings, none passing", got)
	}
	// The matrix filters: a column failing, a check of a column failing, a role.
	filterRows := func(what, control, status, kind string) int {
		t.Helper()
		do(what, fmt.Sprintf(`(() => { const f = document.querySelector('#buckets form'); f.elements.control.value = %q; f.elements.status.value = %q; f.elements.kind.value = %q;
			if (f.elements.control.value !== %[1]q || f.elements.kind.value !== %[3]q) throw new Error('no such option');
			f.dispatchEvent(new Event('input', {bubbles: true})); })()`, control, status, kind))
		return count(`#buckets tbody tr`)
	}
	cols := doc.columns(t, 0)
	versioningCol := slices.IndexFunc(cols, func(c docCol) bool { return c.Label == "Versioning" })
	wantRows := map[string]int{}
	for _, f := range doc.findings(t) {
		if f.Res.Kind != "bucket" {
			continue
		}
		if f.Status == "FAIL" && (f.Check.ID == "s3-bucket-versioning" || f.Check.ID == "s3-bucket-not-public") {
			wantRows[f.Check.ID]++
		}
	}
	for ri := range doc.NB {
		if doc.res(t, ri).Role == "primary" {
			wantRows["primary"]++
		}
	}
	for _, tc := range []struct{ control, status, kind, want string }{
		{fmt.Sprintf("c%d", versioningCol), "F", "", "s3-bucket-versioning"},
		{"ks3-bucket-not-public", "F", "", "s3-bucket-not-public"},
		{"", "", "primary", "primary"},
	} {
		if got := filterRows("filter the buckets", tc.control, tc.status, tc.kind); got != wantRows[tc.want] || got == 0 || got == doc.NB {
			t.Errorf("bucket rows control %q status %q role %q: %d, want %d of %d", tc.control, tc.status, tc.kind, got, wantRows[tc.want], doc.NB)
		}
	}
	if got := filterRows("no bucket filter", "", "", ""); got != doc.NB {
		t.Errorf("%d bucket rows without a filter, want %d", got, doc.NB)
	}

	// Copy buttons. The real clipboard works or falls back to a selection, without an error
	// either way; then, with the clipboard recorded, each button copies exactly the commands of
	// its finding, or of every resource of its group one after the other.
	do("open the groups", `document.querySelectorAll('details.group').forEach(d => { d.open = true; })`)
	run("copy commands", chromedp.Click(`details.group button.copy`))
	// The clipboard answers asynchronously; the feedback follows its promise.
	// No polling timeout of its own: stepCtx bounds it.
	if _, err := chromedp.Run(stepCtx, chromedp.Poll[bool](
		`['Copied', 'Selected'].includes(document.querySelector('details.group button.copy').textContent)`,
		chromedp.WithPollingTimeout(0))); err != nil {
		t.Errorf("the copy button gave no feedback: %v", err)
	}
	do("record the clipboard", recordClipboard)
	do("open every resource", `document.querySelectorAll('details.finding').forEach(d => { d.open = true; })`)
	// checkCopies clicks every copy button and compares what it copied with the data's commands.
	checkCopies := func(doc *htmlDoc) (copied, groupButtons int) {
		t.Helper()
		findings := doc.findings(t)
		for k := range count(`button.copy`) {
			which := evalString("what the button copies", fmt.Sprintf(`(() => { const b = document.querySelectorAll('button.copy')[%d]; if (b.dataset.copy === 'finding') return 'f' + b.dataset.value;
				return 'g' + [...b.closest('details.group').querySelectorAll('details.finding')].map(d => d.dataset.finding).join(','); })()`, k))
			var want []string
			for _, idx := range strings.Split(which[1:], ",") {
				i, err := strconv.Atoi(idx)
				if err != nil {
					t.Fatalf("button %d copies %q", k, which)
				}
				want = append(want, findings[i].Commands)
			}
			do("click copy", fmt.Sprintf(`window.__copied = []; document.querySelectorAll('button.copy')[%d].click()`, k))
			got := evalString("read the clipboard", `window.__copied.join('\u0000')`)
			if got != strings.Join(want, "\n") || got == "" {
				t.Errorf("copy button %d (%s) copied %q, want %q", k, which, got, strings.Join(want, "\n"))
			}
			copied++
			if which[0] == 'g' {
				groupButtons++
				if len(want) < 2 {
					t.Errorf("the group button %d copies the commands of %d resource", k, len(want))
				}
			}
		}
		return copied, groupButtons
	}
	copied, _ := checkCopies(doc)
	if copied == 0 {
		t.Error("no copy button")
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

	// Print: controls are gone, the matrices stay.
	run("print media", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	}))
	if got := eval("filters in print", `getComputedStyle(document.getElementById('filters')).display === 'none' && getComputedStyle(document.querySelector('.pager')).display === 'none' ? 1 : 0`); got != 1 {
		t.Error("the filters are printed")
	}
	if got := eval("matrix in print", `getComputedStyle(document.querySelector('#buckets table')).display === 'none' ? 0 : 1`); got != 1 {
		t.Error("the bucket matrix is not printed")
	}
	run("screen media", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""})
		return err
	}))

	// Hostile text stays text: markup in names, messages, commands and evidence draws no element
	// and runs no script (an inline script would also be a CSP violation on the console), and
	// shows as itself.
	hostilePage := writePage(t, dir, "hostile.html", hostileReport(), Options{ShowPass: true})
	open("open the hostile report", hostilePage)
	// Opening a group draws its resources on the toggle event, a task later: open in two steps.
	do("open the groups", `document.querySelectorAll('details.group').forEach(d => { d.open = true; }); document.querySelector('#buckets td.cell button').click();`)
	do("open the resources", `document.querySelectorAll('details.finding').forEach(d => { d.open = true; })`)
	if got := count("img, iframe, script:not(#coffer-data)"); got != 1 {
		t.Errorf("the hostile report made %d img, iframe or script elements (want only the page's script)", got-1)
	}
	if got, want := eval("hostile text shown", fmt.Sprintf(`document.body.innerText.split(%q).length - 1`, hostile[:40])), len(hostileReport().Findings); got < want {
		t.Errorf("the hostile text shows %d times as text", got)
	}

	// Links into a report: #f-<check>-<FNV-1a of the ARN> opens the finding, widening the filters
	// to it (a PASS, hidden by default), when the page opens and when the hash changes.
	var passes []checks.Finding
	for _, f := range report.Findings {
		if f.Status == checks.StatusPass && f.Resource.Type == typeBucket {
			passes = append(passes, f)
		}
	}
	if len(passes) < 2 {
		t.Fatalf("%d bucket passes in the review account", len(passes))
	}
	linked := func(f checks.Finding) {
		t.Helper()
		id := findingAnchor(f)
		if got := eval("linked finding", fmt.Sprintf(`(() => { const e = document.getElementById(%q); return e && e.classList.contains('targeted') && e.open && e.checkVisibility() &&
			document.querySelector('#filters input[value=PASS]').checked ? 1 : 0; })()`, id)); got != 1 {
			t.Errorf("the link #%s did not open %s on %s", id, f.CheckID, f.Resource.Name)
		}
	}
	open("open a link to a finding", page+"#"+findingAnchor(passes[0]))
	linked(passes[0])
	do("follow another link", fmt.Sprintf(`location.hash = %q`, findingAnchor(passes[1])))
	if _, err := chromedp.Run(stepCtx, chromedp.Poll[bool](fmt.Sprintf(`!!document.getElementById(%q)`, findingAnchor(passes[1])), chromedp.WithPollingTimeout(0))); err != nil {
		t.Fatalf("wait for the second link: %v", err)
	}
	linked(passes[1])

	// An organisation: the accounts first; choosing one shows its counts, rows and findings.
	org := htmlOrgReport(t)
	orgPage := writePage(t, dir, "org.html", org, Options{})
	open("open the organisation report", orgPage)
	if got := count("#organisation tbody tr"); got != len(org.Accounts) {
		t.Errorf("%d account rows, want %d", got, len(org.Accounts))
	}
	// The two scanned accounts are one account under two ids: each check fails the same way on a
	// bucket of each, so the groups hold two resources, and their buttons copy both's commands.
	orgDoc := pageData(t, mustRead(t, orgPage))
	orgNotPass := org.Summary.Fail + org.Summary.Error + org.Summary.Waived
	orgGroups := docGroups(t, orgDoc, func(f docFinding) bool { return f.Status != "PASS" })
	if got := eval("groups", `Number(document.getElementById('shown').dataset.groups)`); got != orgGroups || orgGroups >= orgNotPass || orgGroups <= 50 {
		t.Errorf("%d groups, want %d: fewer than the %d findings, more than a page of 50", got, orgGroups, orgNotPass)
	}
	// A page of groups is drawn; the button under it draws the next.
	if got := count("details.group"); got != 50 {
		t.Errorf("%d groups drawn, want a page of 50", got)
	}
	run("draw more groups", chromedp.Click(`#groups > button.more`))
	if got := count("details.group"); got != orgGroups {
		t.Errorf("%d groups drawn after asking for more, want %d", got, orgGroups)
	}
	do("open the groups", `document.querySelectorAll('details.group').forEach(d => { d.open = true; })`)
	do("open the resources", `document.querySelectorAll('details.finding').forEach(d => { d.open = true; })`)
	do("record the clipboard", recordClipboard)
	if copied, groupButtons := checkCopies(orgDoc); copied == 0 || groupButtons == 0 {
		t.Errorf("%d copy buttons, %d for groups: want both kinds", copied, groupButtons)
	}
	const dev = "222222222222"
	var devTotal, devNotPass int
	for _, f := range org.Findings {
		if f.Resource.AccountID == dev {
			devTotal++
			if f.Status != checks.StatusPass {
				devNotPass++
			}
		}
	}
	run("show one account", chromedp.Click(`button.show-account[data-account="`+dev+`"]`))
	if got := text("#count-total"); got != devTotal {
		t.Errorf("account %s: the summary counts %d findings, want %d", dev, got, devTotal)
	}
	if got := shownFindings(); got != devNotPass {
		t.Errorf("account %s: %d findings listed, want %d", dev, got, devNotPass)
	}
	if rows, other := count("#buckets tbody tr"), eval("rows of other accounts", `[...document.querySelectorAll('#buckets tbody th .muted')].filter(m => !m.textContent.includes('`+dev+`')).length`); rows == 0 || other != 0 {
		t.Errorf("account %s: %d bucket rows, %d of another account", dev, rows, other)
	}
	if got := evalString("scope", `document.getElementById('scope-account').value`); got != dev {
		t.Errorf("the account chooser says %q", got)
	}

	// Probe the probe: a load the CSP forbids must show up as a console error, so that seeing
	// none above means something (and proves the page cannot reach the network).
	do("probe the console", fmt.Sprintf(
		`console.info(%q); const img = new Image(); img.src = 'https://example.invalid/beacon.png'; document.body.append(img);`, probeMarker))
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
	do("mark the end of the console", fmt.Sprintf(`console.info(%q)`, endMarker))
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
	// the report works. A hang is stepCtx's to catch. BenchmarkHTMLOpen measures.
	t.Logf("browser test took %s", time.Since(start).Round(time.Millisecond))
}

// findingAnchor is the link target of a finding, as reports have always named it: its check id
// and the FNV-1a hash of its ARN.
func findingAnchor(f checks.Finding) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(f.Resource.ARN))
	id := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return '-'
	}, f.CheckID)
	return fmt.Sprintf("f-%s-%08x", id, h.Sum32())
}

// recordClipboard replaces the clipboard with one that records what is written to it.
const recordClipboard = `window.__copied = []; Object.defineProperty(navigator, 'clipboard', {configurable: true, value: {writeText: s => { window.__copied.push(s); return Promise.resolve(); }}});`

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// docGroups counts the groups the page lists for the findings keep selects: a check, a status
// and a message but for the resource's name (the same template), and whether it is a
// not-applicable pass.
func docGroups(t testing.TB, doc *htmlDoc, keep func(docFinding) bool) int {
	t.Helper()
	seen := map[[4]int]bool{}
	for i, f := range doc.findings(t) {
		if keep(f) {
			seen[[4]int{doc.F["c"][i], doc.F["st"][i], doc.F["m"][i], doc.F["fl"][i] & flagNotApplicable}] = true
		}
	}
	return len(seen)
}

// BenchmarkHTMLOpen opens the HTML report of 100, 1,000 and 10,000 varied buckets in headless
// chromium, from file://, until the page's script has drawn it (data-ready). ns/op is the wall
// time of navigating and waiting, seen from Go; ms-to-ready is the page's own clock from the
// start of navigation to the end of its script (performance mark coffer:ready), ms-script the
// script alone (measure coffer:init). A benchmark, not a test: how long a browser takes says how
// busy the machine is.
func BenchmarkHTMLOpen(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("buckets=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			page := writePage(b, dir, "report.html", variedReport(b, n), Options{})
			fi, err := os.Stat(page)
			if err != nil {
				b.Fatal(err)
			}
			ctx := startChromium(b, dir)
			var ready, script float64
			for b.Loop() {
				if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
					b.Fatal(err)
				}
				if err := openPage(ctx, page); err != nil {
					b.Fatal(err)
				}
				times, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[performance.getEntriesByName('coffer:ready')[0].startTime, performance.getEntriesByName('coffer:init')[0].duration]`))
				if err != nil || len(times) != 2 {
					b.Fatalf("read the page's timings: %v %v", times, err)
				}
				ready += times[0]
				script += times[1]
			}
			b.ReportMetric(ready/float64(b.N), "ms-to-ready")
			b.ReportMetric(script/float64(b.N), "ms-script")
			b.ReportMetric(float64(fi.Size())/(1<<20), "MB-page")
		})
	}
}
