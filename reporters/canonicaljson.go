package reporters

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"
)

// canonicalJSON re-encodes JSON values; its zero value is ready, and one value serves one
// goroutine. It keeps the member lists of the objects being written, one per depth, from one
// object to the next: a finding has a few dozen objects, an ASFF file of 10,000 buckets millions.
type canonicalJSON struct {
	members [][]jsonMember
}

// write writes the JSON value at the start of src to dst as encoding/json would encode it
// after decoding it into an interface value with UseNumber (newIndentedEncoder's settings: objects'
// keys sorted, numbers as written, HTML characters not escaped, indented by two spaces under
// prefix), and returns what follows the value. It does in one pass over the bytes what a decode
// into maps and an encode did, for the SDK's serialized findings, whose maps come out in Go's random
// order: at 130,000 findings the maps cost seconds and gigabytes. src must be valid JSON (the SDK
// wrote it); an invalid value is an error, not a guess.
func (c *canonicalJSON) write(dst *bytes.Buffer, src []byte, prefix string, depth int) ([]byte, error) {
	src = skipSpace(src)
	if len(src) == 0 {
		return nil, errors.New("json: unexpected end")
	}
	switch ch := src[0]; {
	case ch == '{':
		return c.object(dst, src[1:], prefix, depth)
	case ch == '[':
		return c.array(dst, src[1:], prefix, depth)
	case ch == '"':
		end, err := stringEnd(src)
		if err != nil {
			return nil, err
		}
		if err := writeJSONString(dst, src[:end]); err != nil {
			return nil, err
		}
		return src[end:], nil
	default:
		// A number, true, false or null: written as it stands (UseNumber keeps a number's text).
		end := scalarEnd(src)
		if end == 0 || !json.Valid(src[:end]) {
			return nil, fmt.Errorf("json: invalid value %.20q", src)
		}
		dst.Write(src[:end])
		return src[end:], nil
	}
}

type jsonMember struct {
	key   []byte // the key decoded (the written bytes themselves when it has no escape)
	raw   []byte // the key as written, quotes included
	value []byte // from the value on: canonicalJSON reads the value from its start
}

func (c *canonicalJSON) object(dst *bytes.Buffer, src []byte, prefix string, depth int) ([]byte, error) {
	for len(c.members) <= depth {
		c.members = append(c.members, nil)
	}
	members := c.members[depth][:0]
	defer func() { c.members[depth] = members[:0] }()
	src = skipSpace(src)
	if len(src) > 0 && src[0] == '}' {
		dst.WriteString("{}")
		return src[1:], nil
	}
	for {
		src = skipSpace(src)
		if len(src) == 0 || src[0] != '"' {
			return nil, errors.New("json: object key expected")
		}
		end, err := stringEnd(src)
		if err != nil {
			return nil, err
		}
		m := jsonMember{raw: src[:end], key: src[1 : end-1]}
		if bytes.IndexByte(m.key, '\\') >= 0 || !utf8.Valid(m.key) {
			var key string
			if err := json.Unmarshal(m.raw, &key); err != nil {
				return nil, err
			}
			m.key = []byte(key)
		}
		src = skipSpace(src[end:])
		if len(src) == 0 || src[0] != ':' {
			return nil, errors.New("json: ':' expected")
		}
		m.value = src[1:]
		rest, err := skipValue(m.value)
		if err != nil {
			return nil, err
		}
		members = append(members, m)
		src = skipSpace(rest)
		if len(src) == 0 {
			return nil, errors.New("json: unexpected end of object")
		}
		if src[0] == '}' {
			src = src[1:]
			break
		}
		if src[0] != ',' {
			return nil, errors.New("json: ',' or '}' expected")
		}
		src = src[1:]
	}
	// encoding/json sorts map keys by their bytes; a decoded map keeps the last of equal keys.
	if !slices.IsSortedFunc(members, compareKeys) {
		slices.SortStableFunc(members, compareKeys)
	}
	members = lastOfEqualKeys(members)
	dst.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			dst.WriteByte(',')
		}
		newline(dst, prefix, depth+1)
		if err := writeJSONString(dst, m.raw); err != nil {
			return nil, err
		}
		dst.WriteString(": ")
		if _, err := c.write(dst, m.value, prefix, depth+1); err != nil {
			return nil, err
		}
	}
	newline(dst, prefix, depth)
	dst.WriteByte('}')
	return src, nil
}

