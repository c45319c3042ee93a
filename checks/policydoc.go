package checks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// PolicyDocument is an IAM, bucket or key policy in a normalised form: every list is a list, the
// Principal "*" is {"AWS": ["*"]} (AWS treats the two alike), and condition values are strings.
type PolicyDocument struct {
	Version    string      `json:"version,omitempty"`
	ID         string      `json:"id,omitempty"`
	Statements []Statement `json:"statements"`
}

// Statement is one normalised policy statement. Principal maps a principal type (AWS, Service,
// Federated, CanonicalUser) to its values. Condition maps operator → key → values.
type Statement struct {
	Sid          string                         `json:"sid,omitempty"`
	Effect       string                         `json:"effect"`
	Principal    map[string][]string            `json:"principal,omitempty"`
	NotPrincipal map[string][]string            `json:"not_principal,omitempty"`
	Action       []string                       `json:"action,omitempty"`
	NotAction    []string                       `json:"not_action,omitempty"`
	Resource     []string                       `json:"resource,omitempty"`
	NotResource  []string                       `json:"not_resource,omitempty"`
	Condition    map[string]map[string][]string `json:"condition,omitempty"`
}

// ParsePolicy turns a policy as AWS returns it (raw JSON, or URL-encoded JSON as IAM returns it in
// some calls) into a Policy. It never fails: an unparsable text keeps Text and sets ParseError, so
// checks can report the document as unreadable instead of treating it as empty.
func ParsePolicy(text string) Policy {
	text = DecodePolicyText(text)
	p := Policy{Text: text}
	if strings.TrimSpace(text) == "" {
		return p
	}
	doc, err := ParsePolicyDocument([]byte(text))
	if err != nil {
		p.ParseError = err.Error()
		return p
	}
	p.Document = doc
	return p
}

// DecodePolicyText URL-decodes a policy text when it is URL-encoded (it then does not start with
// '{' but its decoded form does).
func DecodePolicyText(text string) string {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" || strings.HasPrefix(trimmed, "{") {
		return text
	}
	decoded, err := url.QueryUnescape(trimmed)
	if err != nil || !strings.HasPrefix(strings.TrimSpace(decoded), "{") {
		return text
	}
	return decoded
}

