package checks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// FindingKey identifies a finding across runs: the check and the resource it is about. Baselines
// and diffs match findings by it (DESIGN §6 sorts by the same pair).
type FindingKey struct {
	CheckID string
	ARN     string
}

// Key returns the finding's FindingKey.
func (f *Finding) Key() FindingKey { return FindingKey{CheckID: f.CheckID, ARN: f.Resource.ARN} }

// ApplyBaseline marks every FAIL finding of r that is also a FAIL in base (same check id and
// resource ARN) as InBaseline and returns how many it marked. Marked findings keep their status,
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
			known[base.Findings[i].Key()] = true
		}
	}
	marked := 0
	for i := range r.Findings {
		f := &r.Findings[i]
		f.InBaseline = f.Status == StatusFail && known[f.Key()]
		if f.InBaseline {
			marked++
		}
	}
	return marked
}

// LoadReport reads a JSON report written by `coffer scan --format json`.
func LoadReport(file string) (*Report, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	return ParseReport(file, data)
}

// ParseReport decodes a JSON report. It is lenient about fields it does not know (a newer coffer
// may add some within schema version 1) but strict about what matching needs: the schema version,
// and a check id and resource ARN on every finding. Errors name the file and, for JSON errors, the
// line and column.
func ParseReport(file string, data []byte) (*Report, error) {
	var probe struct {
		SchemaVersion *string          `json:"schema_version"`
		Findings      *json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, snapshotJSONError(file, data, err)
	}
	if probe.SchemaVersion == nil || probe.Findings == nil {
		return nil, &SnapshotError{File: file, Msg: "not a coffer JSON report: no schema_version or findings"}
	}
	if *probe.SchemaVersion != ReportSchemaVersion {
		return nil, &SnapshotError{File: file, Msg: fmt.Sprintf("report schema_version %q is not supported (this coffer reads %q)", *probe.SchemaVersion, ReportSchemaVersion)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var r Report
	if err := dec.Decode(&r); err != nil {
		return nil, snapshotJSONError(file, data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line, col := LineCol(data, dec.InputOffset())
		return nil, &SnapshotError{File: file, Line: line, Column: col, Msg: "unexpected data after the report"}
	}
	for i, f := range r.Findings {
		if f.CheckID == "" || f.Resource.ARN == "" {
			return nil, &SnapshotError{File: file, Msg: fmt.Sprintf("findings[%d] has no check_id or resource.arn", i)}
		}
		switch f.Status {
		case StatusPass, StatusFail, StatusError, StatusWaived:
		default:
			return nil, &SnapshotError{File: file, Msg: fmt.Sprintf("findings[%d] (%s) has unknown status %q", i, f.CheckID, f.Status)}
		}
	}
	return &r, nil
}
