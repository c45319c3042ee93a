package checks

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// DiffSchemaVersion is the version of the JSON written by `coffer diff --format json`.
const DiffSchemaVersion = "1"

// InputKind is what a file given to `coffer diff` holds.
type InputKind string

// Input kinds.
const (
	InputReport   InputKind = "report"
	InputSnapshot InputKind = "snapshot"
)

// DetectInput tells a JSON report (it has "findings") from a snapshot (it has "collected_at" or
// "s3") by content, so `coffer diff` needs no flag to say which is which.
func DetectInput(data []byte) (InputKind, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			line, col := LineCol(data, syntax.Offset)
			return "", fmt.Errorf("%d:%d: not JSON: %v", line, col, err)
		}
		return "", fmt.Errorf("not a JSON object: %v", err)
	}
	_, findings := probe["findings"]
	_, collected := probe["collected_at"]
	_, s3 := probe["s3"]
	switch {
	case findings && !collected && !s3:
		return InputReport, nil
	case (collected || s3) && !findings:
		return InputSnapshot, nil
	}
	return "", errors.New("neither a coffer JSON report (no findings) nor a snapshot (no collected_at or s3)")
}

// AccountMismatchError refuses to compare two different accounts: every finding would be "new".
type AccountMismatchError struct {
	Old, New string
}

func (e *AccountMismatchError) Error() string {
	return fmt.Sprintf("the two inputs are of different accounts (%s and %s); coffer diff compares one account over time", cmp.Or(e.Old, "unknown"), cmp.Or(e.New, "unknown"))
}

// DiffSide describes one input of a diff.
type DiffSide struct {
	File string    `json:"file"`
	Kind InputKind `json:"kind"`
	// Time is when the input was made: the report's finished_at, the snapshot's collected_at.
	Time time.Time `json:"time"`
}

// FindingChange is one (check, resource) whose status differs between the two inputs. An empty
// Before or After means the finding was not in that input (the resource appeared or went away, or
// the check did not apply).
type FindingChange struct {
	CheckID  string   `json:"check_id"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	Resource Resource `json:"resource"`
	Before   Status   `json:"before"`
	After    Status   `json:"after"`
	// Message is the newer input's message, or the older's when the finding is gone.
	Message string `json:"message"`
}

// DiffSummary counts a diff.
type DiffSummary struct {
	New       int `json:"new"`
	Resolved  int `json:"resolved"`
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
	Config    int `json:"config"`
}

// Diff is what drifted between two runs on one account.
type Diff struct {
	SchemaVersion string      `json:"schema_version"`
	AccountID     string      `json:"account_id"`
	Old           DiffSide    `json:"old"`
	New           DiffSide    `json:"new"`
	Summary       DiffSummary `json:"summary"`
	// NewFailures are FAIL now and were absent or not FAIL before.
	NewFailures []FindingChange `json:"new_failures"`
	// Resolved were FAIL before and are PASS or gone now.
	Resolved []FindingChange `json:"resolved"`
	// Changed are the other status changes (FAIL → ERROR or WAIVED, PASS → ERROR, ERROR → PASS…).
	// A finding that appears or goes away while passing is not listed: the configuration diff says
	// the resource was added or removed.
	Changed []FindingChange `json:"changed"`
	// Config is filled only when both inputs are snapshots.
	Config []ConfigChange `json:"config"`
}

// DiffReports compares the findings of two reports of the same account (or of two organisation
// reports), matched by account, check id and resource ARN (Report.KeyOf: a report written before
// resources carried account_id matches by its top-level account_id). Different accounts are an
// *AccountMismatchError.
func DiffReports(old, new *Report) (*Diff, error) {
	if old.AccountID != new.AccountID {
		return nil, &AccountMismatchError{Old: old.AccountID, New: new.AccountID}
	}
	d := &Diff{
		SchemaVersion: DiffSchemaVersion, AccountID: new.AccountID,
		NewFailures: []FindingChange{}, Resolved: []FindingChange{}, Changed: []FindingChange{}, Config: []ConfigChange{},
	}
	before := indexFindings(old)
	after := indexFindings(new)
	keys := make([]FindingKey, 0, len(before)+len(after))
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, FindingKey.Compare)
	for _, k := range keys {
		b, hadBefore := before[k]
		a, hasAfter := after[k]
		var was, is Status
		if hadBefore {
			was = b.Status
		}
		if hasAfter {
			is = a.Status
		}
		if was == is {
			d.Summary.Unchanged++
			continue
		}
		ref := a
		if !hasAfter {
			ref = b
		}
		fc := FindingChange{CheckID: k.CheckID, Title: ref.Title, Severity: ref.Severity, Resource: ref.Resource, Before: was, After: is, Message: ref.Message}
		fc.Resource.AccountID = k.AccountID // the report's, for a finding of an older report
		switch {
		case is == StatusFail:
			d.NewFailures = append(d.NewFailures, fc)
		case was == StatusFail && (is == StatusPass || is == ""):
			d.Resolved = append(d.Resolved, fc)
		case (was == "" && is == StatusPass) || (was == StatusPass && is == ""):
			// A compliant resource came or went: not a status change of anything that existed.
			d.Summary.Unchanged++
		default:
			d.Changed = append(d.Changed, fc)
		}
	}
	// Most severe first, as a person triages; then the report order.
	for _, list := range [][]FindingChange{d.NewFailures, d.Resolved, d.Changed} {
		slices.SortStableFunc(list, func(a, b FindingChange) int { return cmp.Compare(b.Severity, a.Severity) })
	}
	d.Summary.New, d.Summary.Resolved, d.Summary.Changed = len(d.NewFailures), len(d.Resolved), len(d.Changed)
	return d, nil
}

func indexFindings(r *Report) map[FindingKey]Finding {
	m := make(map[FindingKey]Finding, len(r.Findings))
	for i := range r.Findings {
		m[r.KeyOf(&r.Findings[i])] = r.Findings[i]
	}
	return m
}

// Key is the FindingKey of the changed finding.
func (c *FindingChange) Key() FindingKey {
	return FindingKey{AccountID: c.Resource.AccountID, CheckID: c.CheckID, ARN: c.Resource.ARN}
}

// ExitCode is the nightly gate: 1 when a new FAIL is at or above failOn, else 0. Resolved and
// changed findings never fail it (an ERROR that appeared shows in Changed, and `coffer scan`'s
// exit code 3 is the place to gate on it).
func (d *Diff) ExitCode(failOn Severity) int {
	for _, f := range d.NewFailures {
		if f.Severity >= failOn {
			return 1
		}
	}
	return 0
}

// SetConfig records the configuration changes (from DiffSnapshots) and counts them.
func (d *Diff) SetConfig(changes []ConfigChange) {
	if changes == nil {
		changes = []ConfigChange{}
	}
	d.Config = changes
	d.Summary.Config = len(changes)
}
