package checks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The merges that rewrite a user's JSON document (bucket and trust policies) work on it as raw JSON
// rather than decoding it into map[string]any: every part coffer does not change is copied as it
// was written, so numbers keep their digits (12345678901234567890 is not rounded through float64),
// objects keep their key order and key spelling, and fields coffer does not know survive. Only
// whitespace is compacted.

// rawMember is one "key": value pair of a JSON object.
type rawMember struct {
	// key is the decoded key, for lookups; rawKey is the key as written, quotes included, so an
	// escaped key ("\u0045ffect") is copied unchanged.
	key    string
	rawKey []byte
	value  json.RawMessage
}

// rawObject is a JSON object split one level deep, its members in document order.
type rawObject struct {
	members []rawMember
}

// parseRawObject splits a JSON object into its members. data must be valid JSON (see
// checkRewritable); members are not checked for duplicates here.
func parseRawObject(data []byte) (*rawObject, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	o := &rawObject{}
	for dec.More() {
		// The decoder consumes the comma before a key as part of reading the key, so the key starts
		// after the whitespace and comma that follow the previous value.
		start := skipSeparators(data, dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key at offset %d is not a string", start)
		}
		m := rawMember{key: key, rawKey: data[start:dec.InputOffset()]}
		if err := dec.Decode(&m.value); err != nil {
			return nil, fmt.Errorf("value of %q: %w", key, err)
		}
		o.members = append(o.members, m)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	return o, nil
}

// skipSeparators returns the offset of the first byte at or after off that is neither JSON
// whitespace nor a comma.
func skipSeparators(data []byte, off int64) int64 {
	for off < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
		off++
	}
	return off
}

// index returns the position of the member named key, or -1.
func (o *rawObject) index(key string) int {
	for i, m := range o.members {
		if m.key == key {
			return i
		}
	}
	return -1
}

// indexFold is index ignoring case, for names AWS compares without case (condition operators and
// condition keys).
func (o *rawObject) indexFold(key string) int {
	for i, m := range o.members {
		if strings.EqualFold(m.key, key) {
			return i
		}
	}
	return -1
}

// get returns the value of the member named key.
func (o *rawObject) get(key string) (json.RawMessage, bool) {
	if i := o.index(key); i >= 0 {
		return o.members[i].value, true
	}
	return nil, false
}

// set replaces the value of the member named key where it stands, or adds the member at the end.
func (o *rawObject) set(key string, value json.RawMessage) error {
	if i := o.index(key); i >= 0 {
		o.members[i].value = value
		return nil
	}
	rawKey, err := compactJSON(key)
	if err != nil {
		return fmt.Errorf("encode key %q: %w", key, err)
	}
	o.members = append(o.members, rawMember{key: key, rawKey: []byte(rawKey), value: value})
	return nil
}

// compact returns the object as compact JSON: the members in their order, keys and values as
// written apart from whitespace.
func (o *rawObject) compact() (json.RawMessage, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o.members {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(m.rawKey)
		buf.WriteByte(':')
		if err := json.Compact(&buf, m.value); err != nil {
			return nil, fmt.Errorf("value of %q: %w", m.key, err)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// rawList returns the JSON array of items, each compacted.
func rawList(items []json.RawMessage) (json.RawMessage, error) {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := json.Compact(&buf, it); err != nil {
			return nil, err
		}
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// jsonKind returns the first byte of a JSON value ('{', '[', '"', 'n' for null…), or 0 when empty.
func jsonKind(v json.RawMessage) byte {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return 0
	}
	return v[0]
}

// checkRewritable returns a *RefusedRewrite when data cannot be rewritten without losing or
// guessing part of it: it is not valid JSON, it is not an object, or an object in it (at any depth)
// has the same key twice. Go's decoder would keep only the last of two equal keys, so coffer would
// silently drop the other; and which one AWS honours is not something coffer should guess.
func checkRewritable(what string, data []byte) error {
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		return &RefusedRewrite{What: what, Reason: "it is not valid JSON (" + syntaxErrorAt(data, err) + "); edit it by hand"}
	}
	if jsonKind(data) != '{' {
		return &RefusedRewrite{What: what, Reason: "it is not a JSON object; edit it by hand"}
	}
	dup, err := firstDuplicateKey(data)
	if err != nil {
		return &RefusedRewrite{What: what, Reason: "it could not be read as JSON (" + err.Error() + "); edit it by hand"}
	}
	if dup != nil {
		return &RefusedRewrite{What: what, Reason: fmt.Sprintf("it has the key %q twice in one object (line %d, column %d); edit it by hand", dup.key, dup.line, dup.col)}
	}
	return nil
}

// syntaxErrorAt describes a JSON syntax error with the line and column of the offending byte.
func syntaxErrorAt(data []byte, err error) string {
	var syntax *json.SyntaxError
	if !errors.As(err, &syntax) {
		return fmt.Sprint(err)
	}
	// Offset counts the bytes read, the offending one included; at the end of the input there is
	// no offending byte and the position is just past the last one.
	off := syntax.Offset
	if off > 0 && off <= int64(len(data)) && !strings.Contains(syntax.Error(), "unexpected end") {
		off--
	}
	line, col := LineCol(data, off)
	return fmt.Sprintf("line %d, column %d: %v", line, col, syntax)
}

// duplicateKey is the second occurrence of a key in one object.
type duplicateKey struct {
	key       string
	line, col int
}

// firstDuplicateKey walks the tokens of valid JSON and returns the first key that repeats within
// one object, positioned at its opening quote.
func firstDuplicateKey(data []byte) (*duplicateKey, error) {
	type frame struct {
		object  bool
		wantKey bool
		keys    map[string]bool
	}
	var stack []*frame
	// valueDone notes that the enclosing object's next token is a key again.
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers are only skipped; UseNumber keeps 1e400 from failing a float64 conversion
	for {
		start := skipSeparators(data, dec.InputOffset())
		tok, err := dec.Token()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
			if key, ok := tok.(string); ok {
				top := stack[n-1]
				if top.keys[key] {
					line, col := LineCol(data, start)
					return &duplicateKey{key: key, line: line, col: col}, nil
				}
				top.keys[key] = true
				top.wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, wantKey: true, keys: map[string]bool{}})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

// parseRewritable checks that text can be rewritten exactly (checkRewritable) and splits its
// top-level object.
func parseRewritable(what, text string) (*rawObject, error) {
	data := []byte(text)
	if err := checkRewritable(what, data); err != nil {
		return nil, err
	}
	doc, err := parseRawObject(data)
	if err != nil {
		return nil, fmt.Errorf("split %s: %w", what, err)
	}
	return doc, nil
}

// policyStatements returns the statements of a policy document as written, and whether Statement is
// a single object rather than a list. A missing or null Statement gives no statements.
func policyStatements(what string, doc *rawObject) (stmts []json.RawMessage, single bool, err error) {
	v, ok := doc.get("Statement")
	if !ok {
		return nil, false, nil
	}
	switch jsonKind(v) {
	case 'n':
		return nil, false, nil
	case '{':
		return []json.RawMessage{v}, true, nil
	case '[':
		if err := json.Unmarshal(v, &stmts); err != nil {
			return nil, false, fmt.Errorf("split the statements of %s: %w", what, err)
		}
		return stmts, false, nil
	}
	return nil, false, &RefusedRewrite{What: what, Reason: "its Statement is neither an object nor a list; edit it by hand"}
}
