package checks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

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
