package checks_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
)

// FuzzPolicyMerges feeds both policy merges arbitrary documents. A merge either refuses with a
// *RefusedRewrite or returns valid JSON that a second merge leaves as it is, in which everything
// but Statement means exactly what it meant (numbers compared digit for digit), the TLS merge
// keeps every statement and appends one, and the MFA merge keeps the number of statements.
func FuzzPolicyMerges(f *testing.F) {
	for _, s := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"sts:AssumeRole","Condition":{"NumericLessThan":{"k":12345678901234567890}}}]}`,
		`{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"bool":{"aws:multifactorauthpresent":[false,1e3]}}},"X":[1.0]}`,
		`{"Statement":[{"Sid":"CofferDenyInsecureTransport"}],"Id":"\u0041"}`,
		`{"Statement":[{"Effect":"Allow","Effect":"Deny"}]}`,
		`{"Statement":null}`,
		`{"a":{"b":[{"c":1,"c":2}]}}`,
		`{not json`,
		``,
		`[]`,
		`%7B%22Statement%22%3A%5B%5D%7D`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		merges := map[string]func(string) (string, error){
			"tls": func(d string) (string, error) { return checks.TLSOnlyPolicy("arn:aws:s3:::b", d) },
			"mfa": func(d string) (string, error) { return checks.MFATrustPolicy("arn:aws:iam::1:role/r", d) },
		}
		for name, merge := range merges {
			out, err := merge(doc)
			if err != nil {
				var refused *checks.RefusedRewrite
				if !errors.As(err, &refused) {
					t.Fatalf("%s: %q: an error that is not a refusal: %v", name, doc, err)
				}
				continue
			}
			if !json.Valid([]byte(out)) {
				t.Fatalf("%s: %q: invalid JSON out: %s", name, doc, out)
			}
			if again, err := merge(out); err != nil || again != out {
				t.Fatalf("%s: %q: not idempotent (%v):\n%s\n%s", name, doc, err, out, again)
			}
			text := checks.DecodePolicyText(doc)
			if strings.TrimSpace(text) == "" {
				continue
			}
			before, after := decodeExact(t, text), decodeExact(t, out)
			stmtsBefore, stmtsAfter := asList(before["Statement"]), asList(after["Statement"])
			delete(before, "Statement")
			delete(after, "Statement")
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("%s: %q: the document outside Statement changed: %s", name, doc, out)
			}
			switch name {
			case "tls":
				if len(stmtsAfter) != len(stmtsBefore)+1 && !reflect.DeepEqual(stmtsAfter, stmtsBefore) {
					t.Fatalf("tls: %q: want the statements plus one (or unchanged): %s", doc, out)
				}
				if !reflect.DeepEqual(stmtsBefore, stmtsAfter[:len(stmtsBefore)]) {
					t.Fatalf("tls: %q: existing statements changed: %s", doc, out)
				}
			case "mfa":
				if len(stmtsAfter) != len(stmtsBefore) {
					t.Fatalf("mfa: %q: %d statements became %d: %s", doc, len(stmtsBefore), len(stmtsAfter), out)
				}
			}
		}
	})
}

// decodeExact decodes a JSON object keeping numbers as written.
func decodeExact(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, s)
	}
	return m
}

func asList(v any) []any {
	switch s := v.(type) {
	case nil:
		return []any{}
	case []any:
		return s
	}
	return []any{v}
}
