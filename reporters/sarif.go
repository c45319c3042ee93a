package reporters

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/coffer-audit/coffer/checks"
)

// GitHub code scanning limits (docs.github.com, "SARIF support for code scanning"). Write refuses
// a log beyond them instead of letting the upload fail or dropping results.
const (
	// MaxSARIFResults is the most results GitHub accepts in one run.
	MaxSARIFResults = 25000
	// MaxSARIFGzipBytes is the largest gzip-compressed SARIF file GitHub accepts (10 MB).
	MaxSARIFGzipBytes = 10 * 1000 * 1000
	// maxRuleTags is how many tags per rule GitHub keeps.
	maxRuleTags = 10
)

// ErrSARIFLimit is wrapped by the error SARIF.Write returns when a log exceeds GitHub's limits,
// so a caller can tell a log GitHub would refuse (split it: SplitSARIF, OutputFiles) from a failed
// write.
var ErrSARIFLimit = errors.New("beyond GitHub code scanning limits")

// SARIFResultsPerFile is how many results OutputFiles puts in one SARIF file: GitHub accepts 25,000
// results per run but shows only the 5,000 most severe, so a larger file would hide alerts.
const SARIFResultsPerFile = 5000

// InformationURI is the tool's home page in SARIF.
const InformationURI = "https://github.com/coffer-audit/coffer"

// FingerprintKey names coffer's partialFingerprints entry; bump its version only if the identity
// of a finding changes, since GitHub matches alerts between runs by it.
const FingerprintKey = "coffer/v1"

// securitySeverity is GitHub's security-severity score per severity (a string holding a number).
var securitySeverity = map[checks.Severity]string{
	checks.SeverityCritical: "9.5",
	checks.SeverityHigh:     "8.0",
	checks.SeverityMedium:   "5.5",
	checks.SeverityLow:      "2.0",
}

// frameworkTagPrefix turns a framework and control id into a rule tag: CIS-2.1.4, FSBP-S3.8, WS-6.2.
var frameworkTagPrefix = map[string]string{
	checks.FrameworkCIS:      "CIS",
	checks.FrameworkFSBP:     "FSBP",
	checks.FrameworkWorkshop: "WS",
}

// SARIF writes a SARIF 2.1.0 log for GitHub code scanning (DESIGN §7): one run with every rule,
// FAIL findings as results, ERROR findings, WAIVED findings and notices as tool execution
// notifications (level error, note and warning). PASS findings are not in the log; a fixed finding
// disappears and GitHub closes its alert.
//
// Waived findings are deliberately not results: GitHub code scanning does not honour SARIF
// result.suppressions by default and would show a suppressed result as an open alert, the
// opposite of the waiver. Leaving them out closes the alert; the waiver and its reason stay in
// the log as a note, and in the JSON, JUnit and Markdown reports.
type SARIF struct {
	Options Options
	// gzipLimit is the largest gzip-compressed log Write accepts; 0 means MaxSARIFGzipBytes.
	// Tests lower it rather than build a 10 MB log.
	gzipLimit int
}

// Write implements Reporter. It returns an error, and writes nothing, when the log exceeds
// GitHub's limits; use SplitSARIF to write several files.
func (s *SARIF) Write(w io.Writer, r *checks.Report) error {
	if r == nil {
		return errNilReport
	}
	runs := s.runsOf(r)
	for _, run := range runs {
		if n := run.results(); n > MaxSARIFResults {
			return fmt.Errorf("sarif: %d results exceed GitHub's limit of %d per run; split the report (reporters.SplitSARIF) and upload each part with its own category: %w",
				n, MaxSARIFResults, ErrSARIFLimit)
		}
	}
	texts, skeleton, err := s.encodeRuns(runs)
	if err != nil {
		return err
	}
	limit := cmp.Or(s.gzipLimit, MaxSARIFGzipBytes)
	// The size is measured on the way to nowhere, so nothing is written unless the log fits.
	if size, err := gzipSizeOf(func(w io.Writer) error { return texts.write(w, skeleton.Bytes()) }); err != nil {
		return fmt.Errorf("measure sarif: %w", err)
	} else if size > limit {
		return fmt.Errorf("sarif: %d bytes gzip-compressed exceed GitHub's upload limit of %d; split the report (reporters.SplitSARIF) and upload each part with its own category: %w",
			size, limit, ErrSARIFLimit)
	}
	return texts.write(w, skeleton.Bytes())
}

