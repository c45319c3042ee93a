package checks_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
	"github.com/google/go-cmp/cmp"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return m
}

func TestTLSOnlyPolicyKeepsStatementsAndIsIdempotent(t *testing.T) {
	existing := `{"Version":"2012-10-17","Id":"mine","Statement":{"Sid":"Replicate","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/r"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`
	tests := []struct {
		name, current string
		statements    int
	}{
		{"no policy", "", 1},
		{"single statement object", existing, 2},
		{"url-encoded", strings.ReplaceAll(strings.ReplaceAll(existing, "{", "%7B"), "\"", "%22"), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := checks.TLSOnlyPolicy("arn:aws:s3:::b", tc.current)
			if err != nil {
				t.Fatal(err)
			}
			doc := decode(t, out)
			stmts := doc["Statement"].([]any)
			if len(stmts) != tc.statements {
				t.Fatalf("%d statements, want %d: %s", len(stmts), tc.statements, out)
			}
			if tc.current != "" && doc["Id"] != "mine" {
				t.Errorf("the policy Id was lost: %s", out)
			}
			again, err := checks.TLSOnlyPolicy("arn:aws:s3:::b", out)
			if err != nil || again != out {
				t.Errorf("second merge changed the policy:\n%s\n%s", out, again)
			}
			parsed := checks.ParsePolicy(out)
			last := parsed.Document.Statements[len(parsed.Document.Statements)-1]
			if last.Effect != "Deny" || last.Condition["Bool"]["aws:securetransport"][0] != "false" {
				t.Errorf("TLS statement = %+v", last)
			}
		})
	}
	if _, err := checks.TLSOnlyPolicy("arn:aws:s3:::b", "{not json"); err == nil {
		t.Error("an unparsable policy must not be merged into")
	}
}

func TestMergeLifecycleKeepsRules(t *testing.T) {
	days := int32(3)
	rules := []checks.LifecycleRule{
		{ID: "MoveToGlacierAfter14Days", Status: "Enabled", Transitions: []checks.Transition{{Days: 30, StorageClass: "GLACIER"}}},
		{ID: "logs", Status: "Disabled", Filter: checks.LifecycleFilter{Prefix: "logs/", Tags: map[string]string{"k": "v"}}, Expiration: &checks.Expiration{Days: 365}, AbortIncompleteMultipartUploadDays: &days},
		{ID: checks.ArchiveRuleID, Status: "Enabled", Transitions: []checks.Transition{{Days: 90, StorageClass: "GLACIER"}}},
	}
	out, err := checks.MergeLifecycle(rules, checks.ArchiveRule(14, "GLACIER"), checks.HygieneRule(7))
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, out)["Rules"].([]any)
	var ids []string
	for _, r := range got {
		ids = append(ids, r.(map[string]any)["ID"].(string))
	}
	if diff := cmp.Diff([]string{"MoveToGlacierAfter14Days", "logs", checks.ArchiveRuleID, checks.HygieneRuleID}, ids); diff != "" {
		t.Errorf("rule ids (-want +got):\n%s", diff)
	}
	logs := got[1].(map[string]any)
	wantFilter := map[string]any{"And": map[string]any{"Prefix": "logs/", "Tags": []any{map[string]any{"Key": "k", "Value": "v"}}}}
	if diff := cmp.Diff(wantFilter, logs["Filter"]); diff != "" {
		t.Errorf("filter of a kept rule (-want +got):\n%s", diff)
	}
	if logs["Status"] != "Disabled" || logs["Expiration"].(map[string]any)["Days"] != float64(365) {
		t.Errorf("kept rule changed: %v", logs)
	}
	if archive := got[2].(map[string]any)["Transitions"].([]any)[0].(map[string]any); archive["Days"] != float64(14) {
		t.Errorf("the stale coffer-archive rule was not replaced: %v", archive)
	}
}

func TestMFATrustPolicy(t *testing.T) {
	trust := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}},
		{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	out, err := checks.MFATrustPolicy("arn:aws:iam::123456789012:role/r", trust)
	if err != nil {
		t.Fatal(err)
	}
	doc := checks.ParsePolicy(out).Document
	human, service := doc.Statements[0], doc.Statements[1]
	if human.Condition["Bool"]["aws:multifactorauthpresent"][0] != "true" || human.Condition["StringEquals"]["sts:externalid"][0] != "x" {
		t.Errorf("human statement conditions = %v", human.Condition)
	}
	if service.Condition != nil {
		t.Errorf("a service principal must not get an MFA condition: %v", service.Condition)
	}
}

func TestPasswordPolicyFlagsKeepStricterValues(t *testing.T) {
	cur := &checks.PasswordPolicy{Exists: true, MinimumPasswordLength: 20, PasswordReusePrevention: 5, RequireSymbols: true, MaxPasswordAge: 90}
	got, err := checks.PasswordPolicyFlags(cur, 14, 24)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--minimum-password-length 20", "--password-reuse-prevention 24", "--require-symbols", "--no-require-numbers", "--max-password-age 90"} {
		if !strings.Contains(got, want) {
			t.Errorf("flags %q lack %q", got, want)
		}
	}
}

func TestDataEventSelectorsKeepStyleAndSelectors(t *testing.T) {
	basic := &checks.Trail{EventSelectors: []checks.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}}
	flag, value, err := checks.DataEventSelectorsFor(basic, "aws", []string{"a", "b"})
	if err != nil || flag != "--event-selectors" {
		t.Fatalf("flag %q err %v", flag, err)
	}
	var sels []map[string]any
	json.Unmarshal([]byte(value), &sels)
	if len(sels) != 2 || sels[0]["IncludeManagementEvents"] != true {
		t.Errorf("existing selector lost: %s", value)
	}
	advanced := &checks.Trail{AdvancedEventSelectors: []checks.AdvancedEventSelector{{Name: "mgmt", FieldSelectors: []checks.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}}}}
	flag, value, _ = checks.DataEventSelectorsFor(advanced, "aws", []string{"a"})
	if flag != "--advanced-event-selectors" || !strings.Contains(value, `"Name":"mgmt"`) || !strings.Contains(value, `"StartsWith":["arn:aws:s3:::a/"]`) {
		t.Errorf("advanced: %s %s", flag, value)
	}
}
