package reporters

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
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

// HTML writes one self-contained page for a security review: header, summary cards, a posture
// matrix of the buckets and one of the IAM principals, coverage by framework, and every finding,
// filterable with a small inline script. The CSS and script are embedded (no external asset, no
// network), and a Content-Security-Policy with their hashes forbids every other load, so the file
// opens offline and can be attached to a ticket. Without script every finding is shown; printing
// hides the controls.
type HTML struct {
	Options Options
}

//go:embed html/report.html.tmpl html/report.css html/report.js
var htmlAssets embed.FS

var (
	htmlTmpl = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
		"dict": dict, "knownNote": func() string { return knownNote }, "shortenedNote": func() string { return shortenedNote },
	}).ParseFS(htmlAssets, "html/report.html.tmpl"))
	htmlCSS = mustAsset("html/report.css")
	htmlJS  = mustAsset("html/report.js")
	// htmlCSP allows exactly the embedded style and script (by hash) and nothing else: no fetch,
	// no image, no font, no frame. A report that tried to load anything would show it as a
	// console error, which the browser test looks for.
	htmlCSP = fmt.Sprintf("default-src 'none'; style-src '%s'; script-src '%s'; img-src data:; base-uri 'none'; form-action 'none'",
		cspHash(htmlCSS), cspHash(htmlJS))
)

// dict builds the argument map of a sub-template from key/value pairs.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

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