// sarifTexts keeps the long strings of a log (messages, ARNs and names, which hold values of the
// snapshot) out of the go-sarif model: the model gets a short placeholder instead, and write puts
// each string in its place while streaming the log out. encodeSARIF copies a log four times
// (marshal, decode, encode, indent): with a 1 MB bucket name in each result's message and
// location, the process peaked at 450 MB against 50 MB without it. A text is kept as its parts (a
// result message is the finding's message, ARN, summary and commands) so that it is not assembled
// in memory either. Short strings stay in the model.
type sarifTexts struct {
	list [][]string
}

// sarifTextMin is the length from which a string goes to sarifTexts; tests lower it.
var sarifTextMin = 1 << 10

const (
	// sarifPlaceholder starts a placeholder, "\x00coffer-text:<index>\x00", and sarifPlaceholderJSON
	// and sarifPlaceholderEnd delimit it in the encoded log. A NUL keeps it apart from any text
	// a rule would hold, and placedOnce checks that it is.
	sarifPlaceholder     = "\x00coffer-text:"
	sarifPlaceholderJSON = `"\u0000coffer-text:`
	sarifPlaceholderEnd  = `\u0000"`
)

// ref returns s, or a placeholder for it when it is long. A nil *sarifTexts keeps every string.
func (t *sarifTexts) ref(s string) string {
	return t.join(s)
}

// join returns the concatenation of parts, or a placeholder for it when it is long. Parts that
// are not literals must be separated by ASCII literals: each part is JSON-encoded on its own, which
// is the encoding of the whole only when no UTF-8 sequence spans two parts.
func (t *sarifTexts) join(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if t == nil || n < sarifTextMin {
		return strings.Join(parts, "")
	}
	t.list = append(t.list, parts)
	return sarifPlaceholder + strconv.Itoa(len(t.list)-1) + "\x00"
}

// placedOnce reports whether the encoded log holds each placeholder exactly once and nothing else
// that looks like one.
func (t *sarifTexts) placedOnce(log []byte) bool {
	seen := make([]bool, len(t.list))
	n := 0
	for {
		i := bytes.Index(log, []byte(sarifPlaceholderJSON))
		if i < 0 {
			return n == len(t.list)
		}
		log = log[i+len(sarifPlaceholderJSON):]
		j := bytes.Index(log, []byte(sarifPlaceholderEnd))
		if j < 0 {
			return false
		}
		k, err := strconv.Atoi(string(log[:j]))
		if err != nil || k < 0 || k >= len(seen) || seen[k] {
			return false
		}
		seen[k] = true
		n++
		log = log[j+len(sarifPlaceholderEnd):]
	}
}

// write writes the encoded log to w with each placeholder replaced by its text, encoded as the rest
// of the log is (no HTML escaping).
func (t *sarifTexts) write(w io.Writer, log []byte) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var part bytes.Buffer
	enc := json.NewEncoder(&part)
	enc.SetEscapeHTML(false)
	for t != nil && len(t.list) > 0 {
		i := bytes.Index(log, []byte(sarifPlaceholderJSON))
		if i < 0 {
			break
		}
		bw.Write(log[:i])
		log = log[i+len(sarifPlaceholderJSON):]
		j := bytes.Index(log, []byte(sarifPlaceholderEnd))
		k, _ := strconv.Atoi(string(log[:j])) // placedOnce checked the placeholders
		bw.WriteByte('"')
		for _, p := range t.list[k] {
			part.Reset()
			if err := enc.Encode(p); err != nil {
				return err
			}
			bw.Write(part.Bytes()[1 : part.Len()-2]) // without the quotes and the newline
		}
		bw.WriteByte('"')
		log = log[j+len(sarifPlaceholderEnd):]
	}
	bw.Write(log)
	return bw.Flush()
}

// encodeSARIF marshals the log with go-sarif, then drops the properties go-sarif writes with
// their SARIF default values (index -1, empty arrays, default newline sequences…): they carry no
// information, make the multitool warn (SARIF2004) and count against GitHub's size limit.
func encodeSARIF(log *sarif.Report) (*bytes.Buffer, error) {
	var raw bytes.Buffer
	if err := log.Write(&raw); err != nil {
		return nil, fmt.Errorf("encode sarif: %w", err)
	}
	dec := json.NewDecoder(&raw)
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("encode sarif: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(pruneSARIFDefaults(doc)); err != nil {
		return nil, fmt.Errorf("encode sarif: %w", err)
	}
	return &buf, nil
}

