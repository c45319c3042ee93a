package reporters

import (
	"bufio"
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/coffer-audit/coffer/checks"
)

// The HTML page carries its findings as data, not as elements: one JSON document in a
// <script type="application/json"> element that the page's script reads, and from which it
// renders only what is on screen (a page of a matrix, a page of finding groups, an opened group).
// A page that held every finding as elements grew to 188 MB for 10,000 buckets and never opened;
// see docs/html-report.md for what the browser spent its time on.
//
// The document is made small by tables for what repeats:
//   - s: a string table (kinds, regions, roles, accounts, column labels);
//   - t: text templates. A message, a command or an evidence value usually names its resource and
//     is otherwise the same for every resource it is about ("Bucket NAME has no default
//     encryption rule."), so a text is stored as the parts between the occurrences of the
//     resource's display name, and the page joins them with that name again. t[0] is the empty
//     text. Splitting and joining on the same string gives back the text byte for byte, which
//     copy buttons rely on;
//   - checks: one entry per distinct check metadata (normally one per rule);
//   - res: the resources, bucket matrix rows first, then principal rows, then the others;
//   - f: the findings as columns of numbers, worst first.
//
// Every text is cut for display (clipProse, clipCommand) before it is stored, as the other formats
// for people do, and encoding/json escapes <, > and & (as \u003c…), so no value can end the
// script element or be read as markup. The script only ever puts values in the page as text.

// Status codes in the data, in the order the page ranks them (worst first).
const (
	htmlFail = iota
	htmlError
	htmlWaived
	htmlPass
)

var htmlStatusCode = map[checks.Status]int{
	checks.StatusFail: htmlFail, checks.StatusError: htmlError, checks.StatusWaived: htmlWaived, checks.StatusPass: htmlPass,
}

// Matrix cell codes: one character per column in a row's cells string. A cell is the worst status
// of the column's checks on the row's resource; n is a not-applicable pass, - means no check of
// the column applies to the resource.
const (
	cellFail    = 'F'
	cellError   = 'E'
	cellWaived  = 'W'
	cellPass    = 'P'
	cellNA      = 'n'
	cellNothing = '-'
)

// Finding flags (column fl).
const (
	flagEvidence      = 1 << iota // the finding has evidence (columns ep, ev)
	flagNotApplicable             // a PASS because the check does not apply
	flagInBaseline                // a FAIL the baseline report had too
	flagShortened                 // a command was cut for display: no copy button
)

// htmlData is the page's data document, built by newHTMLData and written by writeJSON.
type htmlData struct {
	strs  interner
	texts interner // template keys: see text

	checks []htmlCheck
	// checksOf lists the check entries of a check id, checkSrc the finding each was made from.
	checksOf map[string][]int
	checkSrc []*checks.Finding

	accounts                  [][4]int // id, name, status, error as string indexes
	res                       []htmlRes
	nBuckets, nPrincipals     int
	bucketCols, principalCols []htmlCol
	cells                     []string // per matrix row (bucket rows, then principal rows)

	// Finding columns.
	fCheck, fStatus, fRes, fMsg, fPath, fValue, fCmds, fFlags []int
	waivers                                                   [][2]int // finding, text

	showPass bool
	notes    map[string]string
}

type htmlCheck struct {
	id, title, service, fix, summary, short string
	severity                                string
	frameworks                              [][2]string
	bucketCol, principalCol                 int
}

type htmlCol struct {
	label  string
	checks []string
}

// htmlRes is a resource: the display name texts are split on, and string table indexes.
type htmlRes struct {
	name                             string
	arn, kind, region, role, account int // arn is a text, the others strings
}

// interner numbers distinct strings in the order they are first added.
type interner struct {
	index map[string]int
	list  []string
}

func (in *interner) add(s string) int {
	if i, ok := in.index[s]; ok {
		return i
	}
	if in.index == nil {
		in.index = map[string]int{}
	}
	in.index[s] = len(in.list)
	in.list = append(in.list, s)
	return len(in.list) - 1
}

// Template keys: "T" + the text with every occurrence of the name replaced by NUL, or, for a
// text that holds NUL itself (it cannot then be split unambiguously), "L" + the text, kept whole.
// The two kinds never collide, and texts with the same parts share a key.
const (
	textSplit   = "T"
	textLiteral = "L"
)

