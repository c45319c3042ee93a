package checks

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzParsePolicy feeds ParsePolicy raw, URL-encoded and broken documents. It must never panic,
// must be deterministic, must either parse or explain why, and a URL-encoded document must parse
// exactly like its raw form (IAM returns both).
func FuzzParsePolicy(f *testing.F) {
	seeds := []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`,
		`{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":false}}}]}`,
		`{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::1:root"]},"NotAction":"s3:Get*","NotResource":"arn:aws:s3:::x/*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}}]}`,
		`{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root","Service":["cloudtrail.amazonaws.com"]},"Action":"kms:*","Resource":"*"}]}`,
		"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%7D",
		`{"Statement": null}`,
		`{"Statement": [1, 2]}`,
		`{"Statement": {"Action": {"x": 1}}}`,
		`{"Statement": []} trailing`,
		`%ZZ`,
		``,
		"  \n",
		`[]`,
		`{"Version": 2012}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p := ParsePolicy(text)
		if again := ParsePolicy(text); !reflect.DeepEqual(p, again) {
			t.Fatalf("not deterministic for %q", text)
		}
		if p.Text != DecodePolicyText(text) {
			t.Fatalf("Text %q is not the decoded input of %q", p.Text, text)
		}
		switch {
		case strings.TrimSpace(p.Text) == "":
			if p.Document != nil || p.ParseError != "" {
				t.Fatalf("empty text gave %+v", p)
			}
		case p.Document == nil && p.ParseError == "":
			t.Fatalf("neither a document nor a parse error for %q", text)
		case p.Document != nil && p.ParseError != "":
			t.Fatalf("both a document and a parse error for %q", text)
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("policy does not marshal: %v", err)
		}
		if p.Document == nil {
			return
		}
		if p.Document.Statements == nil {
			t.Fatalf("nil statements for %q", text)
		}
		// The URL-encoded form of a raw document parses to the same document.
		if strings.HasPrefix(text, "{") {
			enc := ParsePolicy(url.QueryEscape(text))
			if !reflect.DeepEqual(enc.Document, p.Document) {
				t.Fatalf("URL-encoded form parses differently:\nraw %+v\nenc %+v", p.Document, enc.Document)
			}
		}
	})
}
