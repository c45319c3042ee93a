package checks

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ReportSchemaVersion is the version of the JSON report contract (DESIGN §6).
const ReportSchemaVersion = "1"

// Severity orders findings; the zero value is invalid.
type Severity int

// Severities from least to most severe.
const (
	SeverityLow Severity = iota + 1
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = map[Severity]string{
	SeverityLow: "LOW", SeverityMedium: "MEDIUM", SeverityHigh: "HIGH", SeverityCritical: "CRITICAL",
}

// Severities lists every severity, most severe first (the order reports group by). It returns a
// new slice each time, so no caller can reorder it for the others.
func Severities() []Severity {
	return []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow}
}

// ParseSeverity accepts a severity name in any case.
func ParseSeverity(s string) (Severity, error) {
	for sev, name := range severityNames {
		if strings.EqualFold(s, name) {
			return sev, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want LOW, MEDIUM, HIGH or CRITICAL)", s)
}

func (s Severity) String() string {
	if name, ok := severityNames[s]; ok {
		return name
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// MarshalText writes the severity name.
func (s Severity) MarshalText() ([]byte, error) {
	if _, ok := severityNames[s]; !ok {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Status is the verdict on one (check, resource).
type Status string

// Statuses.
const (
	StatusPass   Status = "PASS"
	StatusFail   Status = "FAIL"
	StatusError  Status = "ERROR"
	StatusWaived Status = "WAIVED"
)

// FixClass says whether --fix may apply a remediation.
type FixClass string

// Fix classes (DESIGN §4).
const (
	FixAuto   FixClass = "auto"
	FixOptIn  FixClass = "opt-in"
	FixManual FixClass = "manual"
)

// Framework names used in rule metadata and reports.
const (
	FrameworkCIS      = "cis-aws-3.0.0"
	FrameworkFSBP     = "aws-fsbp"
	FrameworkWorkshop = "workshop"
)

// Rule is one check's metadata, read from its Rego METADATA.
type Rule struct {
	ID          string              `json:"id"`
	Title       string              `json:"title"`
	Description string              `json:"description"`
	Severity    Severity            `json:"severity"`
	Service     string              `json:"service"`
	AppliesTo   string              `json:"applies_to"`
	Frameworks  map[string][]string `json:"frameworks"`
	Remediation RuleRemediation     `json:"remediation"`
	// Requires lists the "service:Operation" reads whose failure makes this check ERROR.
	Requires []string `json:"requires"`
	// Matrix is the check's column in a posture matrix of the HTML report; nil when it has none
	// (its findings on buckets and principals then show under "Other checks").
	Matrix *MatrixColumn `json:"matrix,omitempty"`
	// Package is the Rego package path (e.g. data.coffer.s3.versioning).
	Package string `json:"package"`
	// Source is the file the rule came from ("embedded:..." for built-in rules).
	Source string `json:"source"`
}

// RuleRemediation is the remediation as written in metadata: command templates, not commands.
type RuleRemediation struct {
	Summary  string   `json:"summary"`
	Commands []string `json:"commands"`
	Fix      FixClass `json:"fix"`
	// Rewrites names the whole configuration the commands rewrite when other checks' commands
	// may rewrite it too (RewritesLifecycle, RewritesTrailSelectors); empty otherwise. The
	// commands of all failing checks that rewrite one configuration include each other's
	// changes, so they can run in any order.
	Rewrites string `json:"rewrites,omitempty"`
}

// Posture matrices of the HTML report (MatrixColumn.Table).
const (
	// MatrixBuckets has a row per bucket.
	MatrixBuckets = "buckets"
	// MatrixPrincipals has a row per IAM user, group, role and policy.
	MatrixPrincipals = "principals"
)

// MatrixColumn places a check in a posture matrix (METADATA custom.matrix). Checks that name the
// same table and column share it: a cell shows the worst status of their findings on the row's
// resource.
type MatrixColumn struct {
	// Table is MatrixBuckets or MatrixPrincipals.
	Table string `json:"table"`
	// Column is the column's header.
	Column string `json:"column"`
	// Order places the column and the check within it: a column comes at the smallest order of
	// its checks. 0 (not given) comes after every numbered column or check; ties go by header,
	// then by check id.
	Order int `json:"order,omitempty"`
}

// Resource identifies what a finding is about.
type Resource struct {
	ARN    string `json:"arn"`
	Type   string `json:"type"`
	Name   string `json:"name"`
	Region string `json:"region"`
	Role   string `json:"role,omitempty"`
	// AccountID is the account the resource is in: S3 ARNs name no account, and an organisation
	// report holds many.
	AccountID string `json:"account_id,omitempty"`
}

// Evidence points at the snapshot value that decided a finding.
type Evidence struct {
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// Remediation is a finding's remediation with the commands rendered for its resource.
type Remediation struct {
	Summary  string   `json:"summary"`
	Commands []string `json:"commands"`
	Fix      FixClass `json:"fix"`
}

// Waiver is an accepted risk from coffer.yaml.
type Waiver struct {
	CheckID  string `json:"check_id"`
	Resource string `json:"resource"`
	Reason   string `json:"reason"`
	Expires  string `json:"expires"`
}

// Finding is the verdict on one (check, resource). It flows unchanged from evaluation to every
// reporter and to the fixer.
type Finding struct {
	CheckID     string              `json:"check_id"`
	Title       string              `json:"title"`
	Severity    Severity            `json:"severity"`
	Status      Status              `json:"status"`
	Resource    Resource            `json:"resource"`
	Message     string              `json:"message"`
	Evidence    *Evidence           `json:"evidence"`
	Frameworks  map[string][]string `json:"frameworks"`
	Remediation Remediation         `json:"remediation"`
	Waiver      *Waiver             `json:"waiver"`
	// InBaseline marks a FAIL that the baseline report of `scan --baseline` already had (same
	// account, check id and resource ARN): it stays FAIL in every report but does not fail the gate (ApplyBaseline).
	InBaseline bool `json:"in_baseline,omitempty"`
	// NotApplicable marks a PASS because the check does not apply to the resource (DESIGN §4: MFA
	// Delete on a bucket with a lifecycle configuration): the check's note on it said
	// not_applicable: true (docs/writing-checks.md). The HTML report shows it as n/a and JUnit as
	// skipped. Not part of the JSON contract (DESIGN §6); the message says it in words.
	NotApplicable bool `json:"-"`
	// Vars are the values the Rego rule computed for this finding's remediation; the fixer uses
	// them. Not part of the JSON contract.
	Vars map[string]any `json:"-"`
}

// Summary counts findings.
type Summary struct {
	Pass       int            `json:"pass"`
	Fail       int            `json:"fail"`
	Error      int            `json:"error"`
	Waived     int            `json:"waived"`
	BySeverity map[string]int `json:"by_severity"`
}

// Tool names the program that wrote a report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Report is the result of one evaluation: the rules that ran and their findings, sorted by
// (check_id, resource ARN).
type Report struct {
	SchemaVersion string    `json:"schema_version"`
	Tool          Tool      `json:"tool"`
	AccountID     string    `json:"account_id"`
	Regions       []string  `json:"regions,omitempty"`
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	Summary       Summary   `json:"summary"`
	Rules         []Rule    `json:"-"`
	Findings      []Finding `json:"findings"`
	// Notices are things the user should know that are not findings (an expired waiver, a rule
	// that errored as a whole). Reporters show them; JSON carries them.
	Notices []string `json:"notices,omitempty"`
	// Accounts lists the accounts of an organisation report (several accounts), with their status
	// and summary; empty for the report of one account, whose AccountID says which.
	Accounts []AccountInfo `json:"accounts,omitempty"`
	// Baselined is set when ApplyBaseline compared the findings with a baseline report: every FAIL
	// is then known (InBaseline) or new, which SARIF states as each result's baselineState.
	Baselined bool `json:"-"`
}

// Summarize recomputes Summary from Findings. BySeverity counts FAIL findings.
func (r *Report) Summarize() {
	s := Summary{BySeverity: map[string]int{}}
	for _, f := range r.Findings {
		switch f.Status {
		case StatusPass:
			s.Pass++
		case StatusFail:
			s.Fail++
			s.BySeverity[f.Severity.String()]++
		case StatusError:
			s.Error++
		case StatusWaived:
			s.Waived++
		}
	}
	r.Summary = s
}

// ExitCode is the CI gate (DESIGN §5): 1 when a FAIL is at or above failOn, else 3 when a check at
// or above failOn could not be evaluated, else 0. Waived findings, and FAILs already in the
// baseline (InBaseline), never fail the gate.
func (r *Report) ExitCode(failOn Severity) int {
	sawError := false
	for _, f := range r.Findings {
		if f.Severity < failOn || f.InBaseline {
			continue
		}
		switch f.Status {
		case StatusFail:
			return 1
		case StatusError:
			sawError = true
		}
	}
	if sawError {
		return 3
	}
	return 0
}

// FindingKey identifies a finding across runs: the account, the check and the resource it is
// about. Baselines and diffs match findings by it. The account is part of it because an S3 ARN
// names none: in an organisation report two accounts' findings differ by account alone when one
// account's bucket was deleted and the name taken by another.
type FindingKey struct {
	AccountID string
	CheckID   string
	ARN       string
}

// Compare orders keys as reports list findings: by account, check, then resource ARN.
func (k FindingKey) Compare(o FindingKey) int {
	return cmp.Or(cmp.Compare(k.AccountID, o.AccountID), cmp.Compare(k.CheckID, o.CheckID), cmp.Compare(k.ARN, o.ARN))
}

// CompareFindings orders findings as reports list them (DESIGN §6): by account, check id,
// resource ARN, then status. The account comes first so that an organisation report reads account
// by account; in the report of one account every finding has the same.
func CompareFindings(a, b Finding) int {
	return cmp.Or(a.Key().Compare(b.Key()), cmp.Compare(a.Status, b.Status))
}

// Key returns the finding's FindingKey. A finding of a report written before resources carried
// account_id has no account in it: match findings of a report with (*Report).KeyOf, which gives
// them the report's.
func (f *Finding) Key() FindingKey {
	return FindingKey{AccountID: f.Resource.AccountID, CheckID: f.CheckID, ARN: f.Resource.ARN}
}

// KeyOf is the key of r's finding f: a finding that names no account (a report of one account
// written before resources carried account_id) is of the report's account_id, so that an old
// baseline or report still matches a new one finding for finding.
func (r *Report) KeyOf(f *Finding) FindingKey {
	k := f.Key()
	if k.AccountID == "" {
		k.AccountID = r.AccountID
	}
	return k
}

// ApplyBaseline marks every FAIL finding of r that is also a FAIL in base (same account, check id
// and resource ARN: KeyOf) as InBaseline and returns how many it marked. Marked findings keep their status,
// so every report still shows them, but ExitCode ignores them: a team can adopt coffer on an
// imperfect account and block only new drift.
//
// Only FAIL matches FAIL. A finding that was WAIVED in the baseline and FAIL now (its waiver
// expired or was removed) is new to the gate: the baseline does not stand in for a waiver, which
// needs a reason and an expiry. Waivers are applied by the engine before this, so a WAIVED finding
// stays WAIVED whatever the baseline says. A nil base marks nothing.
func (r *Report) ApplyBaseline(base *Report) int {
	if base == nil {
		return 0
	}
	r.Baselined = true
	known := make(map[FindingKey]bool, len(base.Findings))
	for i := range base.Findings {
		if base.Findings[i].Status == StatusFail {
			known[base.KeyOf(&base.Findings[i])] = true
		}
	}
	marked := 0
	for i := range r.Findings {
		f := &r.Findings[i]
		f.InBaseline = f.Status == StatusFail && known[r.KeyOf(f)]
		if f.InBaseline {
			marked++
		}
	}
	return marked
}

// RuleByID returns the rule with the given id.
func (r *Report) RuleByID(id string) (Rule, bool) {
	for _, rule := range r.Rules {
		if rule.ID == id {
			return rule, true
		}
	}
	return Rule{}, false
}

// MarshalJSON keeps the JSON contract's field order and an explicit empty findings list.
func (r *Report) MarshalJSON() ([]byte, error) {
	type plain Report
	cp := plain(*r)
	if cp.Findings == nil {
		cp.Findings = []Finding{}
	}
	// Messages and commands hold '<', '>' and '&' (placeholders, redirects); keep them readable.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cp); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