// sarifDefaults are properties whose value is the SARIF 2.1.0 default, so leaving them out says
// the same thing.
var sarifDefaults = map[string]string{
	"index": "-1", "parentIndex": "-1", "id": "-1", "byteOffset": "-1", "charOffset": "-1",
	"rank": "-1", "ruleIndex": "-1", "length": "-1", "language": `"en-US"`, "isComprehensive": "false",
	"newlineSequences": `["\r\n","\n"]`, "contents": `["localizedData","nonLocalizedData"]`,
}

func pruneSARIFDefaults(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			child = pruneSARIFDefaults(child)
			v[k] = child
			// GitHub requires run.results and driver.rules even when empty (GH1014, GH1018); every
			// other empty list or object is noise.
			if k == "results" || k == "rules" {
				continue
			}
			switch c := child.(type) {
			case []any:
				if len(c) == 0 {
					delete(v, k)
					continue
				}
			case map[string]any:
				if len(c) == 0 {
					delete(v, k)
					continue
				}
			}
			if def, ok := sarifDefaults[k]; ok {
				if b, err := json.Marshal(child); err == nil && string(b) == def {
					delete(v, k)
				}
			}
		}
		return v
	case []any:
		for i := range v {
			v[i] = pruneSARIFDefaults(v[i])
		}
		return v
	default:
		return v
	}
}

// sarifRun is one run of a log: the findings of one account (or a part of them) under one
// automation category, or an organisation's run of notices.
type sarifRun struct {
	report   *checks.Report
	category string
	// times says whether the run's invocation carries the report's start and end: an account's
	// run in an organisation's log does not, so that a log written account by account
	// (NewStream) is the same as one written whole.
	times bool
	// org makes the organisation's run: no rules or results, the notices and the accounts not
	// scanned, under automation id coffer/organisation/<category>/.
	org bool
}

// results is how many results the run has (its FAIL findings).
func (run sarifRun) results() int {
	if run.org {
		return 0
	}
	n := 0
	for i := range run.report.Findings {
		if run.report.Findings[i].Status == checks.StatusFail {
			n++
		}
	}
	return n
}

// runsOf is what a report's log holds: the report of one account is one run; an organisation's
// is a run per account that has findings (parts of at most SARIFResultsPerFile results, so
// GitHub shows every alert) and, when there are notices or accounts that were not scanned, an
// organisation run saying so.
func (s *SARIF) runsOf(r *checks.Report) []sarifRun {
	if len(r.Accounts) == 0 {
		return []sarifRun{{report: r, category: s.Options.Category, times: true}}
	}
	var runs []sarifRun
	fs := sortedFindings(r)
	for _, sec := range accountSections(r, shownFindings(fs, true)) {
		if len(sec.findings) == 0 {
			continue
		}
		runs = append(runs, s.accountRuns(accountReport(r, sec))...)
	}
	if org := orgRun(r, s.Options.Category); org != nil && !s.Options.orgRunElsewhere {
		runs = append(runs, *org)
	}
	return runs
}

// accountReport is the report of one account of an organisation report, without notices (they go
// to the organisation run).
func accountReport(r *checks.Report, sec accountSection) *checks.Report {
	cp := *r
	cp.AccountID = sec.info.ID
	cp.Accounts, cp.Notices = nil, nil
	cp.Findings = make([]checks.Finding, len(sec.findings))
	for i, f := range sec.findings {
		cp.Findings[i] = *f
	}
	cp.Summarize()
	return &cp
}

// accountRuns are the runs of one account's report in an organisation's log.
func (s *SARIF) accountRuns(r *checks.Report) []sarifRun {
	parts := SplitSARIF(r, SARIFResultsPerFile)
	runs := make([]sarifRun, len(parts))
	for i, part := range parts {
		cat := s.Options.Category
		if len(parts) > 1 {
			cat = strings.Trim(cat+"/"+fmt.Sprintf("part-%d", i+1), "/")
		}
		runs[i] = sarifRun{report: part, category: cat}
	}
	return runs
}

