package reporters

import (
	"bufio"
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
	cp.Summarize()
	findings := cp.Findings
	cp.Findings = nil

	// The envelope is encoded with an empty findings list, and the findings are then streamed into
	// it one by one: a large account's report (130 MB for 10,000 buckets) is never held in memory
	// twice, as encoding and indenting it whole did. The bytes are the same as a whole encoding.
	var envelope bytes.Buffer
	if err := encodeIndented(&envelope, &cp, ""); err != nil {
		return fmt.Errorf("encode json report: %w", err)
	}
	head, tail, ok := bytes.Cut(envelope.Bytes(), []byte(`"findings": []`))
	if !ok {
		return fmt.Errorf("encode json report: no findings list in the envelope")
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(head)
	bw.WriteString(`"findings": [`)
	// Each finding is encoded compactly and indented on its way to bw (indentWriter): with the
	// encoder's own indentation, a finding was held twice more, compact and indented, which for a
	// finding carrying a long resource name five times is tens of megabytes.
	enc := newFindingEncoder(bw)
	for i := range findings {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		if err := encodeFinding(enc, findings[i]); err != nil {
			return err
		}
	}
	if len(findings) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteByte(']')
	bw.Write(tail)
	return bw.Flush()
}

// newFindingEncoder encodes findings as the elements of the report's findings list, indented
// on their way to bw (indentWriter).
func newFindingEncoder(bw *bufio.Writer) *json.Encoder {
	enc := json.NewEncoder(&indentWriter{w: bw, prefix: "    ", indent: "  "})
	enc.SetEscapeHTML(false)
	return enc
}

// encodeFinding writes one finding with empty lists and maps instead of null, as the contract
// says.
func encodeFinding(enc *json.Encoder, f checks.Finding) error {
	f.Frameworks = nonNilFrameworks(f.Frameworks)
	if f.Remediation.Commands == nil {
		f.Remediation.Commands = []string{}
	}
	if err := enc.Encode(&f); err != nil {
		return fmt.Errorf("encode finding %s on %s: %w", f.CheckID, f.Resource.ARN, err)
	}
	return nil
}

// encodeIndented writes v as indented JSON. Messages and commands hold '<', '>' and '&'
// (placeholders, redirects); the report is not embedded in HTML, so they stay readable instead of
// \u003c escapes.
func encodeIndented(w io.Writer, v any, prefix string) error {
	return newIndentedEncoder(w, prefix).Encode(v)
}

func newIndentedEncoder(w io.Writer, prefix string) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	return enc
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

// indentWriter indents compact JSON as json.Indent does (empty objects and arrays stay {} and [])
// while writing it to w, instead of into a second buffer. It is given the output of a json.Encoder
// without indentation, so it sees no space outside strings, and drops the encoder's final newline
// so that the caller places separators.
type indentWriter struct {
	w              *bufio.Writer
	prefix, indent string
	depth          int
	inString       bool
	escaped        bool // the previous byte of a string was a backslash
	needIndent     bool // after { or [: a newline comes unless the value is empty
}

func (x *indentWriter) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if x.inString {
			// Copy up to the next quote or backslash at once.
			if !x.escaped {
				j := bytes.IndexAny(p[i:], `"\`)
				if j < 0 {
					x.w.Write(p[i:])
					break
				}
				x.w.Write(p[i : i+j])
				i += j
				c = p[i]
			}
			x.w.WriteByte(c)
			switch {
			case x.escaped:
				x.escaped = false
			case c == '\\':
				x.escaped = true
			case c == '"':
				x.inString = false
			}
			continue
		}
		if c == '\n' {
			continue
		}
		if x.needIndent && c != '}' && c != ']' {
			x.needIndent = false
			x.depth++
			x.newline()
		}
		switch c {
		case '"':
			x.inString = true
			x.w.WriteByte(c)
		case '{', '[':
			x.needIndent = true
			x.w.WriteByte(c)
		case ',':
			x.w.WriteByte(c)
			x.newline()
		case ':':
			x.w.WriteString(": ")
		case '}', ']':
			if x.needIndent {
				x.needIndent = false
			} else {
				x.depth--
				x.newline()
			}
			x.w.WriteByte(c)
		default:
			x.w.WriteByte(c)
		}
	}
	// bufio.Writer keeps its first error and returns it from every later Write.
	if _, err := x.w.Write(nil); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (x *indentWriter) newline() {
	x.w.WriteByte('\n')
	x.w.WriteString(x.prefix)
	for range x.depth {
		x.w.WriteString(x.indent)
	}
}
