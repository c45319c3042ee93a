package reporters

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/coffer-audit/coffer/checks"
)

// HTML writes one self-contained page for a security review: header, summary cards, for an
// organisation a table of its accounts, a posture matrix of the buckets and one of the IAM
// principals, coverage by framework, and the findings grouped by check and failure. The page is
// static HTML for what is small (summary, accounts, coverage) and one JSON document for the
// findings (html_data.go), which the embedded script renders a page at a time, so the page opens
// in seconds at 10,000 buckets. The CSS and script are embedded (no external asset, no network),
// and a Content-Security-Policy with their hashes forbids every other load, so the file opens
// offline and can be attached to a ticket.
type HTML struct {
	Options Options
}

//go:embed html/report.html.tmpl html/report.css html/report.js
var htmlAssets embed.FS

var (
	htmlTmpl = template.Must(template.New("report.html.tmpl").ParseFS(htmlAssets, "html/report.html.tmpl"))
	htmlCSS  = mustAsset("html/report.css")
	htmlJS   = mustAsset("html/report.js")
	// htmlCSP allows exactly the embedded style and script (by hash) and nothing else: no fetch,
	// no image, no font, no frame. A report that tried to load anything would show it as a
	// console error, which the browser test looks for. The data document is a
	// <script type="application/json">, which browsers never run, so it needs no hash.
	htmlCSP = fmt.Sprintf("default-src 'none'; style-src '%s'; script-src '%s'; img-src data:; base-uri 'none'; form-action 'none'",
		cspHash(htmlCSS), cspHash(htmlJS))
)

