package reporters

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// decodeEncode is what canonicalJSON replaces, the oracle of its tests: decode into an interface
// value with UseNumber, encode with newIndentedEncoder.
func decodeEncode(raw []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := newIndentedEncoder(&buf, "  ").Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func checkCanonical(t *testing.T, raw []byte) {
	t.Helper()
	want, err := decodeEncode(raw)
	if err != nil {
		return // not JSON: nothing to compare
	}
	var got bytes.Buffer
	var c canonicalJSON
	rest, err := c.write(&got, raw, "  ", 0)
	if err != nil {
		t.Fatalf("canonicalJSON(%q): %v", raw, err)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("canonicalJSON(%q) left %q", raw, rest)
	}
	if got.String() != want {
		t.Fatalf("canonicalJSON(%q):\n%s\nwant (decode and encode):\n%s", raw, got.String(), want)
	}
}

var canonicalCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1e400`, `1.50`, `true`, `null`,
	`{"b":1,"a":{"d":[],"c":{}},"A":[1,"x",{"z":null,"y":false}]}`,
	`{"a":1,"a":2}`,            // a decoded map keeps the last
	`{"k":"<&>'\u2028\u2029"}`, // HTML characters stay; the line separators are escaped
	`{"k":"\u0000\u0001\b\f\n\r\t\u001f\"\\/"}`,
	`{"k":"\ud800 lone surrogate","é":"ü 日本 😀"}`,
	"{\"k\":\"invalid \xff utf-8\"}",
	` { "spaced" : [ 1 , 2 ] } `,
	`{"ProductFields":{"z":"1","a":"2","m":"3"},"Resources":[{"Details":{"Other":{"y":"1","b":"2"}},"Id":"x"}]}`,
}

func TestCanonicalJSON(t *testing.T) {
	for _, c := range canonicalCases {
		checkCanonical(t, []byte(c))
	}
}

// TestCanonicalJSONOfASFF: the ASFF of a varied account, through the SDK's serializer, gives the
// bytes of a decode and an encode, finding by finding.
func TestCanonicalJSONOfASFF(t *testing.T) {
	findings, err := ASFFFindings(variedReport(t, 60), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	var raws []json.RawMessage
	for start := 0; start < len(findings); start += asffBatch {
		body, err := serializeASFF(findings[start:min(start+asffBatch, len(findings))])
		if err != nil {
			t.Fatal(err)
		}
		var req struct{ Findings []json.RawMessage }
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatal(err)
		}
		raws = append(raws, req.Findings...)
	}
	if len(raws) != len(findings) || len(raws) < 100 {
		t.Fatalf("%d serialized findings of %d", len(raws), len(findings))
	}
	for _, raw := range raws {
		checkCanonical(t, raw)
	}
}

func FuzzCanonicalJSON(f *testing.F) {
	for _, c := range canonicalCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		checkCanonical(t, raw)
	})
}