// ParsePolicyDocument parses one policy document. Errors name the byte offset and, where it helps,
// the statement index.
func ParsePolicyDocument(data []byte) (*PolicyDocument, error) {
	var raw struct {
		Version   json.RawMessage `json:"Version"`
		ID        json.RawMessage `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, describeJSONError(data, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("policy document: unexpected data after the top-level object at offset %d", dec.InputOffset())
	}
	doc := &PolicyDocument{Statements: []Statement{}}
	var err error
	if doc.Version, err = optionalString(raw.Version); err != nil {
		return nil, fmt.Errorf("policy document: Version: %w", err)
	}
	if doc.ID, err = optionalString(raw.ID); err != nil {
		return nil, fmt.Errorf("policy document: Id: %w", err)
	}
	if len(raw.Statement) == 0 || string(raw.Statement) == "null" {
		return nil, fmt.Errorf("policy document: no Statement")
	}
	var rawStatements []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(raw.Statement), []byte("[")) {
		if err := json.Unmarshal(raw.Statement, &rawStatements); err != nil {
			return nil, fmt.Errorf("policy document: Statement: %w", err)
		}
	} else {
		rawStatements = []json.RawMessage{raw.Statement}
	}
	for i, rs := range rawStatements {
		st, err := parseStatement(rs)
		if err != nil {
			return nil, fmt.Errorf("policy document: Statement[%d]: %w", i, err)
		}
		doc.Statements = append(doc.Statements, st)
	}
	return doc, nil
}

func parseStatement(data json.RawMessage) (Statement, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Statement{}, fmt.Errorf("not an object: %w", err)
	}
	var st Statement
	var err error
	for key, value := range raw {
		switch key {
		case "Sid":
			st.Sid, err = optionalString(value)
		case "Effect":
			st.Effect, err = optionalString(value)
		case "Principal":
			st.Principal, err = parsePrincipal(value)
		case "NotPrincipal":
			st.NotPrincipal, err = parsePrincipal(value)
		case "Action":
			st.Action, err = stringOrList(value)
		case "NotAction":
			st.NotAction, err = stringOrList(value)
		case "Resource":
			st.Resource, err = stringOrList(value)
		case "NotResource":
			st.NotResource, err = stringOrList(value)
		case "Condition":
			st.Condition, err = parseCondition(value)
		}
		if err != nil {
			return Statement{}, fmt.Errorf("%s: %w", key, err)
		}
	}
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return Statement{}, fmt.Errorf("Effect must be Allow or Deny, got %q", st.Effect)
	}
	if st.Action == nil && st.NotAction == nil {
		return Statement{}, fmt.Errorf("neither Action nor NotAction")
	}
	return st, nil
}

func parsePrincipal(data json.RawMessage) (map[string][]string, error) {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		if s != "*" {
			return nil, fmt.Errorf("a string principal must be \"*\", got %q", s)
		}
		return map[string][]string{"AWS": {"*"}}, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("want \"*\" or an object: %w", err)
	}
	out := make(map[string][]string, len(raw))
	for typ, value := range raw {
		values, err := stringOrList(value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", typ, err)
		}
		out[typ] = values
	}
	return out, nil
}

func parseCondition(data json.RawMessage) (map[string]map[string][]string, error) {
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("want {operator: {key: value}}: %w", err)
	}
	out := make(map[string]map[string][]string, len(raw))
	for op, keys := range raw {
		out[op] = make(map[string][]string, len(keys))
		for key, value := range keys {
			values, err := scalarOrList(value)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", op, key, err)
			}
			// Condition keys are case-insensitive in AWS; lower-casing them lets policies match
			// "aws:SourceIp" and "aws:sourceip" alike.
			out[op][strings.ToLower(key)] = values
		}
	}
	return out, nil
}

func optionalString(data json.RawMessage) (string, error) {
	if len(data) == 0 || string(data) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return "", fmt.Errorf("want a string: %w", err)
	}
	return s, nil
}

func stringOrList(data json.RawMessage) ([]string, error) {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		return []string{s}, nil
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("want a string or a list of strings")
	}
	if list == nil {
		list = []string{}
	}
	return list, nil
}

// scalarOrList accepts condition values, which AWS allows as strings, numbers or booleans.
func scalarOrList(data json.RawMessage) ([]string, error) {
	var list []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("[")) {
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, err
		}
	} else {
		list = []json.RawMessage{data}
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		var v any
		if err := json.Unmarshal(item, &v); err != nil {
			return nil, err
		}
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case bool:
			out = append(out, strconv.FormatBool(x))
		case float64:
			out = append(out, strings.TrimSpace(string(item)))
		default:
			return nil, fmt.Errorf("want a string, number or boolean, got %s", item)
		}
	}
	return out, nil
}

// describeJSONError adds line and column to a JSON syntax error.
func describeJSONError(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var offset int64 = -1
	switch {
	case errors.As(err, &syntax):
		offset = syntax.Offset
	case errors.As(err, &typeErr):
		offset = typeErr.Offset
	}
	if offset < 0 {
		return fmt.Errorf("policy document: %w", err)
	}
	line, col := LineCol(data, offset)
	return fmt.Errorf("policy document: line %d, column %d: %w", line, col, err)
}

// LineCol converts a byte offset into a 1-based line and column.
func LineCol(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line, col = 1, 1
	for _, b := range data[:offset] {
		if b == '\n' {
			line++
			col = 1
			continue
		}
		col++
	}
	return line, col
}

// SortedKeys returns the keys of a string map in order; used for deterministic output.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