func mustAsset(name string) string {
	b, err := htmlAssets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// Write implements Reporter. The page is streamed: the static parts are rendered first (so a
// template error writes nothing), then the data document goes out table by table as it is
// encoded, never held whole.
func (h *HTML) Write(w io.Writer, r *checks.Report) error {
	if r == nil {
		return errNilReport
	}
	sorted := sortedFindings(r)
	// The findings read worst first: FAIL, ERROR, WAIVED, PASS, each from CRITICAL down, then the
	// JSON order (check id, ARN). The matrices and counts do not depend on this order. Pointers:
	// a copy of 130,000 findings would be 30 MB.
	fs := make([]*checks.Finding, len(sorted))
	for i := range sorted {
		fs[i] = &sorted[i]
	}
	slices.SortStableFunc(fs, func(a, b *checks.Finding) int {
		return cmp.Or(
			cmp.Compare(statusWeight[b.Status], statusWeight[a.Status]),
			cmp.Compare(b.Severity, a.Severity),
		)
	})
	rules := sortedRules(r)
	page := buildHTMLPage(r, sorted, rules, h.Options)
	var head, tail bytes.Buffer
	if err := htmlTmpl.ExecuteTemplate(&head, "head", page); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	if err := htmlTmpl.ExecuteTemplate(&tail, "tail", page); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	data := newHTMLData(r, fs, rules, h.Options)
	fs = nil // the data holds what the page needs

	bw := bufio.NewWriterSize(w, 1<<16)
	if _, err := bw.Write(head.Bytes()); err != nil {
		return err
	}
	bw.WriteString(`<script type="application/json" id="coffer-data">`)
	if err := data.writeJSON(bw); err != nil {
		return fmt.Errorf("write html data: %w", err)
	}
	bw.WriteString("</script>")
	if _, err := bw.Write(tail.Bytes()); err != nil {
		return err
	}
	return bw.Flush()
}

// htmlPage is the static part of the page, computed here so the template only loops.
type htmlPage struct {
	Title, AccountID, Regions, Tool, Version string
	Started, Finished, Duration              string
	StatusCards, SeverityCards               []htmlCard
	Total                                    int
	Notices                                  []string
	Org                                      *htmlOrg
	Frameworks                               []htmlFramework
	Services                                 []string
	Statuses                                 []htmlFilter
	SeverityFilters                          []htmlFilter
	CSS                                      template.CSS
	JS                                       template.JS
	CSP                                      string
}

type htmlCard struct {
	Key, Label, Class string
	Count             int
}

type htmlFilter struct {
	Value, Label string
	Checked      bool
}

// htmlOrg is the organisation summary: a row per account, FAIL counts per service.
type htmlOrg struct {
	Services []string
	Accounts []htmlOrgAccount
}

type htmlOrgAccount struct {
	ID, Name, Status, StatusClass, Error string
	Fail, Errors, Waived, Pass           int
	FailByService                        []int
}

type htmlFramework struct {
	ID, Name string
	Controls []htmlControl
}

type htmlControl struct {
	ID                         string
	Checks                     []string
	Pass, Fail, Error, Waived  int
	Status, StatusLabel, Class string
}

// matrixSpec is a column of a posture matrix: its header and the checks it aggregates.
type matrixSpec struct {
	label  string
	checks []string
}

// matrixColumns lays out a posture matrix from the rules that place themselves in it (METADATA
// custom.matrix), built-in and user rules alike: checks naming the same column share it, a column
// comes at the smallest order of its checks, and the checks of a column follow their order.
// Checks on a bucket or principal that name no column (user rules without a matrix, or catalog
// checks not shown as a column) go to the last column, "Other checks", so nothing failing is
// hidden from the matrix.
func matrixColumns(rules []checks.Rule, table string) []matrixSpec {
	// An order of 0 is "not given": after every numbered column and check.
	rank := func(order int) int {
		if order <= 0 {
			return math.MaxInt
		}
		return order
	}
	var placed []checks.Rule
	for _, r := range rules {
		if r.Matrix != nil && r.Matrix.Table == table {
			placed = append(placed, r)
		}
	}
	slices.SortStableFunc(placed, func(a, b checks.Rule) int {
		return cmp.Or(cmp.Compare(rank(a.Matrix.Order), rank(b.Matrix.Order)), cmp.Compare(a.ID, b.ID))
	})
	first := map[string]int{} // a column's smallest order
	var specs []matrixSpec
	for _, r := range placed {
		i := slices.IndexFunc(specs, func(s matrixSpec) bool { return s.label == r.Matrix.Column })
		if i < 0 {
			specs = append(specs, matrixSpec{label: r.Matrix.Column})
			i = len(specs) - 1
			first[r.Matrix.Column] = rank(r.Matrix.Order)
		}
		specs[i].checks = append(specs[i].checks, r.ID)
	}
	slices.SortStableFunc(specs, func(a, b matrixSpec) int {
		return cmp.Or(cmp.Compare(first[a.label], first[b.label]), cmp.Compare(a.label, b.label))
	})
	return specs
}

const (
	typeBucket  = "AWS::S3::Bucket"
	typeAccount = "AWS::::Account"
)

// principalKinds orders the rows of the IAM matrix (and names them).
var principalKinds = map[string]struct {
	rank int
	name string
}{
	"AWS::IAM::User":   {0, "user"},
	"AWS::IAM::Group":  {1, "group"},
	"AWS::IAM::Role":   {2, "role"},
	"AWS::IAM::Policy": {3, "policy"},
}

// bucketRoleRank puts the backup buckets first, then the log buckets, then the rest.
var bucketRoleRank = map[string]int{"primary": 0, "standby": 1, "trail-logs": 2, "access-logs": 3}

var statusOrder = []checks.Status{checks.StatusFail, checks.StatusError, checks.StatusWaived, checks.StatusPass}

// statusWeight ranks statuses for a cell that aggregates several findings: the worst shows.
var statusWeight = map[checks.Status]int{checks.StatusFail: 4, checks.StatusError: 3, checks.StatusWaived: 2, checks.StatusPass: 1}

var htmlFrameworkTitles = map[string]string{
	checks.FrameworkCIS:      "CIS AWS Foundations Benchmark v3.0.0",
	checks.FrameworkFSBP:     "AWS Foundational Security Best Practices (Security Hub)",
	checks.FrameworkWorkshop: "Workshop sections",
}

// htmlFrameworkShort labels a finding's control ids, where the full titles would crowd the facts.
var htmlFrameworkShort = map[string]string{
	checks.FrameworkCIS:      "CIS v3.0.0",
	checks.FrameworkFSBP:     "FSBP",
	checks.FrameworkWorkshop: "Workshop",
}

var htmlFrameworkOrder = []string{checks.FrameworkCIS, checks.FrameworkFSBP, checks.FrameworkWorkshop}

func buildHTMLPage(r *checks.Report, fs []checks.Finding, rules []checks.Rule, opts Options) *htmlPage {
	c := countFindings(fs)
	// Every value from the snapshot is cut for display (clipProse) where the page shows it.
	p := &htmlPage{
		Title:     "coffer report",
		AccountID: clipProse(cmp.Or(r.AccountID, "unknown")),
		Regions:   clipProse(cmp.Or(strings.Join(r.Regions, ", "), "—")),
		Tool:      cmp.Or(r.Tool.Name, "coffer"),
		Version:   cmp.Or(r.Tool.Version, "unknown"),
		Started:   htmlTime(r.StartedAt),
		Finished:  htmlTime(r.FinishedAt),
		Total:     len(fs),
		Notices:   clipAll(r.Notices),
		CSS:       template.CSS(htmlCSS),
		JS:        template.JS(htmlJS),
		CSP:       htmlCSP,
	}
	p.Org = buildOrg(r, fs, rules)
	switch {
	case p.Org != nil:
		p.AccountID = fmt.Sprintf("%d accounts", len(p.Org.Accounts))
		p.Title += " — organisation, " + p.AccountID
	case r.AccountID != "":
		p.Title += " — account " + p.AccountID
	}
	if !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() && !r.FinishedAt.Before(r.StartedAt) {
		p.Duration = r.FinishedAt.Sub(r.StartedAt).Round(time.Second).String()
	}
	for _, st := range statusOrder {
		p.StatusCards = append(p.StatusCards, htmlCard{Key: string(st), Label: statusNoun(st), Class: statusClass(st), Count: c.byStatus[st]})
		p.Statuses = append(p.Statuses, htmlFilter{Value: string(st), Label: string(st), Checked: st != checks.StatusPass || opts.ShowPass})
	}
	for _, sev := range checks.Severities() {
		p.SeverityCards = append(p.SeverityCards, htmlCard{Key: sev.String(), Label: strings.ToLower(sev.String()), Class: "sev-" + strings.ToLower(sev.String()), Count: c.bySev[sev][checks.StatusFail]})
		p.SeverityFilters = append(p.SeverityFilters, htmlFilter{Value: sev.String(), Label: sev.String(), Checked: true})
	}
	p.Services = findingServices(fs, rules)
	p.Frameworks = buildCoverage(fs, rules)
	return p
}

// findingServices lists the services of the findings' checks, sorted.
func findingServices(fs []checks.Finding, rules []checks.Rule) []string {
	service := make(map[string]string, len(rules))
	for _, rule := range rules {
		service[rule.ID] = cmp.Or(rule.Service, serviceOf(rule.ID))
	}
	seen := map[string]bool{}
	for i := range fs {
		seen[clipProse(cmp.Or(service[fs[i].CheckID], serviceOf(fs[i].CheckID)))] = true
	}
	return sortedKeys(seen)
}

// buildOrg is the organisation summary, or nil for the report of one account: the accounts the
// report lists, in its order, then any other account a finding names, each with its FAIL count
// per service of the rules.
func buildOrg(r *checks.Report, fs []checks.Finding, rules []checks.Rule) *htmlOrg {
	accounts := slices.Clone(r.Accounts)
	listed := map[string]bool{}
	for _, a := range accounts {
		listed[a.ID] = true
	}
	var extra []string
	for i := range fs {
		if id := findingAccount(r, &fs[i]); id != "" && !listed[id] {
			listed[id] = true
			extra = append(extra, id)
		}
	}
	slices.Sort(extra)
	for _, id := range extra {
		accounts = append(accounts, checks.AccountInfo{ID: id, Status: checks.AccountScanned})
	}
	if len(r.Accounts) == 0 && len(accounts) <= 1 {
		return nil
	}
	service := make(map[string]string, len(rules))
	services := map[string]bool{}
	for _, rule := range rules {
		svc := cmp.Or(rule.Service, serviceOf(rule.ID))
		service[rule.ID] = svc
		services[svc] = true
	}
	org := &htmlOrg{Services: sortedKeys(services)}
	col := map[string]int{}
	for i, svc := range org.Services {
		col[svc] = i
	}
	row := map[string]int{}
	for _, a := range accounts {
		row[a.ID] = len(org.Accounts)
		org.Accounts = append(org.Accounts, htmlOrgAccount{
			ID: clipProse(a.ID), Name: clipProse(a.Name), Status: clipProse(a.Status), StatusClass: accountStatusClass(a.Status),
			Error: clipProse(a.Error), FailByService: make([]int, len(org.Services)),
		})
	}
	for i := range fs {
		a := &org.Accounts[row[findingAccount(r, &fs[i])]]
		switch fs[i].Status {
		case checks.StatusFail:
			a.Fail++
			a.FailByService[col[service[fs[i].CheckID]]]++
		case checks.StatusError:
			a.Errors++
		case checks.StatusWaived:
			a.Waived++
		case checks.StatusPass:
			a.Pass++
		}
	}
	for i, svc := range org.Services {
		org.Services[i] = clipProse(svc)
	}
	return org
}

func accountStatusClass(status string) string {
	switch status {
	case checks.AccountScanned:
		return "st-pass"
	case checks.AccountError:
		return "st-error"
	}
	return "st-na"
}

func roleRank(role string) int {
	if r, ok := bucketRoleRank[role]; ok {
		return r
	}
	return len(bucketRoleRank)
}

func otherRank(kind string) int {
	switch kind {
	case "account":
		return 0
	case "trail":
		return 1
	case "key":
		return 2
	}
	return 3
}

// resourceKind names a CloudFormation-style type for people: AWS::KMS::Key → key.
func resourceKind(typ string) string {
	switch typ {
	case typeAccount:
		return "account"
	case typeBucket:
		return "bucket"
	case "AWS::KMS::Key":
		return "key"
	case "AWS::CloudTrail::Trail":
		return "trail"
	}
	if k, ok := principalKinds[typ]; ok {
		return k.name
	}
	parts := strings.Split(typ, "::")
	return strings.ToLower(parts[len(parts)-1])
}

// shortCheckID names a check inside a matrix cell without what the matrix already implies: the
// check's service and the kind of resource of the row (by the catalog's naming, service, then
// resource, then what is checked): s3-bucket-kms-cmk → kms-cmk in the bucket matrix.
func shortCheckID(id, service, rowNoun string) string {
	short := id
	if rest, ok := strings.CutPrefix(short, service+"-"); ok && rest != "" {
		short = rest
	}
	if rest, ok := strings.CutPrefix(short, rowNoun+"-"); ok && rowNoun != "" && rest != "" {
		short = rest
	}
	return short
}

func statusClass(st checks.Status) string { return "st-" + strings.ToLower(string(st)) }

func statusNoun(st checks.Status) string {
	switch st {
	case checks.StatusFail:
		return "failed"
	case checks.StatusError:
		return "errors"
	case checks.StatusWaived:
		return "waived"
	case checks.StatusPass:
		return "passed"
	}
	return strings.ToLower(string(st))
}

// buildCoverage counts findings per framework control. Controls come from the rules, so a control
// whose checks found nothing to evaluate is listed too (status "no resources").
func buildCoverage(fs []checks.Finding, rules []checks.Rule) []htmlFramework {
	type tally struct {
		checks []string
		count  map[checks.Status]int
	}
	byFW := map[string]map[string]*tally{}
	for _, rule := range rules {
		for fw, ids := range rule.Frameworks {
			for _, id := range ids {
				if byFW[fw] == nil {
					byFW[fw] = map[string]*tally{}
				}
				t := byFW[fw][id]
				if t == nil {
					t = &tally{count: map[checks.Status]int{}}
					byFW[fw][id] = t
				}
				if !slices.Contains(t.checks, rule.ID) {
					t.checks = append(t.checks, rule.ID)
				}
			}
		}
	}
	for _, f := range fs {
		// A not-applicable PASS says nothing about the control, so it is not counted as a pass.
		if NotApplicable(f) {
			continue
		}
		for _, controls := range byFW {
			for _, t := range controls {
				if slices.Contains(t.checks, f.CheckID) {
					t.count[f.Status]++
				}
			}
		}
	}
	names := sortedKeys(byFW)
	slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(fwRank(a), fwRank(b)) })
	var out []htmlFramework
	for _, fw := range names {
		hf := htmlFramework{ID: fw, Name: cmp.Or(htmlFrameworkTitles[fw], fw)}
		ids := sortedKeys(byFW[fw])
		slices.SortFunc(ids, naturalCompare)
		for _, id := range ids {
			t := byFW[fw][id]
			slices.Sort(t.checks)
			ctl := htmlControl{ID: id, Checks: t.checks,
				Pass: t.count[checks.StatusPass], Fail: t.count[checks.StatusFail],
				Error: t.count[checks.StatusError], Waived: t.count[checks.StatusWaived]}
			switch {
			case ctl.Fail > 0:
				ctl.Status, ctl.Class = "FAIL", statusClass(checks.StatusFail)
			case ctl.Error > 0:
				ctl.Status, ctl.Class = "ERROR", statusClass(checks.StatusError)
			case ctl.Waived > 0:
				ctl.Status, ctl.Class = "WAIVED", statusClass(checks.StatusWaived)
			case ctl.Pass > 0:
				ctl.Status, ctl.Class = "PASS", statusClass(checks.StatusPass)
			default:
				ctl.Status, ctl.Class = "NA", "st-na"
			}
			ctl.StatusLabel = ctl.Status
			if ctl.Status == "NA" {
				ctl.StatusLabel = "no resources"
			}
			hf.Controls = append(hf.Controls, ctl)
		}
		out = append(out, hf)
	}
	return out
}