func compareKeys(a, b jsonMember) int { return bytes.Compare(a.key, b.key) }

// lastOfEqualKeys keeps, of members sorted stably by key, the last member of each key.
func lastOfEqualKeys(members []jsonMember) []jsonMember {
	out := members[:0]
	for i, m := range members {
		if i+1 < len(members) && bytes.Equal(members[i+1].key, m.key) {
			continue
		}
		out = append(out, m)
	}
	return out
}

func (c *canonicalJSON) array(dst *bytes.Buffer, src []byte, prefix string, depth int) ([]byte, error) {
	src = skipSpace(src)
	if len(src) > 0 && src[0] == ']' {
		dst.WriteString("[]")
		return src[1:], nil
	}
	dst.WriteByte('[')
	for i := 0; ; i++ {
		if i > 0 {
			dst.WriteByte(',')
		}
		newline(dst, prefix, depth+1)
		rest, err := c.write(dst, src, prefix, depth+1)
		if err != nil {
			return nil, err
		}
		src = skipSpace(rest)
		if len(src) == 0 {
			return nil, errors.New("json: unexpected end of array")
		}
		if src[0] == ']' {
			src = src[1:]
			break
		}
		if src[0] != ',' {
			return nil, errors.New("json: ',' or ']' expected")
		}
		src = src[1:]
	}
	newline(dst, prefix, depth)
	dst.WriteByte(']')
	return src, nil
}

func newline(dst *bytes.Buffer, prefix string, depth int) {
	dst.WriteByte('\n')
	dst.WriteString(prefix)
	for range depth {
		dst.WriteString("  ")
	}
}

func skipSpace(src []byte) []byte {
	for len(src) > 0 && (src[0] == ' ' || src[0] == '\t' || src[0] == '\n' || src[0] == '\r') {
		src = src[1:]
	}
	return src
}

// stringEnd returns the length of the JSON string at the start of src, quotes included.
func stringEnd(src []byte) (int, error) {
	for i := 1; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errors.New("json: unterminated string")
}

// skipValue returns what follows the JSON value at the start of src.
func skipValue(src []byte) ([]byte, error) {
	src = skipSpace(src)
	if len(src) == 0 {
		return nil, errors.New("json: unexpected end")
	}
	switch src[0] {
	case '"':
		end, err := stringEnd(src)
		if err != nil {
			return nil, err
		}
		return src[end:], nil
	case '{', '[':
		depth := 0
		for i := 0; i < len(src); i++ {
			switch src[i] {
			case '"':
				end, err := stringEnd(src[i:])
				if err != nil {
					return nil, err
				}
				i += end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return src[i+1:], nil
				}
			}
		}
		return nil, errors.New("json: unterminated object or array")
	}
	return src[scalarEnd(src):], nil
}

// scalarEnd is the length of the number, true, false or null at the start of src.
func scalarEnd(src []byte) int {
	for i, c := range src {
		switch c {
		case ',', ']', '}', ' ', '\t', '\r', '\n':
			return i
		}
	}
	return len(src)
}

// writeJSONString writes the JSON string quoted (quotes included) as encoding/json encodes its
// decoded value without HTML escaping. Most strings need nothing: printable ASCII without escapes
// is copied; anything else is decoded and encoded again.
func writeJSONString(dst *bytes.Buffer, quoted []byte) error {
	plain := true
	for _, c := range quoted[1 : len(quoted)-1] {
		if c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		dst.Write(quoted)
		return nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	dst.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return nil
}