// orgRun is the organisation run of r (notices, accounts not scanned), nil when it has nothing to
// say.
func orgRun(r *checks.Report, category string) *sarifRun {
	notScanned := slices.ContainsFunc(r.Accounts, func(a checks.AccountInfo) bool { return a.Status != checks.AccountScanned })
	if len(r.Notices) == 0 && !notScanned {
		return nil
	}
	return &sarifRun{report: r, category: category, times: true, org: true}
}

// encodeRuns encodes a log of runs with its long strings kept apart (sarifTexts), or in place
// when a string of the log looks like one of their placeholders.
func (s *SARIF) encodeRuns(runs []sarifRun) (*sarifTexts, *bytes.Buffer, error) {
	texts := &sarifTexts{}
	skeleton, err := encodeSARIF(s.buildLog(runs, texts))
	if err != nil {
		return nil, nil, err
	}
	if !texts.placedOnce(skeleton.Bytes()) {
		// Some other string of the log looks like a placeholder (a rule text could, in theory):
		// encode everything in place instead.
		texts = nil
		if skeleton, err = encodeSARIF(s.buildLog(runs, nil)); err != nil {
			return nil, nil, err
		}
	}
	return texts, skeleton, nil
}

func (s *SARIF) buildLog(runs []sarifRun, texts *sarifTexts) *sarif.Report {
	log := sarif.NewReport()
	for _, run := range runs {
		if run.org {
			log.AddRun(buildOrgRun(run, texts))
		} else {
			log.AddRun(buildRun(run, texts))
		}
	}
	return log
}

// buildRun makes the go-sarif model of a run, with the long strings in texts (see sarifTexts).
func buildRun(sr sarifRun, texts *sarifTexts) *sarif.Run {
	r := sr.report
	rules := sortedRules(r)
	ruleIndex := make(map[string]int, len(rules))
	byID := make(map[string]checks.Rule, len(rules))

	run := sarif.NewRunWithInformationURI("coffer", InformationURI)
	run.Tool.Driver.WithVersion(cmp.Or(r.Tool.Version, "unknown"))
	for i, rule := range rules {
		ruleIndex[rule.ID] = i
		byID[rule.ID] = rule
		run.Tool.Driver.AddRule(sarifRule(rule))
	}
	run.WithAutomationDetails(sarif.NewRunAutomationDetails().WithID(automationID(r.AccountID, sr.category)))

	inv := sarif.NewInvocation().WithExecutionSuccessful(true)
	if sr.times && !r.StartedAt.IsZero() {
		inv.WithStartTimeUtc(r.StartedAt.UTC().Format(time.RFC3339))
	}
	if sr.times && !r.FinishedAt.IsZero() {
		inv.WithEndTimeUtc(r.FinishedAt.UTC().Format(time.RFC3339))
	}

	for _, f := range sortedFindings(r) {
		switch f.Status {
		case checks.StatusFail:
			run.AddResult(sarifResult(r, f, byID[f.CheckID], ruleIndex[f.CheckID], texts))
		case checks.StatusWaived:
			inv.AddToolExecutionNotification(sarif.NewNotification().
				WithLevel(sarif.LevelNote).
				WithMessage(sarif.NewTextMessage(texts.join(
					f.CheckID, " is waived for ", clipProse(cmp.Or(f.Resource.ARN, f.Resource.Name)), ": ", clipProse(waiverText(f.Waiver))))).
				WithAssociatedRule(sarif.NewReportingDescriptorReference().
					WithID(f.CheckID).WithIndex(ruleIndex[f.CheckID])))
		case checks.StatusError:
			note := sarif.NewNotification().
				WithLevel(sarif.LevelError).
				WithMessage(sarif.NewTextMessage(texts.join(
					f.CheckID, " could not be evaluated for ", clipProse(cmp.Or(f.Resource.ARN, f.Resource.Name)), ": ", clipProse(f.Message)))).
				WithAssociatedRule(sarif.NewReportingDescriptorReference().
					WithID(f.CheckID).WithIndex(ruleIndex[f.CheckID]))
			inv.AddToolExecutionNotification(note)
		}
	}
	for _, notice := range r.Notices {
		inv.AddToolExecutionNotification(sarif.NewNotification().
			WithLevel(sarif.LevelWarning).WithMessage(sarif.NewTextMessage(texts.ref(clipProse(notice)))))
	}
	run.AddInvocation(inv)
	return run
}