func fwRank(fw string) int {
	if i := slices.Index(htmlFrameworkOrder, fw); i >= 0 {
		return i
	}
	return len(htmlFrameworkOrder)
}

// naturalCompare orders control ids as people number them: 1.9 < 1.10, S3.9 < S3.10.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		ca, ra := leadingChunk(a)
		cb, rb := leadingChunk(b)
		na, errA := strconv.Atoi(ca)
		nb, errB := strconv.Atoi(cb)
		var c int
		if errA == nil && errB == nil {
			c = cmp.Compare(na, nb)
		} else {
			c = cmp.Compare(ca, cb)
		}
		if c != 0 {
			return c
		}
		a, b = ra, rb
	}
	return cmp.Compare(len(a), len(b))
}

// leadingChunk splits s into its leading run of digits or of non-digits, and the rest.
func leadingChunk(s string) (string, string) {
	digit := unicode.IsDigit(rune(s[0]))
	for i, r := range s {
		if unicode.IsDigit(r) != digit {
			return s[:i], s[i:]
		}
	}
	return s, ""
}

// clipAll returns the texts cut for display (clipProse), or texts itself when none needed it.
func clipAll(texts []string) []string {
	var out []string
	for i, s := range texts {
		c := clipProse(s)
		if c != s && out == nil {
			out = slices.Clone(texts)
		}
		if out != nil {
			out[i] = c
		}
	}
	if out == nil {
		return texts
	}
	return out
}

func sortedFrameworkNames(m map[string][]string) []string {
	names := sortedKeys(m)
	slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(fwRank(a), fwRank(b)) })
	return names
}

// serviceOf guesses a service from a check id ("s3-bucket-…" → s3) for findings without a rule.
func serviceOf(checkID string) string {
	svc, _, _ := strings.Cut(checkID, "-")
	return svc
}

// evidenceJSON pretty-prints an evidence value; strings show without quotes.
func evidenceJSON(v any) string {
	if s, ok := v.(string); ok {
		if s == "" {
			return `"" (empty)`
		}
		return s
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // html/template escapes; double escaping would show &lt; on the page
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func htmlTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
