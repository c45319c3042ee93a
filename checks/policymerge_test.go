package checks_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
)

// tlsStmt is the statement TLSOnlyPolicy adds for arn:aws:s3:::b, as it is written out.
const tlsStmt = `{"Sid":"CofferDenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*",` +
	`"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`

// TestTLSOnlyPolicyKeepsTheDocumentExactly: the merged policy is the user's document, compacted,
// with coffer's statement appended: numbers keep their digits and form, key order and spelling,
// unknown fields and escapes stay as written.
func TestTLSOnlyPolicyKeepsTheDocumentExactly(t *testing.T) {
	tests := []struct {
		name, current, want string
	}{
		{
			name:    "no policy",
			current: "",
			want:    `{"Version":"2012-10-17","Statement":[` + tlsStmt + `]}`,
		},
		{
			name:    "integer beyond float64 precision",
			current: `{"Version":"2012-10-17","Statement":[{"Sid":"Cap","Effect":"Deny","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"NumericGreaterThan":{"s3:max-keys":12345678901234567890}}}]}`,
			want:    `{"Version":"2012-10-17","Statement":[{"Sid":"Cap","Effect":"Deny","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"NumericGreaterThan":{"s3:max-keys":12345678901234567890}}},` + tlsStmt + `]}`,
		},
		{
			name:    "floats as written",
			current: `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"k":[1.0,1e3,-0.50E-2,0,100000000000000000000000]}}}]}`,
			want:    `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"k":[1.0,1e3,-0.50E-2,0,100000000000000000000000]}}},` + tlsStmt + `]}`,
		},
		{
			name: "key order, unknown fields and whitespace",
			current: `{
				"Statement": [ { "Resource": "arn:aws:s3:::b/*", "Action": "s3:GetObject", "Principal": {"AWS": ["arn:aws:iam::123456789012:role/z", "arn:aws:iam::123456789012:role/a"]}, "Effect": "Allow", "Sid": "Z" } ],
				"Id": "mine",
				"Version": "2012-10-17",
				"X-Unknown": { "z": 1, "a": [ { "b": 2.50 } ] }
			}`,
			want: `{"Statement":[{"Resource":"arn:aws:s3:::b/*","Action":"s3:GetObject","Principal":{"AWS":["arn:aws:iam::123456789012:role/z","arn:aws:iam::123456789012:role/a"]},"Effect":"Allow","Sid":"Z"},` + tlsStmt + `],"Id":"mine","Version":"2012-10-17","X-Unknown":{"z":1,"a":[{"b":2.50}]}}`,
		},
		{
			name:    "escapes and HTML characters",
			current: `{"Statement":[{"\u0053id":"a<b>&\u003c\n","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`,
			want:    `{"Statement":[{"\u0053id":"a<b>&\u003c\n","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"},` + tlsStmt + `]}`,
		},
		{
			name:    "nested conditions",
			current: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":["o-1/r-1/*"]},"IpAddress":{"aws:SourceIp":["10.0.0.0/8"]},"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}}]}`,
			want:    `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":["o-1/r-1/*"]},"IpAddress":{"aws:SourceIp":["10.0.0.0/8"]},"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}},` + tlsStmt + `]}`,
		},
		{
			name:    "single statement object becomes a list",
			current: `{"Version":"2012-10-17","Statement":{"Sid":"One","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}`,
			want:    `{"Version":"2012-10-17","Statement":[{"Sid":"One","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"},` + tlsStmt + `]}`,
		},
		{
			// 2012-10-17 would turn ${aws:username} from literal text into a policy variable.
			name:    "no Version stays without Version",
			current: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}`,
			want:    `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"},` + tlsStmt + `]}`,
		},
		{
			name:    "null Statement",
			current: `{"Version":"2012-10-17","Statement":null}`,
			want:    `{"Version":"2012-10-17","Statement":[` + tlsStmt + `]}`,
		},
		{
			name:    "same key in different objects is fine",
			current: `{"Statement":[{"Sid":"A","Effect":"Allow","Principal":{"Sid":{"Sid":1}},"Action":"s3:GetObject","Resource":"*"},{"Sid":"B","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`,
			want:    `{"Statement":[{"Sid":"A","Effect":"Allow","Principal":{"Sid":{"Sid":1}},"Action":"s3:GetObject","Resource":"*"},{"Sid":"B","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"},` + tlsStmt + `]}`,
		},
		{
			name:    "already has the statement: unchanged, big numbers included",
			current: "{\"Statement\": [\n {\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":{\"NumericLessThan\":{\"s3:max-keys\":12345678901234567890}}},\n {\"Sid\": \"CofferDenyInsecureTransport\", \"Effect\": \"Deny\"}\n]}",
			want:    `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":12345678901234567890}}},{"Sid":"CofferDenyInsecureTransport","Effect":"Deny"}]}`,
		},
		{
			name:    "url-encoded",
			current: `%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Deny%22%2C%22Principal%22%3A%22%2A%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%2C%22Condition%22%3A%7B%22NumericLessThan%22%3A%7B%22k%22%3A12345678901234567890%7D%7D%7D%5D%7D`,
			want:    `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"k":12345678901234567890}}},` + tlsStmt + `]}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checks.TLSOnlyPolicy("arn:aws:s3:::b", tc.current)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("merged policy\n got %s\nwant %s", got, tc.want)
			}
			again, err := checks.TLSOnlyPolicy("arn:aws:s3:::b", got)
			if err != nil || again != got {
				t.Errorf("a second merge changed the policy (err %v):\n%s\n%s", err, got, again)
			}
		})
	}
}

// TestMFATrustPolicyKeepsTheDocumentExactly: only the Condition of the statements that need MFA
// changes, and in it only the Bool operator; everything else comes back as written.
func TestMFATrustPolicyKeepsTheDocumentExactly(t *testing.T) {
	const (
		root = `{"AWS":"arn:aws:iam::123456789012:root"}`
		mfa  = `"aws:MultiFactorAuthPresent":"true"`
	)
	tests := []struct {
		name, current, want string
	}{
		{
			name:    "Condition added at the end of the statement",
			current: `{"Version":"2012-10-17","Statement":[{"Sid":"Ops","Effect":"Allow","Principal":` + root + `,"Action":"sts:AssumeRole"}]}`,
			want:    `{"Version":"2012-10-17","Statement":[{"Sid":"Ops","Effect":"Allow","Principal":` + root + `,"Action":"sts:AssumeRole","Condition":{"Bool":{` + mfa + `}}}]}`,
		},
		{
			name:    "existing conditions with big integers and floats kept in order",
			current: `{"Statement":[{"Condition":{"NumericLessThan":{"aws:EpochTime":12345678901234567890},"StringEquals":{"sts:ExternalId":"x"},"NumericEquals":{"k":[1.0,1e3]}},"Action":"sts:AssumeRole","Principal":` + root + `,"Effect":"Allow"}]}`,
			want:    `{"Statement":[{"Condition":{"NumericLessThan":{"aws:EpochTime":12345678901234567890},"StringEquals":{"sts:ExternalId":"x"},"NumericEquals":{"k":[1.0,1e3]},"Bool":{` + mfa + `}},"Action":"sts:AssumeRole","Principal":` + root + `,"Effect":"Allow"}]}`,
		},
		{
			name:    "added to an existing Bool operator",
			current: `{"Statement":[{"Effect":"Allow","Principal":` + root + `,"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:SecureTransport":true},"StringLike":{"aws:userid":"AIDA*"}}}]}`,
			want:    `{"Statement":[{"Effect":"Allow","Principal":` + root + `,"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:SecureTransport":true,` + mfa + `},"StringLike":{"aws:userid":"AIDA*"}}}]}`,
		},
		{
			// Condition keys are case-insensitive in AWS: a second spelling would contradict the first.
			name:    "an existing key in another spelling is set where it stands",
			current: `{"Statement":[{"Effect":"Allow","Principal":` + root + `,"Action":"sts:AssumeRole","Condition":{"bool":{"aws:multifactorauthpresent":"false","x":1}}}]}`,
			want:    `{"Statement":[{"Effect":"Allow","Principal":` + root + `,"Action":"sts:AssumeRole","Condition":{"bool":{"aws:multifactorauthpresent":"true","x":1}}}]}`,
		},
		{
			name:    "unknown fields, other statements and the top level kept",
			current: `{"Id":"t","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","X":{"n":12345678901234567890}},{"X-Note":{"b":2,"a":1.0},"Effect":"Allow","Principal":"*","Action":["sts:AssumeRole","sts:TagSession"]},{"Effect":"Deny","Principal":` + root + `,"Action":"sts:AssumeRole"}],"Version":"2012-10-17","Z":[3.00]}`,
			want:    `{"Id":"t","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","X":{"n":12345678901234567890}},{"X-Note":{"b":2,"a":1.0},"Effect":"Allow","Principal":"*","Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"Bool":{` + mfa + `}}},{"Effect":"Deny","Principal":` + root + `,"Action":"sts:AssumeRole"}],"Version":"2012-10-17","Z":[3.00]}`,
		},
		{
			name:    "only the statement without MFA changes",
			current: `{"Statement":[{"Sid":"A","Effect":"Allow","Principal":` + root + `,"Action":"sts:AssumeRole","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":3600.0}}},{"Sid":"B","Effect":"Allow","Principal":` + root + `,"Action":"sts:AssumeRole","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}}]}`,
			want:    `{"Statement":[{"Sid":"A","Effect":"Allow","Principal":` + root + `,"Action":"sts:AssumeRole","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":3600.0}}},{"Sid":"B","Effect":"Allow","Principal":` + root + `,"Action":"sts:AssumeRole","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"},"Bool":{` + mfa + `}}}]}`,
		},
		{
			name:    "single statement object stays an object",
			current: `{"Statement":{"Effect":"Allow","Principal":` + root + `,"Action":"sts:AssumeRole","Condition":null}}`,
			want:    `{"Statement":{"Effect":"Allow","Principal":` + root + `,"Action":"sts:AssumeRole","Condition":{"Bool":{` + mfa + `}}}}`,
		},
		{
			name:    "already requires MFA (Bool): unchanged",
			current: "{\"Version\": \"2012-10-17\",\n \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": " + root + ", \"Action\": \"sts:AssumeRole\", \"Condition\": {\"Bool\": {\"aws:MultiFactorAuthPresent\": [true]}, \"NumericLessThan\": {\"k\": 12345678901234567890}}}]}",
			want:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + root + `,"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":[true]},"NumericLessThan":{"k":12345678901234567890}}}]}`,
		},
		{
			name:    "no AWS principal: unchanged",
			current: `{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/idp"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`,
			want:    `{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/idp"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checks.MFATrustPolicy("arn:aws:iam::123456789012:role/r", tc.current)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("merged trust policy\n got %s\nwant %s", got, tc.want)
			}
			again, err := checks.MFATrustPolicy("arn:aws:iam::123456789012:role/r", got)
			if err != nil || again != got {
				t.Errorf("a second merge changed the policy (err %v):\n%s\n%s", err, got, again)
			}
		})
	}
}

// TestPolicyMergesRefuseWhatTheyCannotKeep: a document with a key twice in one object (at any
// depth) or that is not valid JSON is refused with a *RefusedRewrite naming the policy and, where
// there is one, the position, by both merges.
func TestPolicyMergesRefuseWhatTheyCannotKeep(t *testing.T) {
	const bucket, role = "arn:aws:s3:::b", "arn:aws:iam::123456789012:role/r"
	tests := []struct {
		name, doc, reason string
	}{
		{
			name: "duplicate key in a statement",
			doc: "{\n" +
				"  \"Statement\": [\n" +
				"    {\"Effect\": \"Deny\", \"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"sts:AssumeRole\", \"Resource\": \"*\"}\n" +
				"  ]\n" +
				"}",
			reason: `it has the key "Effect" twice in one object (line 3, column 24); edit it by hand`,
		},
		{
			name:   "duplicate top-level key",
			doc:    `{"Version":"2012-10-17","Statement":[],"Version":"2008-10-17"}`,
			reason: `it has the key "Version" twice in one object (line 1, column 40); edit it by hand`,
		},
		{
			name:   "duplicate condition key deep down",
			doc:    `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"a","aws:PrincipalTag/team":"b"}}}]}`,
			reason: `it has the key "aws:PrincipalTag/team" twice in one object (line 1, column 155); edit it by hand`,
		},
		{
			name:   "duplicate inside an array inside an unknown field",
			doc:    `{"Statement":[],"X":[{"a":1},{"b":[{"c":12345678901234567890,"c":1}]}]}`,
			reason: `it has the key "c" twice in one object (line 1, column 62); edit it by hand`,
		},
		{
			name:   "duplicate spelled with an escape",
			doc:    `{"Statement":[{"Effect":"Allow","\u0045ffect":"Deny","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Resource":"*"}]}`,
			reason: `it has the key "Effect" twice in one object (line 1, column 33); edit it by hand`,
		},
		{
			name:   "not JSON",
			doc:    `{not json`,
			reason: `it is not valid JSON (line 1, column 2: invalid character 'n' looking for beginning of object key string); edit it by hand`,
		},
		{
			name:   "truncated",
			doc:    "{\"Statement\": [\n",
			reason: `it is not valid JSON (line 2, column 1: unexpected end of JSON input); edit it by hand`,
		},
		{
			name:   "data after the document",
			doc:    `{"Statement":[]} {}`,
			reason: `it is not valid JSON (line 1, column 18: invalid character '{' after top-level value); edit it by hand`,
		},
		{
			name:   "not an object",
			doc:    `[{"Statement":[]}]`,
			reason: `it is not a JSON object; edit it by hand`,
		},
		{
			name:   "Statement of the wrong type",
			doc:    `{"Statement":"Allow everything"}`,
			reason: `its Statement is neither an object nor a list; edit it by hand`,
		},
	}
	merges := []struct {
		name, what string
		merge      func(string) (string, error)
	}{
		{"TLSOnlyPolicy", "the bucket policy of " + bucket, func(doc string) (string, error) { return checks.TLSOnlyPolicy(bucket, doc) }},
		{"MFATrustPolicy", "the trust policy of " + role, func(doc string) (string, error) { return checks.MFATrustPolicy(role, doc) }},
	}
	for _, m := range merges {
		for _, tc := range tests {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				out, err := m.merge(tc.doc)
				var refused *checks.RefusedRewrite
				if !errors.As(err, &refused) {
					t.Fatalf("got %q, %v; want a *checks.RefusedRewrite", out, err)
				}
				if refused.What != m.what || refused.Reason != tc.reason {
					t.Errorf("refused %q: %q\n want %q: %q", refused.What, refused.Reason, m.what, tc.reason)
				}
				if out != "" {
					t.Errorf("a refused merge returned a document: %s", out)
				}
			})
		}
	}
}

// TestMFATrustPolicyRefusals covers what only the trust-policy merge reads: the Condition of a
// statement it must change, and an empty document (a role always has a trust policy).
func TestMFATrustPolicyRefusals(t *testing.T) {
	tests := []struct {
		name, doc, reason string
	}{
		{"empty", "", "it is not valid JSON (line 1, column 1: unexpected end of JSON input); edit it by hand"},
		{"Condition not an object", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":"mfa"}]}`, "Statement[1]: its Condition is not an object; edit it by hand"},
		{"Bool not an object", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"Bool":["aws:MultiFactorAuthPresent"]}}]}`, "Statement[0]: its Condition operator Bool is not an object; edit it by hand"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checks.MFATrustPolicy("arn:aws:iam::1:role/r", tc.doc)
			var refused *checks.RefusedRewrite
			if !errors.As(err, &refused) || refused.Reason != tc.reason || !strings.Contains(err.Error(), "arn:aws:iam::1:role/r") {
				t.Errorf("got %v, want a refusal of the role's trust policy: %s", err, tc.reason)
			}
		})
	}
}