// buildOrgRun makes the organisation run: no rules and no results (its category never has any,
// so uploading it closes no alert), the organisation's notices and a notification for each
// account that was not scanned.
func buildOrgRun(sr sarifRun, texts *sarifTexts) *sarif.Run {
	r := sr.report
	run := sarif.NewRunWithInformationURI("coffer", InformationURI)
	run.Tool.Driver.WithVersion(cmp.Or(r.Tool.Version, "unknown"))
	run.WithAutomationDetails(sarif.NewRunAutomationDetails().WithID(automationID("organisation", sr.category)))
	inv := sarif.NewInvocation().WithExecutionSuccessful(true)
	if !r.StartedAt.IsZero() {
		inv.WithStartTimeUtc(r.StartedAt.UTC().Format(time.RFC3339))
	}
	if !r.FinishedAt.IsZero() {
		inv.WithEndTimeUtc(r.FinishedAt.UTC().Format(time.RFC3339))
	}
	for _, a := range r.Accounts {
		if a.Status == checks.AccountScanned {
			continue
		}
		level := sarif.LevelError
		if a.Status == checks.AccountSkipped {
			level = sarif.LevelNote
		}
		msg := "Account " + a.ID
		if a.Name != "" {
			msg += " (" + a.Name + ")"
		}
		msg += " was not scanned (" + a.Status + ")"
		if a.Error != "" {
			msg += ": " + a.Error
		}
		inv.AddToolExecutionNotification(sarif.NewNotification().WithLevel(level).WithMessage(sarif.NewTextMessage(texts.ref(clipProse(msg)))))
	}
	for _, notice := range r.Notices {
		inv.AddToolExecutionNotification(sarif.NewNotification().
			WithLevel(sarif.LevelWarning).WithMessage(sarif.NewTextMessage(texts.ref(clipProse(notice)))))
	}
	run.AddInvocation(inv)
	return run
}

func sarifRule(rule checks.Rule) *sarif.ReportingDescriptor {
	d := sarif.NewRule(rule.ID).
		WithName(pascalCase(rule.ID)).
		WithShortDescription(sarif.NewMultiformatMessageString().WithText(cmp.Or(rule.Title, rule.ID))).
		WithFullDescription(sarif.NewMultiformatMessageString().WithText(cmp.Or(rule.Description, rule.Title, rule.ID))).
		WithHelp(sarif.NewMultiformatMessageString().
			WithText(ruleHelpText(rule)).
			WithMarkdown(ruleHelpMarkdown(rule))).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(rule.Severity)))
	props := sarif.NewPropertyBag()
	if sev, ok := securitySeverity[rule.Severity]; ok {
		props.Add("security-severity", sev)
	}
	props.Add("precision", "very-high")
	props.WithTags(ruleTags(rule))
	d.WithProperties(props)
	return d
}

// ruleTags are "security", the service and one tag per framework control, at most maxRuleTags.
func ruleTags(rule checks.Rule) []string {
	tags := []string{"security"}
	if rule.Service != "" {
		tags = append(tags, rule.Service)
	}
	for _, fw := range frameworkNames(rule.Frameworks) {
		prefix := cmp.Or(frameworkTagPrefix[fw], fw)
		for _, id := range rule.Frameworks[fw] {
			tags = append(tags, prefix+"-"+id)
		}
	}
	tags = slices.Compact(tags)
	if len(tags) > maxRuleTags {
		tags = tags[:maxRuleTags]
	}
	return tags
}

func ruleHelpText(rule checks.Rule) string {
	var b strings.Builder
	b.WriteString(cmp.Or(rule.Description, rule.Title))
	if fws := frameworkList(rule.Frameworks); fws != "" {
		b.WriteString("\n\nFrameworks: " + fws)
	}
	if rule.Remediation.Summary != "" || len(rule.Remediation.Commands) > 0 {
		fmt.Fprintf(&b, "\n\nRemediation (fix: %s): %s", cmp.Or(string(rule.Remediation.Fix), "manual"), rule.Remediation.Summary)
		for _, c := range rule.Remediation.Commands {
			b.WriteString("\n  " + c)
		}
	}
	return b.String()
}