// Write implements Reporter.
func (h *HTML) Write(w io.Writer, r *checks.Report) error {
	if r == nil {
		return errNilReport
	}
	page := buildHTMLPage(r, h.Options)
	// Render into a buffer so a template error never leaves half a page behind.
	var buf bytes.Buffer
	if err := htmlTmpl.Execute(&buf, page); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// htmlPage is everything the template shows, computed and sorted here so the template only loops.
type htmlPage struct {
	Title, AccountID, Regions, Tool, Version string
	Started, Finished, Duration              string
	StatusCards, SeverityCards               []htmlCard
	Total                                    int
	Notices                                  []string
	Buckets, Principals                      htmlMatrix
	Others                                   []htmlOther
	Frameworks                               []htmlFramework
	Findings                                 []htmlFinding
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

// htmlMatrix is a posture matrix: rows are resources, columns are controls, and a cell is the
// worst status of the column's checks on the row's resource.
type htmlMatrix struct {
	Columns []htmlColumn
	Rows    []htmlRow
}

type htmlColumn struct {
	Label, Checks string // Checks is the column's check ids, for the header's description
}

type htmlRow struct {
	Name, Kind, Region, ARN string
	Cells                   []htmlCell
}

type htmlCell struct {
	Status, Label, Class string
	Links                []htmlLink
	// Mixed is set when the cell's findings differ in status: each link then shows its own.
	Mixed bool
}

type htmlLink struct {
	Anchor, CheckID, Short, Label, Class string
}

// htmlOther is a finding on the account, a key or a trail: shown as one row each.
type htmlOther struct {
	Resource, Kind, CheckID, Title string
	Link                           htmlLink
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

type htmlFinding struct {
	Anchor, CheckID, Title, Severity, SeverityClass string
	Status, StatusLabel, StatusClass, Service       string
	Resource, ResourceKind, ARN, Region, Role       string
	Message, EvidencePath, EvidenceValue            string
	HasEvidence, NotApplicable, InBaseline          bool
	Frameworks                                      []htmlFrameworkIDs
	Summary, Fix, Waiver                            string
	Commands                                        string
	CommandCount                                    int
	// Shortened is set when a command was cut for display: copying it would give a broken
	// command, so the page offers no copy button and points at the JSON report instead.
	Shortened bool
}

type htmlFrameworkIDs struct {
	Name, IDs string
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

func buildHTMLPage(r *checks.Report, opts Options) *htmlPage {
	fs := slices.Clone(sortedFindings(r)) // sorted again below, worst first
	rules := sortedRules(r)
	ruleByID := make(map[string]checks.Rule, len(rules))
	for _, rule := range rules {
		ruleByID[rule.ID] = rule
	}
	c := countFindings(fs)

	// Every value from the snapshot is cut for display (clipProse, clipCommand) where the page
	// shows it; sorting and anchors use the whole values.
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
	if r.AccountID != "" {
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

	// The findings list reads worst first: FAIL, ERROR, WAIVED, PASS, each from CRITICAL down, then
	// the JSON order (check id, ARN). The matrices and counts do not depend on this order.
	slices.SortStableFunc(fs, func(a, b checks.Finding) int {
		return cmp.Or(
			cmp.Compare(statusWeight[b.Status], statusWeight[a.Status]),
			cmp.Compare(b.Severity, a.Severity),
			compareFindings(a, b),
		)
	})
	anchors := findingAnchors(fs)
	services := map[string]bool{}
	for i, f := range fs {
		hf := newHTMLFinding(f, anchors[i], ruleByID[f.CheckID])
		services[hf.Service] = true
		p.Findings = append(p.Findings, hf)
	}
	p.Services = sortedKeys(services)

	byResource := func(keep func(checks.Resource) bool) map[string][]int {
		m := map[string][]int{}
		for i, f := range fs {
			if keep(f.Resource) {
				m[f.Resource.ARN] = append(m[f.Resource.ARN], i)
			}
		}
		return m
	}
	short := func(checkID, rowNoun string) string {
		rule := ruleByID[checkID]
		return shortCheckID(checkID, cmp.Or(rule.Service, serviceOf(checkID)), rowNoun)
	}
	p.Buckets = buildMatrix(fs, anchors, matrixColumns(rules, checks.MatrixBuckets), func(id string) string { return short(id, "bucket") }, byResource(func(res checks.Resource) bool { return res.Type == typeBucket }),
		func(a, b checks.Resource) int {
			return cmp.Or(cmp.Compare(roleRank(a.Role), roleRank(b.Role)), cmp.Compare(a.Role, b.Role), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ARN, b.ARN))
		},
		func(res checks.Resource) string { return cmp.Or(res.Role, "—") })
	p.Principals = buildMatrix(fs, anchors, matrixColumns(rules, checks.MatrixPrincipals), func(id string) string { return short(id, "") }, byResource(func(res checks.Resource) bool {
		_, ok := principalKinds[res.Type]
		return ok
	}),
		func(a, b checks.Resource) int {
			return cmp.Or(cmp.Compare(principalKinds[a.Type].rank, principalKinds[b.Type].rank), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ARN, b.ARN))
		},
		func(res checks.Resource) string { return principalKinds[res.Type].name })

	for i, f := range fs {
		if _, ok := principalKinds[f.Resource.Type]; ok || f.Resource.Type == typeBucket {
			continue
		}
		p.Others = append(p.Others, htmlOther{
			Resource: cmp.Or(f.Resource.Name, f.Resource.ARN), Kind: resourceKind(f.Resource.Type),
			CheckID: f.CheckID, Title: f.Title, Link: cellLink(f, anchors[i]),
		})
	}
	slices.SortStableFunc(p.Others, func(a, b htmlOther) int {
		return cmp.Or(cmp.Compare(otherRank(a.Kind), otherRank(b.Kind)), cmp.Compare(a.Resource, b.Resource), cmp.Compare(a.CheckID, b.CheckID))
	})
	for i := range p.Others {
		o := &p.Others[i]
		o.Resource, o.Kind, o.CheckID, o.Title = clipProse(o.Resource), clipProse(o.Kind), clipProse(o.CheckID), clipProse(o.Title)
	}
	p.Frameworks = buildCoverage(fs, rules)
	return p
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

// buildMatrix lays out one posture matrix: specs are its columns, rows the findings of each
// resource, short names a check inside a cell that aggregates several.
func buildMatrix(fs []checks.Finding, anchors []string, specs []matrixSpec, short func(checkID string) string, rows map[string][]int,
	order func(a, b checks.Resource) int, kind func(checks.Resource) string) htmlMatrix {
	var m htmlMatrix
	column := map[string]int{}
	for i, s := range specs {
		m.Columns = append(m.Columns, htmlColumn{Label: s.label, Checks: strings.Join(s.checks, ", ")})
		for _, id := range s.checks {
			column[id] = i
		}
	}
	// Checks on these resources that no column names go to "Other", added only when needed.
	other := len(specs)
	var otherChecks []string
	for _, idx := range rows {
		for _, i := range idx {
			if _, ok := column[fs[i].CheckID]; !ok && !slices.Contains(otherChecks, fs[i].CheckID) {
				otherChecks = append(otherChecks, fs[i].CheckID)
			}
		}
	}
	slices.Sort(otherChecks)
	if len(otherChecks) > 0 {
		m.Columns = append(m.Columns, htmlColumn{Label: "Other checks", Checks: strings.Join(otherChecks, ", ")})
	}

	resources := make([]checks.Resource, 0, len(rows))
	for _, idx := range rows {
		resources = append(resources, fs[idx[0]].Resource)
	}
	slices.SortFunc(resources, order)
	for _, res := range resources {
		row := htmlRow{Name: clipProse(cmp.Or(res.Name, res.ARN)), Kind: clipProse(kind(res)), ARN: clipProse(res.ARN)}
		// IAM is global; saying so on every row is noise.
		if res.Region != "global" {
			row.Region = clipProse(res.Region)
		}
		cells := make([][]int, len(m.Columns))
		for _, i := range rows[res.ARN] {
			col, ok := column[fs[i].CheckID]
			if !ok {
				col = other
			}
			cells[col] = append(cells[col], i)
		}
		for _, idx := range cells {
			cell := matrixCell(fs, anchors, idx)
			for i := range cell.Links {
				cell.Links[i].Short = short(cell.Links[i].CheckID)
			}
			row.Cells = append(row.Cells, cell)
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

// matrixCell is the worst status among the findings (FAIL > ERROR > WAIVED > PASS) with a link to
// each; no finding means the controls do not apply to the resource.
func matrixCell(fs []checks.Finding, anchors []string, idx []int) htmlCell {
	if len(idx) == 0 {
		return htmlCell{Status: "NA", Label: "n/a", Class: "st-na"}
	}
	worst := fs[idx[0]]
	for _, i := range idx[1:] {
		if statusWeight[fs[i].Status] > statusWeight[worst.Status] {
			worst = fs[i]
		}
	}
	cell := htmlCell{Status: string(worst.Status), Label: statusLabel(worst), Class: statusClass(worst.Status)}
	allNA := true
	for _, i := range idx {
		l := cellLink(fs[i], anchors[i])
		cell.Links = append(cell.Links, l)
		// A not-applicable pass beside passes is not worth a breakdown; any other difference is.
		cell.Mixed = cell.Mixed || fs[i].Status != worst.Status
		allNA = allNA && NotApplicable(fs[i])
	}
	if allNA {
		cell.Status, cell.Label, cell.Class = "NA", "n/a", "st-na"
	}
	return cell
}

func cellLink(f checks.Finding, anchor string) htmlLink {
	l := htmlLink{Anchor: anchor, CheckID: f.CheckID, Label: statusLabel(f), Class: statusClass(f.Status)}
	if NotApplicable(f) {
		l.Class = "st-na"
	}
	return l
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

// statusLabel is the text beside a status colour: PASS, FAIL, ERROR, WAIVED or n/a.
func statusLabel(f checks.Finding) string {
	if NotApplicable(f) {
		return "n/a"
	}
	return string(f.Status)
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

// findingAnchors gives each finding an id that stays the same between runs (check id and a hash of
// the ARN, which may hold characters a URL fragment cannot), so links into a report stay valid.
func findingAnchors(fs []checks.Finding) []string {
	out := make([]string, len(fs))
	seen := map[string]int{}
	for i, f := range fs {
		h := fnv.New32a()
		_, _ = h.Write([]byte(f.Resource.ARN))
		a := fmt.Sprintf("f-%s-%08x", anchorSafe(f.CheckID), h.Sum32())
		// The same (check, ARN) twice would be a bug upstream; keep ids unique anyway.
		if n := seen[a]; n > 0 {
			seen[a]++
			a = fmt.Sprintf("%s-%d", a, n+1)
		} else {
			seen[a] = 1
		}
		out[i] = a
	}
	return out
}

func anchorSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return '-'
	}, s)
}

func newHTMLFinding(f checks.Finding, anchor string, rule checks.Rule) htmlFinding {
	cmds, shortened := clipCommands(f.Remediation.Commands)
	hf := htmlFinding{
		Anchor: anchor, CheckID: clipProse(f.CheckID), Title: clipProse(cmp.Or(f.Title, rule.Title, f.CheckID)),
		Severity: f.Severity.String(), SeverityClass: "sev-" + strings.ToLower(f.Severity.String()),
		Status: string(f.Status), StatusLabel: statusLabel(f), StatusClass: statusClass(f.Status),
		Service:  clipProse(cmp.Or(rule.Service, serviceOf(f.CheckID))),
		Resource: clipProse(cmp.Or(f.Resource.Name, f.Resource.ARN)), ResourceKind: clipProse(resourceKind(f.Resource.Type)),
		ARN: clipProse(f.Resource.ARN), Region: clipProse(f.Resource.Region), Role: clipProse(f.Resource.Role),
		Message: clipProse(f.Message), NotApplicable: NotApplicable(f), InBaseline: f.InBaseline,
		Summary: clipProse(f.Remediation.Summary), Fix: clipProse(string(f.Remediation.Fix)),
		Commands: strings.Join(cmds, "\n"), CommandCount: len(cmds), Shortened: shortened,
	}
	if hf.NotApplicable {
		hf.StatusClass = "st-na"
	}
	if hf.Message == "" {
		hf.Message = defaultMessage(f.Status, hf.Resource)
	}
	if f.Evidence != nil {
		hf.HasEvidence = true
		hf.EvidencePath = clipProse(f.Evidence.Path)
		hf.EvidenceValue, _ = clipCommand(evidenceJSON(f.Evidence.Value))
	}
	for _, fw := range sortedFrameworkNames(f.Frameworks) {
		if ids := f.Frameworks[fw]; len(ids) > 0 {
			hf.Frameworks = append(hf.Frameworks, htmlFrameworkIDs{Name: cmp.Or(htmlFrameworkShort[fw], fw), IDs: strings.Join(ids, ", ")})
		}
	}
	if f.Status == checks.StatusWaived {
		hf.Waiver = clipProse(waiverText(f.Waiver))
	}
	return hf
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

// defaultMessage stands in for the empty message of a PASS on the resource named name.
func defaultMessage(st checks.Status, name string) string {
	if st == checks.StatusPass {
		return "Passes on " + name + "."
	}
	return ""
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