// text stores s as a template over name and returns its index.
func (d *htmlData) text(s, name string) int {
	if s == "" {
		return 0
	}
	if strings.IndexByte(s, 0) >= 0 {
		return d.texts.add(textLiteral + s)
	}
	// A short name would split ordinary words; such texts are stored whole (still correct).
	if len(name) >= 3 && strings.Contains(s, name) {
		return d.texts.add(textSplit + strings.ReplaceAll(s, name, "\x00"))
	}
	return d.texts.add(textSplit + s)
}

// newHTMLData builds the data document of report r: fs are its findings worst first, rules its
// rules sorted by id (sortedRules).
func newHTMLData(r *checks.Report, fs []*checks.Finding, rules []checks.Rule, opts Options) *htmlData {
	d := &htmlData{checksOf: map[string][]int{}, showPass: opts.ShowPass}
	d.texts.add(textSplit) // t[0]: the empty text
	d.strs.add("")         // s[0]: the empty string

	ruleByID := make(map[string]checks.Rule, len(rules))
	for _, rule := range rules {
		ruleByID[rule.ID] = rule
	}
	bucketSpecs := matrixColumns(rules, checks.MatrixBuckets)
	principalSpecs := matrixColumns(rules, checks.MatrixPrincipals)

	// Accounts: the report's list, then any other account a finding names, sorted.
	accountIDs := map[string]bool{}
	for _, a := range r.Accounts {
		accountIDs[a.ID] = true
		d.accounts = append(d.accounts, [4]int{d.strs.add(clipProse(a.ID)), d.strs.add(clipProse(a.Name)), d.strs.add(a.Status), d.strs.add(clipProse(a.Error))})
	}
	var extra []string
	for i := range fs {
		if id := findingAccount(r, fs[i]); id != "" && !accountIDs[id] {
			accountIDs[id] = true
			extra = append(extra, id)
		}
	}
	slices.Sort(extra)
	for _, id := range extra {
		d.accounts = append(d.accounts, [4]int{d.strs.add(clipProse(id)), 0, d.strs.add(checks.AccountScanned), 0})
	}

	// Resources, in the order the page lists them: bucket rows, principal rows, the rest. One
	// entry per (account, ARN): an IAM ARN names its account, but an S3 ARN does not.
	type resKey struct{ account, arn string }
	first := map[resKey]int{} // index in fs of the resource's first finding
	var buckets, principals, others []int
	for i := range fs {
		k := resKey{findingAccount(r, fs[i]), fs[i].Resource.ARN}
		if _, ok := first[k]; ok {
			continue
		}
		first[k] = i
		switch _, principal := principalKinds[fs[i].Resource.Type]; {
		case fs[i].Resource.Type == typeBucket:
			buckets = append(buckets, i)
		case principal:
			principals = append(principals, i)
		default:
			others = append(others, i)
		}
	}
	account := func(i int) string { return findingAccount(r, fs[i]) }
	slices.SortFunc(buckets, func(i, j int) int {
		a, b := fs[i].Resource, fs[j].Resource
		return cmp.Or(cmp.Compare(account(i), account(j)), cmp.Compare(roleRank(a.Role), roleRank(b.Role)), cmp.Compare(a.Role, b.Role),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.ARN, b.ARN))
	})
	slices.SortFunc(principals, func(i, j int) int {
		a, b := fs[i].Resource, fs[j].Resource
		return cmp.Or(cmp.Compare(account(i), account(j)), cmp.Compare(principalKinds[a.Type].rank, principalKinds[b.Type].rank),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.ARN, b.ARN))
	})
	slices.SortFunc(others, func(i, j int) int {
		a, b := fs[i].Resource, fs[j].Resource
		return cmp.Or(cmp.Compare(account(i), account(j)), cmp.Compare(otherRank(resourceKind(a.Type)), otherRank(resourceKind(b.Type))),
			cmp.Compare(cmp.Or(a.Name, a.ARN), cmp.Or(b.Name, b.ARN)), cmp.Compare(a.ARN, b.ARN))
	})
	resIndex := make(map[resKey]int, len(first))
	for _, i := range slices.Concat(buckets, principals, others) {
		res := fs[i].Resource
		name := clipProse(cmp.Or(res.Name, res.ARN))
		resIndex[resKey{account(i), res.ARN}] = len(d.res)
		kind := resourceKind(res.Type)
		region := res.Region
		if region == "global" {
			region = "" // IAM is global; saying so on every row is noise
		}
		d.res = append(d.res, htmlRes{
			name: name, arn: d.text(clipProse(res.ARN), name), kind: d.strs.add(clipProse(kind)),
			region: d.strs.add(clipProse(region)), role: d.strs.add(clipProse(res.Role)), account: d.strs.add(clipProse(account(i))),
		})
	}
	d.nBuckets, d.nPrincipals = len(buckets), len(principals)

	// Findings, worst first: the order the page lists them in.
	n := len(fs)
	d.fCheck, d.fStatus, d.fRes, d.fMsg = make([]int, n), make([]int, n), make([]int, n), make([]int, n)
	d.fPath, d.fValue, d.fCmds, d.fFlags = make([]int, n), make([]int, n), make([]int, n), make([]int, n)
	for i := range fs {
		f := fs[i]
		ri := resIndex[resKey{account(i), f.Resource.ARN}]
		name := d.res[ri].name
		d.fCheck[i] = d.check(f, ruleByID[f.CheckID])
		d.fStatus[i] = htmlStatusCode[f.Status]
		d.fRes[i] = ri
		d.fMsg[i] = d.text(clipProse(f.Message), name)
		flags := 0
		if f.Evidence != nil {
			flags |= flagEvidence
			d.fPath[i] = d.text(clipProse(f.Evidence.Path), name)
			value, _ := clipCommand(evidenceJSON(f.Evidence.Value))
			d.fValue[i] = d.text(value, name)
		}
		if NotApplicable(*f) {
			flags |= flagNotApplicable
		}
		if f.InBaseline {
			flags |= flagInBaseline
		}
		if f.Status != checks.StatusPass {
			cmds, shortened := clipCommands(f.Remediation.Commands)
			d.fCmds[i] = d.text(strings.Join(cmds, "\n"), name)
			if shortened {
				flags |= flagShortened
			}
		}
		d.fFlags[i] = flags
		if f.Status == checks.StatusWaived {
			d.waivers = append(d.waivers, [2]int{i, d.text(clipProse(waiverText(f.Waiver)), name)})
		}
	}

	// Matrix columns and cells.
	checkIDs := func(fis []int) []string {
		var ids []string
		for _, i := range fis {
			if !slices.Contains(ids, fs[i].CheckID) {
				ids = append(ids, fs[i].CheckID)
			}
		}
		return ids
	}
	byRes := make([][]int, len(d.res))
	for i := range fs {
		byRes[d.fRes[i]] = append(byRes[d.fRes[i]], i)
	}
	var bucketFindings, principalFindings []int
	for ri := range d.nBuckets {
		bucketFindings = append(bucketFindings, byRes[ri]...)
	}
	for ri := d.nBuckets; ri < d.nBuckets+d.nPrincipals; ri++ {
		principalFindings = append(principalFindings, byRes[ri]...)
	}
	d.bucketCols = layoutColumns(bucketSpecs, checkIDs(bucketFindings))
	d.principalCols = layoutColumns(principalSpecs, checkIDs(principalFindings))
	bucketCol, principalCol := columnOf(d.bucketCols), columnOf(d.principalCols)
	for ci := range d.checks {
		c := &d.checks[ci]
		c.bucketCol, c.principalCol = -1, -1
		if col, ok := bucketCol[c.id]; ok {
			c.bucketCol = col
		}
		if col, ok := principalCol[c.id]; ok {
			c.principalCol = col
		}
	}
	d.cells = make([]string, 0, d.nBuckets+d.nPrincipals)
	for ri := range d.nBuckets + d.nPrincipals {
		cols, colOf := d.bucketCols, bucketCol
		if ri >= d.nBuckets {
			cols, colOf = d.principalCols, principalCol
		}
		d.cells = append(d.cells, matrixCells(fs, byRes[ri], len(cols), colOf))
	}

	d.notes = map[string]string{"shortened": shortenedNote, "known": knownNote}
	return d
}

