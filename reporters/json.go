package reporters

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/coffer-audit/coffer/checks"
)

// JSON writes the report contract of DESIGN §6 (schema in docs/report.schema.json): every
// finding, whatever its status, sorted by (check_id, resource ARN), indented by two spaces.
type JSON struct{}

// Write implements Reporter.
func (JSON) Write(w io.Writer, r *checks.Report) error {
	if r == nil {
		return errNilReport
	}
	// Work on a shallow copy: sorted findings, a summary that matches them, and empty lists
	// instead of null so consumers can iterate without checks. The caller's report is untouched.
	cp := *r
	cp.Findings = sortedFindings(r)
	for i := range cp.Findings {
		f := &cp.Findings[i]
		f.Frameworks = nonNilFrameworks(f.Frameworks)
		if f.Remediation.Commands == nil {
			f.Remediation.Commands = []string{}
		}
	}
	cp.Summarize()
	// Messages and commands hold '<', '>' and '&' (placeholders, redirects); the report is not
	// embedded in HTML, so keep them readable instead of \u003c escapes.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&cp); err != nil {
		return fmt.Errorf("encode json report: %w", err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// nonNilFrameworks returns fw, or a copy of it without null lists, or an empty map for nil. The
// finding's own map is shared with the caller, so it is never modified in place.
func nonNilFrameworks(fw map[string][]string) map[string][]string {
	if fw == nil {
		return map[string][]string{}
	}
	for _, ids := range fw {
		if ids == nil {
			out := make(map[string][]string, len(fw))
			for k, v := range fw {
				if v == nil {
					v = []string{}
				}
				out[k] = v
			}
			return out
		}
	}
	return fw
}