func ruleHelpMarkdown(rule checks.Rule) string {
	var b strings.Builder
	b.WriteString(mdText(cmp.Or(rule.Description, rule.Title)))
	if fws := frameworkList(rule.Frameworks); fws != "" {
		b.WriteString("\n\n**Frameworks:** " + mdText(fws))
	}
	if rule.AppliesTo != "" {
		b.WriteString("\n\n**Applies to:** " + mdText(rule.AppliesTo))
	}
	if rule.Remediation.Summary != "" || len(rule.Remediation.Commands) > 0 {
		fmt.Fprintf(&b, "\n\n**Remediation** (fix: %s): %s", cmp.Or(string(rule.Remediation.Fix), "manual"),
			mdText(rule.Remediation.Summary))
		if len(rule.Remediation.Commands) > 0 {
			b.WriteString("\n\n" + mdCodeBlock("sh", strings.Join(rule.Remediation.Commands, "\n")))
		}
	}
	return b.String()
}

// frameworkList is "cis-aws-3.0.0 2.1.4; aws-fsbp S3.8, S3.9".
func frameworkList(fw map[string][]string) string {
	var parts []string
	for _, name := range frameworkNames(fw) {
		if ids := fw[name]; len(ids) > 0 {
			parts = append(parts, name+" "+strings.Join(ids, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

func sarifResult(r *checks.Report, f checks.Finding, rule checks.Rule, ruleIndex int, texts *sarifTexts) *sarif.Result {
	arn := cmp.Or(f.Resource.ARN, f.Resource.Name)
	// The message is the text GitHub shows people on the alert, so its values are cut for display
	// as in the table (clipProse, clipCommands); what programs match on, the fingerprint and the
	// logical location (ARN and name), keeps them whole. Its parts are joined by texts.join
	// (every two values have a literal between them).
	msg := []string{clipProse(f.Message), "\nResource: ", clipProse(arn)}
	if f.Resource.Role != "" {
		msg = append(msg, " (role ", clipProse(f.Resource.Role), ")")
	}
	if f.Remediation.Summary != "" {
		msg = append(msg, "\nRemediation (fix: ", cmp.Or(string(f.Remediation.Fix), "manual"), "): ", clipProse(f.Remediation.Summary))
	}
	cmds, shortened := clipCommands(f.Remediation.Commands)
	for _, c := range cmds {
		msg = append(msg, "\n  ", c)
	}
	if shortened {
		msg = append(msg, "\n  (", shortenedNote, ")")
	}

	logical := sarif.NewLogicalLocation().
		WithFullyQualifiedName(texts.ref(arn)).
		WithName(texts.ref(cmp.Or(f.Resource.Name, arn))).
		WithKind("resource")
	loc := sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
		WithArtifactLocation(sarif.NewSimpleArtifactLocation(texts.ref(artifactURI(r.AccountID, rule.Service, f.Resource)))).
		WithRegion(sarif.NewRegion().WithStartLine(1).WithStartColumn(1))).
		WithLogicalLocations([]*sarif.LogicalLocation{logical})

	res := sarif.NewRuleResult(f.CheckID).
		WithRuleIndex(ruleIndex).
		WithLevel(sarifLevel(f.Severity)).
		WithMessage(sarif.NewTextMessage(texts.join(msg...))).
		WithLocations([]*sarif.Location{loc}).
		WithPartialFingerprints(map[string]string{FingerprintKey: Fingerprint(f.CheckID, f.Resource.ARN)})
	if r.Baselined {
		// Results are FAIL findings only, so each one is either in the baseline or new.
		res.WithBaselineState(map[bool]string{true: "unchanged", false: "new"}[f.InBaseline])
	}
	return res
}

// Fingerprint is the stable identity of a finding across runs: hex SHA-256 of "check_id|arn".
func Fingerprint(checkID, arn string) string {
	h := sha256.New()
	// Written in parts: the ARN can be long, and a concatenation would copy it.
	io.WriteString(h, checkID)
	io.WriteString(h, "|")
	io.WriteString(h, arn)
	return hex.EncodeToString(h.Sum(nil))
}

func sarifLevel(sev checks.Severity) string {
	switch sev {
	case checks.SeverityCritical, checks.SeverityHigh:
		return sarif.LevelError
	case checks.SeverityMedium:
		return sarif.LevelWarning
	default:
		return sarif.LevelNote
	}
}

// automationID is "coffer/<account>/" or "coffer/<account>/<category>/". GitHub takes everything
// up to the last slash as the analysis category, so the trailing slash makes each category (a
// region, a part of a split) a category of its own rather than a run id inside the account's.
func automationID(account, category string) string {
	id := "coffer/" + uriSegment(cmp.Or(account, "unknown-account")) + "/"
	for _, seg := range strings.Split(category, "/") {
		if seg = strings.TrimSpace(seg); seg != "" {
			id += uriSegment(seg) + "/"
		}
	}
	return id
}

// artifactURI is the scheme-less location aws/<account>/<region>/<service>/<name>. GitHub rejects
// URIs with a scheme, and an ARN ("arn:aws:...") would parse as one, so the ARN never goes here.
func artifactURI(account, service string, res checks.Resource) string {
	arnService, arnRegion, arnAccount, arnResource := splitARN(res.ARN)
	name := cmp.Or(res.Name, arnResource, "resource")
	return strings.Join([]string{
		"aws",
		uriSegment(cmp.Or(account, arnAccount, "unknown-account")),
		uriSegment(cmp.Or(res.Region, arnRegion, "global")),
		uriSegment(cmp.Or(service, arnService, "aws")),
		uriSegment(name),
	}, "/")
}

// splitARN returns the service, region, account and resource parts of an ARN (empty when absent).
func splitARN(arn string) (service, region, account, resource string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", "", "", ""
	}
	return parts[2], parts[3], parts[4], parts[5]
}

// maxURISegment bounds a segment of an artifact URI, which GitHub shows as the alert's file path.
// A longer segment keeps its start and ends with a hash of the whole value, so it stays distinct.
const maxURISegment = 128

// uriSegment keeps RFC 3986 unreserved characters and replaces everything else (slashes, colons,
// '@', '+', spaces, non-ASCII) with '_', so a name is exactly one safe path segment, of at most
// maxURISegment characters. The exact name stays in the logical location.
func uriSegment(s string) string {
	if len(s) > maxURISegment {
		sum := sha256.Sum256([]byte(s))
		return uriSegment(s[:maxURISegment-17]) + "-" + hex.EncodeToString(sum[:8])
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			c = '_'
		}
		b.WriteByte(c)
	}
	seg := b.String()
	if seg == "" || seg == "." || seg == ".." {
		seg = strings.Repeat("_", max(1, len(seg)))
	}
	return seg
}

// pascalCase turns a rule id into the SARIF rule name: s3-bucket-versioning → S3BucketVersioning.
func pascalCase(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func gzipSize(b []byte) (int, error) {
	return gzipSizeOf(func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// gzipSizeOf returns the gzip-compressed size of what write writes.
func gzipSizeOf(write func(io.Writer) error) (int, error) {
	var n countingWriter
	zw := gzip.NewWriter(&n)
	if err := write(zw); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return int(n), nil
}

type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// SplitSARIF splits a report into parts of at most maxResults SARIF results (FAIL findings) each,
// so a very large account can be uploaded as several SARIF files; maxResults <= 0 means
// MaxSARIFResults. (GitHub accepts 25,000 results per run but displays only the 5,000 most severe,
// so 5000 is the value to pass to see every alert.) Whole checks are packed together in check-id
// order and a check larger than a part is cut by resource ARN, so a finding stays in the same part
// from one night to the next as long as the counts do not shift. Every part keeps all rules;
// ERROR and WAIVED findings and notices go with the first part; PASS findings are dropped (SARIF
// does not show them). Upload each part with its own category, e.g. Options.Category "part-1",
// "part-2": GitHub replaces earlier uploads of the same category. A report that fits is returned
// unchanged as the only part.
func SplitSARIF(r *checks.Report, maxResults int) []*checks.Report {
	if maxResults <= 0 {
		maxResults = MaxSARIFResults
	}
	fs := sortedFindings(r)
	var results, rest []checks.Finding
	for _, f := range fs {
		switch f.Status {
		case checks.StatusFail:
			results = append(results, f)
		case checks.StatusError, checks.StatusWaived:
			rest = append(rest, f)
		}
	}
	if len(results) <= maxResults {
		return []*checks.Report{r}
	}

	// Group by check; pack groups greedily; cut groups that alone exceed a part.
	var parts [][]checks.Finding
	var cur []checks.Finding
	for i := 0; i < len(results); {
		j := i
		for j < len(results) && results[j].CheckID == results[i].CheckID {
			j++
		}
		group := results[i:j]
		i = j
		if len(cur)+len(group) > maxResults && len(cur) > 0 {
			parts = append(parts, cur)
			cur = nil
		}
		for len(group) > maxResults {
			parts = append(parts, group[:maxResults:maxResults])
			group = group[maxResults:]
		}
		cur = append(cur, group...)
	}
	if len(cur) > 0 {
		parts = append(parts, cur)
	}

	out := make([]*checks.Report, len(parts))
	for i, p := range parts {
		cp := *r
		cp.Findings = slices.Clone(p)
		cp.Notices = nil
		if i == 0 {
			cp.Findings = append(cp.Findings, rest...)
			slices.SortStableFunc(cp.Findings, compareFindings)
			cp.Notices = slices.Clone(r.Notices)
		}
		cp.Summarize()
		out[i] = &cp
	}
	return out
}

// sarifFiles splits a SARIF log asked for at path when its results do not fit in
// SARIFResultsPerFile: into NAME.part-N.sarif, NAME being path without ".sarif", each with the
// automation category opts.Category + "/part-N" (GitHub replaces an earlier upload of the same
// category, so parts sharing one would replace each other). A log that fits is path itself.
func sarifFiles(path string, r *checks.Report, opts Options) []OutputFile {
	if len(r.Accounts) > 0 {
		return sarifOrgFiles(path, r, opts)
	}
	parts := SplitSARIF(r, SARIFResultsPerFile)
	if len(parts) == 1 {
		return []OutputFile{{Path: path, Report: r, Options: opts}}
	}
	files := make([]OutputFile, len(parts))
	for i, part := range parts {
		po := opts
		po.Category = strings.Trim(opts.Category+"/"+fmt.Sprintf("part-%d", i+1), "/")
		files[i] = OutputFile{Path: sarifPartPath(path, i+1), Report: part, Options: po}
	}
	return files
}

// sarifPartPath is the path of part i (from 1) of the SARIF log asked for at path:
// NAME.part-i.sarif, NAME being path without ".sarif".
func sarifPartPath(path string, i int) string {
	return fmt.Sprintf("%s.part-%d.sarif", strings.TrimSuffix(path, ".sarif"), i)
}

// MaxSARIFRuns is the most runs GitHub accepts in one SARIF file.
const MaxSARIFRuns = 20

// sarifOrgFiles splits an organisation's SARIF log, a run per account (and parts of accounts
// beyond SARIFResultsPerFile results), into NAME.part-N.sarif files of at most MaxSARIFRuns runs.
// An account's runs are never spread over files, and keep their automation category wherever
// they are, so that GitHub keeps each account's alerts across nights however the files fall. The
// organisation run (notices, accounts not scanned) is in the first file only (SARIFFiles, which
// writes the same split account by account, puts it in the last).
func sarifOrgFiles(path string, r *checks.Report, opts Options) []OutputFile {
	s := &SARIF{Options: opts}
	limit := MaxSARIFRuns
	if orgRun(r, "") != nil {
		limit--
	}
	var files [][]accountSection
	var cur []accountSection
	n := 0
	for _, sec := range accountSections(r, shownFindings(sortedFindings(r), true)) {
		if len(sec.findings) == 0 {
			continue
		}
		k := len(s.accountRuns(accountReport(r, sec)))
		if n+k > limit && len(cur) > 0 {
			files = append(files, cur)
			cur, n, limit = nil, 0, MaxSARIFRuns
		}
		cur = append(cur, sec)
		n += k
	}
	files = append(files, cur)
	if len(files) == 1 {
		return []OutputFile{{Path: path, Report: r, Options: opts}}
	}
	out := make([]OutputFile, len(files))
	for i, secs := range files {
		cp := *r
		cp.Findings = nil
		for _, sec := range secs {
			for _, f := range sec.findings {
				cp.Findings = append(cp.Findings, *f)
			}
		}
		po := opts
		if i > 0 {
			cp.Notices = nil
			po.orgRunElsewhere = true
		}
		cp.Summarize()
		out[i] = OutputFile{Path: sarifPartPath(path, i+1), Report: &cp, Options: po}
	}
	return out
}

// frameworkNames lists the frameworks of fw: CIS, FSBP and the workshop first, then others sorted.
func frameworkNames(fw map[string][]string) []string {
	var names []string
	for _, known := range []string{checks.FrameworkCIS, checks.FrameworkFSBP, checks.FrameworkWorkshop} {
		if _, ok := fw[known]; ok {
			names = append(names, known)
		}
	}
	var others []string
	for k := range fw {
		if _, known := frameworkTagPrefix[k]; !known {
			others = append(others, k)
		}
	}
	slices.Sort(others)
	return append(names, others...)
}