// findingAccount is the account of a finding's resource: its own, or the report's.
func findingAccount(r *checks.Report, f *checks.Finding) string {
	return cmp.Or(f.Resource.AccountID, r.AccountID)
}

// check returns the index of the check entry for a finding: the rule's metadata, with the
// finding's own title, severity, remediation and frameworks (the same for every finding of an
// engine's rule; a report assembled by hand may differ).
func (d *htmlData) check(f *checks.Finding, rule checks.Rule) int {
	for _, i := range d.checksOf[f.CheckID] {
		if sameCheckMeta(f, d.checkSrc[i]) {
			return i
		}
	}
	c := htmlCheck{
		id: clipProse(f.CheckID), title: clipProse(cmp.Or(f.Title, rule.Title, f.CheckID)),
		service: clipProse(cmp.Or(rule.Service, serviceOf(f.CheckID))), severity: f.Severity.String(),
		fix: clipProse(string(f.Remediation.Fix)), summary: clipProse(f.Remediation.Summary),
	}
	rowNoun := ""
	if f.Resource.Type == typeBucket {
		rowNoun = "bucket"
	}
	c.short = shortCheckID(c.id, c.service, rowNoun)
	for _, fw := range sortedFrameworkNames(f.Frameworks) {
		if ids := f.Frameworks[fw]; len(ids) > 0 {
			c.frameworks = append(c.frameworks, [2]string{clipProse(cmp.Or(htmlFrameworkShort[fw], fw)), clipProse(strings.Join(ids, ", "))})
		}
	}
	d.checksOf[f.CheckID] = append(d.checksOf[f.CheckID], len(d.checks))
	d.checkSrc = append(d.checkSrc, f)
	d.checks = append(d.checks, c)
	return len(d.checks) - 1
}

