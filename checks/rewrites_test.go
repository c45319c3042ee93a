package checks_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/policies"
)

// TestTrailSelectorsKeepEverySelectorField: the printed put-event-selectors argument carries every
// field of the existing selectors, ExcludeManagementEventSources included, whatever coffer adds.
func TestTrailSelectorsKeepEverySelectorField(t *testing.T) {
	basic := []checks.EventSelector{
		{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}, DataResources: []checks.DataResource{}},
		{ReadWriteType: "ReadOnly", DataResources: []checks.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::other/"}}}},
	}
	wantBasic := []any{
		map[string]any{"ReadWriteType": "All", "IncludeManagementEvents": true, "ExcludeManagementEventSources": []any{"kms.amazonaws.com", "rdsdata.amazonaws.com"}, "DataResources": []any{}},
		map[string]any{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": false, "DataResources": []any{map[string]any{"Type": "AWS::S3::Object", "Values": []any{"arn:aws:s3:::other/"}}}},
	}
	advanced := []checks.AdvancedEventSelector{{Name: "narrow", FieldSelectors: []checks.FieldSelector{
		{Field: "eventCategory", Equals: []string{"Data"}},
		{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::a/"}, EndsWith: []string{".db"}, NotEquals: []string{"arn:aws:s3:::a/x.db"},
			NotStartsWith: []string{"arn:aws:s3:::a/tmp/"}, NotEndsWith: []string{".tmp.db"}},
	}}}
	wantAdvanced := []any{map[string]any{"Name": "narrow", "FieldSelectors": []any{
		map[string]any{"Field": "eventCategory", "Equals": []any{"Data"}},
		map[string]any{"Field": "resources.ARN", "StartsWith": []any{"arn:aws:s3:::a/"}, "EndsWith": []any{".db"}, "NotEquals": []any{"arn:aws:s3:::a/x.db"},
			"NotStartsWith": []any{"arn:aws:s3:::a/tmp/"}, "NotEndsWith": []any{".tmp.db"}},
	}}}
	tests := []struct {
		name          string
		trail         checks.Trail
		buckets       []string
		addManagement bool
		wantFlag      string
		want          []any
	}{
		{"basic, data events added", checks.Trail{Name: "t", EventSelectors: basic}, []string{"vault"}, false, "--event-selectors", wantBasic},
		{"basic, management events added", checks.Trail{Name: "t", EventSelectors: basic}, nil, true, "--event-selectors", wantBasic},
		{"advanced, both added", checks.Trail{Name: "t", AdvancedEventSelectors: advanced}, []string{"vault"}, true, "--advanced-event-selectors", wantAdvanced},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flag, value, err := checks.TrailSelectors(&tc.trail, "aws", tc.buckets, tc.addManagement)
			if err != nil || flag != tc.wantFlag {
				t.Fatalf("flag %q, err %v", flag, err)
			}
			var got []any
			if err := json.Unmarshal([]byte(value), &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, value)
			}
			if len(got) <= len(tc.want) {
				t.Fatalf("coffer's selectors were not added: %s", value)
			}
			if diff := cmp.Diff(tc.want, got[:len(tc.want)]); diff != "" {
				t.Errorf("existing selectors in the printed argument (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRewritesRefuseWhatTheSnapshotDoesNotHold: for each whole configuration a command rewrites,
// the builder refuses with a *RefusedRewrite naming the configuration and the fields when the
// snapshot records unmodeled fields, and builds the command when it records none.
func TestRewritesRefuseWhatTheSnapshotDoesNotHold(t *testing.T) {
	fields := []string{"Rules[0].Filter.And.Tags", "Rules[1].ExistingObjectReplication.Status"}
	lifecycle := func(unmodeled []string) error {
		b := &checks.Bucket{Name: "vault", Lifecycle: &checks.Lifecycle{Rules: []checks.LifecycleRule{{ID: "mine", Status: "Enabled"}}, UnmodeledFields: unmodeled}}
		_, err := checks.RewriteLifecycle(b, checks.ArchiveRule(14, "GLACIER"))
		return err
	}
	selectors := func(unmodeled []string) error {
		t := &checks.Trail{Name: "audit", EventSelectors: []checks.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}, UnmodeledSelectorFields: unmodeled}
		_, _, err := checks.TrailSelectors(t, "aws", []string{"vault"}, true)
		return err
	}
	replication := func(unmodeled []string) error {
		b := &checks.Bucket{Name: "vault", Replication: &checks.Replication{Role: "arn:aws:iam::123456789012:role/r", UnmodeledFields: unmodeled,
			Rules: []checks.ReplicationRule{{ID: "mine", Status: "Enabled", Priority: 1, DestinationBucketARN: "arn:aws:s3:::other"}}}}
		_, err := checks.ReplicationWithRules(b, map[string]any{"Role": "arn:aws:iam::123456789012:role/r", "Rules": []any{map[string]any{"ID": "coffer-standby", "Priority": 2}}})
		return err
	}
	password := func(unmodeled []string) error {
		_, err := checks.PasswordPolicyFlags(&checks.PasswordPolicy{Exists: true, MinimumPasswordLength: 8, UnmodeledFields: unmodeled}, 14, 24)
		return err
	}
	tests := []struct {
		name  string
		build func([]string) error
		what  string
	}{
		{"lifecycle", lifecycle, "the lifecycle configuration of bucket vault"},
		{"event selectors", selectors, "the event selectors of trail audit"},
		{"replication", replication, "the replication configuration of bucket vault"},
		{"password policy", password, "the account password policy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.build(nil); err != nil {
				t.Fatalf("a configuration the snapshot holds whole is refused: %v", err)
			}
			err := tc.build(fields)
			var refused *checks.RefusedRewrite
			if !errors.As(err, &refused) {
				t.Fatalf("err = %v, want a *checks.RefusedRewrite", err)
			}
			if refused.What != tc.what {
				t.Errorf("What = %q, want %q", refused.What, tc.what)
			}
			for _, f := range fields {
				if !strings.Contains(refused.Reason, f) {
					t.Errorf("Reason %q does not name %s", refused.Reason, f)
				}
			}
		})
	}
	t.Run("many fields", func(t *testing.T) {
		many := []string{"A", "B", "C", "D", "E", "F", "G"}
		var refused *checks.RefusedRewrite
		if err := lifecycle(many); !errors.As(err, &refused) || !strings.HasSuffix(refused.Reason, "A, B, C, D, E and 2 more") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestReplicationWithRulesKeepsExistingRules: the printed put-bucket-replication configuration
// keeps every existing rule as it was, replaces only coffer's own, takes the role given, and keeps
// priorities unique.
func TestReplicationWithRulesKeepsExistingRules(t *testing.T) {
	b := &checks.Bucket{Name: "vault", Replication: &checks.Replication{Role: "arn:aws:iam::123456789012:role/old", Rules: []checks.ReplicationRule{
		{ID: "docs-to-dr", Status: "Enabled", Priority: 1, Prefix: "docs/", DestinationBucket: "dr", DestinationBucketARN: "arn:aws:s3:::dr",
			DestinationAccount: "210987654321", StorageClass: "GLACIER", ReplicaKMSKeyID: "arn:aws:kms:eu-west-1:210987654321:key/k",
			SSEKMSEncryptedObjects: true, DeleteMarkerReplication: true},
		{ID: "coffer-standby", Status: "Disabled", Priority: 5, DestinationBucket: "standby", DestinationBucketARN: "arn:aws:s3:::standby"},
	}}}
	add := map[string]any{"Role": "arn:aws:iam::123456789012:role/old", "Rules": []any{map[string]any{
		"ID": "coffer-standby", "Status": "Enabled", "Priority": json.Number("1"), "Filter": map[string]any{},
		"DeleteMarkerReplication": map[string]any{"Status": "Disabled"}, "Destination": map[string]any{"Bucket": "arn:aws:s3:::standby"},
	}}}
	out, err := checks.ReplicationWithRules(b, add)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Role": "arn:aws:iam::123456789012:role/old",
		"Rules": []any{
			map[string]any{"ID": "docs-to-dr", "Status": "Enabled", "Priority": float64(1), "Filter": map[string]any{"Prefix": "docs/"},
				"DeleteMarkerReplication": map[string]any{"Status": "Enabled"},
				"Destination": map[string]any{"Bucket": "arn:aws:s3:::dr", "Account": "210987654321", "StorageClass": "GLACIER",
					"EncryptionConfiguration": map[string]any{"ReplicaKmsKeyID": "arn:aws:kms:eu-west-1:210987654321:key/k"}},
				"SourceSelectionCriteria": map[string]any{"SseKmsEncryptedObjects": map[string]any{"Status": "Enabled"}}},
			// coffer's stale rule is replaced; its priority 1 is taken, so it goes above the rest.
			map[string]any{"ID": "coffer-standby", "Status": "Enabled", "Priority": float64(2), "Filter": map[string]any{},
				"DeleteMarkerReplication": map[string]any{"Status": "Disabled"}, "Destination": map[string]any{"Bucket": "arn:aws:s3:::standby"}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replication configuration (-want +got):\n%s", diff)
	}
	if p := add["Rules"].([]any)[0].(map[string]any)["Priority"]; p != json.Number("1") {
		t.Errorf("the check's vars were changed: priority %v", p)
	}
}

// TestPrintedRewritesKeepOrRefuse evaluates the built-in checks: a rewrite of a configuration the
// snapshot holds whole is printed with every existing part, one of a configuration it does not
// hold is not printed at all.
func TestPrintedRewritesKeepOrRefuse(t *testing.T) {
	e, err := checks.NewEngine(context.Background(), checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	primary := func(name string, unmodeled []string) checks.Bucket {
		b := bucket(name, "Enabled")
		b.Encryption = &checks.Encryption{Rules: []checks.EncryptionRule{{Algorithm: "AES256"}}}
		b.Lifecycle = &checks.Lifecycle{Rules: []checks.LifecycleRule{{ID: "expire-tmp", Status: "Enabled", Filter: checks.LifecycleFilter{Prefix: "tmp/"},
			Expiration: &checks.Expiration{Days: 7}}}, UnmodeledFields: unmodeled}
		b.Replication = &checks.Replication{Role: "arn:aws:iam::123456789012:role/replication", UnmodeledFields: unmodeled, Rules: []checks.ReplicationRule{
			{ID: "docs-elsewhere", Status: "Enabled", Priority: 3, Prefix: "docs/", DestinationBucket: "elsewhere", DestinationBucketARN: "arn:aws:s3:::elsewhere"}}}
		return b
	}
	standby := bucket("kept-standby", "Enabled")
	standby.Tags = map[string]string{"coffer:role": "standby", "coffer:standby-for": "kept"}
	standby2 := bucket("lossy-standby", "Enabled")
	standby2.Tags = map[string]string{"coffer:role": "standby", "coffer:standby-for": "lossy"}
	snap := snapshot(primary("kept", nil), primary("lossy", []string{"Rules[0].Filter.And.Tags"}), standby, standby2)
	r, err := e.Evaluate(context.Background(), snap, checks.EvalOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	commands := func(check, bucket string) (string, bool) {
		for _, f := range r.Findings {
			if f.CheckID == check && f.Resource.Name == bucket {
				if f.Status != checks.StatusFail {
					t.Fatalf("%s on %s is %s (%s), want FAIL", check, bucket, f.Status, f.Message)
				}
				return strings.Join(f.Remediation.Commands, "\n"), true
			}
		}
		t.Fatalf("no %s finding on %s", check, bucket)
		return "", false
	}
	for _, c := range []struct{ check, op, existing string }{
		{"s3-bucket-lifecycle-archive", "aws s3api put-bucket-lifecycle-configuration ", `"ID":"expire-tmp"`},
		{"s3-bucket-replication", "aws s3api put-bucket-replication ", `"ID":"docs-elsewhere"`},
	} {
		kept, _ := commands(c.check, "kept")
		if !strings.Contains(kept, c.op) || !strings.Contains(kept, c.existing) {
			t.Errorf("%s on kept: want %s… carrying %s, got:\n%s", c.check, c.op, c.existing, kept)
		}
		lossy, _ := commands(c.check, "lossy")
		for _, line := range strings.Split(lossy, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), c.op) {
				t.Errorf("%s on lossy: a command that would drop Rules[0].Filter.And.Tags was printed: %s", c.check, line)
			}
		}
	}
}