// sameCheckMeta reports whether two findings of a check show the same check metadata.
func sameCheckMeta(a, b *checks.Finding) bool {
	return a.Title == b.Title && a.Severity == b.Severity && a.Remediation.Summary == b.Remediation.Summary &&
		a.Remediation.Fix == b.Remediation.Fix && (a.Resource.Type == typeBucket) == (b.Resource.Type == typeBucket) &&
		maps.EqualFunc(a.Frameworks, b.Frameworks, slices.Equal)
}

// layoutColumns is the matrix's columns: those the rules declare, then "Other checks" for the
// checks on its rows that no column names, added only when there are some, so nothing failing is
// hidden from the matrix.
func layoutColumns(specs []matrixSpec, onRows []string) []htmlCol {
	var cols []htmlCol
	named := map[string]bool{}
	for _, s := range specs {
		cols = append(cols, htmlCol{label: s.label, checks: s.checks})
		for _, id := range s.checks {
			named[id] = true
		}
	}
	var other []string
	for _, id := range onRows {
		if !named[id] {
			other = append(other, id)
		}
	}
	if len(other) > 0 {
		slices.Sort(other)
		cols = append(cols, htmlCol{label: "Other checks", checks: other})
	}
	return cols
}

func columnOf(cols []htmlCol) map[string]int {
	m := map[string]int{}
	for i, c := range cols {
		for _, id := range c.checks {
			m[id] = i
		}
	}
	return m
}

// matrixCells is a matrix row: per column the worst status (FAIL > ERROR > WAIVED > PASS) of the
// findings fis in it, n when they are all not-applicable passes, - when there is none.
func matrixCells(fs []*checks.Finding, fis []int, columns int, colOf map[string]int) string {
	worst := make([]checks.Status, columns)
	allNA := make([]bool, columns)
	for c := range allNA {
		allNA[c] = true
	}
	for _, i := range fis {
		c, ok := colOf[fs[i].CheckID]
		if !ok {
			continue // a principal's check the principal matrix has no column for: impossible by layoutColumns
		}
		if statusWeight[fs[i].Status] > statusWeight[worst[c]] {
			worst[c] = fs[i].Status
		}
		allNA[c] = allNA[c] && NotApplicable(*fs[i])
	}
	b := make([]byte, columns)
	for c, st := range worst {
		switch {
		case st == "":
			b[c] = cellNothing
		case allNA[c]:
			b[c] = cellNA
		case st == checks.StatusFail:
			b[c] = cellFail
		case st == checks.StatusError:
			b[c] = cellError
		case st == checks.StatusWaived:
			b[c] = cellWaived
		default:
			b[c] = cellPass
		}
	}
	return string(b)
}

// writeJSON writes the data document. Large tables get one entry per line, so that a golden file
// of a small report reads and diffs by line; a newline costs one byte an entry.
func (d *htmlData) writeJSON(w *bufio.Writer) error {
	jw := &jsonWriter{w: w}
	jw.raw(`{"v":1,`)
	jw.raw("\n\"s\":")
	jw.strings(d.strs.list, true)
	jw.raw(",\n\"t\":[")
	for i, key := range d.texts.list {
		if i > 0 {
			jw.raw(",")
		}
		jw.raw("\n")
		kind, body := key[:1], key[1:]
		if kind == textLiteral {
			jw.strings([]string{body}, false)
		} else {
			jw.strings(strings.Split(body, "\x00"), false)
		}
	}
	jw.raw("],\n\"checks\":[")
	for i, c := range d.checks {
		if i > 0 {
			jw.raw(",")
		}
		jw.raw("\n[")
		for j, s := range []string{c.id, c.title, c.severity, c.service, c.fix, c.summary, c.short} {
			if j > 0 {
				jw.raw(",")
			}
			jw.str(s)
		}
		jw.raw(",[")
		for j, fw := range c.frameworks {
			if j > 0 {
				jw.raw(",")
			}
			jw.strings(fw[:], false)
		}
		jw.raw("],")
		jw.int(c.bucketCol)
		jw.raw(",")
		jw.int(c.principalCol)
		jw.raw("]")
	}
	jw.raw("],\n\"accounts\":[")
	for i, a := range d.accounts {
		if i > 0 {
			jw.raw(",")
		}
		jw.ints(a[:])
	}
	jw.raw("],\n\"cols\":[")
	for i, cols := range [][]htmlCol{d.bucketCols, d.principalCols} {
		if i > 0 {
			jw.raw(",")
		}
		jw.raw("[")
		for j, c := range cols {
			if j > 0 {
				jw.raw(",")
			}
			jw.raw("\n[")
			jw.str(c.label)
			jw.raw(",")
			jw.strings(c.checks, false)
			jw.raw("]")
		}
		jw.raw("]")
	}
	jw.raw("],\n\"nb\":")
	jw.int(d.nBuckets)
	jw.raw(",\"np\":")
	jw.int(d.nPrincipals)
	jw.raw(",\n\"res\":[")
	for i, r := range d.res {
		if i > 0 {
			jw.raw(",")
		}
		jw.raw("\n[")
		jw.str(r.name)
		for _, v := range []int{r.arn, r.kind, r.region, r.role, r.account} {
			jw.raw(",")
			jw.int(v)
		}
		jw.raw("]")
	}
	jw.raw("],\n\"cells\":")
	jw.strings(d.cells, true)
	jw.raw(",\n\"f\":{")
	for i, col := range []struct {
		name string
		v    []int
	}{{"c", d.fCheck}, {"st", d.fStatus}, {"r", d.fRes}, {"m", d.fMsg}, {"ep", d.fPath}, {"ev", d.fValue}, {"x", d.fCmds}, {"fl", d.fFlags}} {
		if i > 0 {
			jw.raw(",")
		}
		jw.raw("\n")
		jw.str(col.name)
		jw.raw(":")
		jw.ints(col.v)
	}
	jw.raw("},\n\"w\":[")
	for i, wv := range d.waivers {
		if i > 0 {
			jw.raw(",")
		}
		jw.ints(wv[:])
	}
	jw.raw("],\n\"showPass\":")
	jw.raw(strconv.FormatBool(d.showPass))
	jw.raw(",\n\"notes\":{")
	for i, k := range sortedKeys(d.notes) {
		if i > 0 {
			jw.raw(",")
		}
		jw.str(k)
		jw.raw(":")
		jw.str(d.notes[k])
	}
	jw.raw("}}\n")
	return jw.err
}

// jsonWriter writes JSON by hand around encoding/json's string encoding, remembering the first
// error. Strings go through json.Marshal, which escapes <, > and & and replaces invalid UTF-8, so
// nothing in them can close the script element the document sits in.
type jsonWriter struct {
	w   *bufio.Writer
	err error
	num []byte
}

func (j *jsonWriter) raw(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
}

func (j *jsonWriter) str(s string) {
	if j.err != nil {
		return
	}
	b, err := json.Marshal(s)
	if err != nil {
		j.err = err
		return
	}
	_, j.err = j.w.Write(b)
}

func (j *jsonWriter) int(v int) {
	if j.err == nil {
		j.num = strconv.AppendInt(j.num[:0], int64(v), 10)
		_, j.err = j.w.Write(j.num)
	}
}

func (j *jsonWriter) ints(vs []int) {
	j.raw("[")
	for i, v := range vs {
		if i > 0 {
			j.raw(",")
		}
		j.int(v)
	}
	j.raw("]")
}

func (j *jsonWriter) strings(ss []string, lines bool) {
	j.raw("[")
	for i, s := range ss {
		if i > 0 {
			j.raw(",")
		}
		if lines {
			j.raw("\n")
		}
		j.str(s)
	}
	j.raw("]")
}
