package awsconv

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
)

// fill sets every exported field reachable from v (a pointer) to a value that is not the zero
// value: strings to distinct words, numbers to 7, booleans to true, lists to one filled element.
// It returns the paths it set, so a test can show what it covered. A field a newer SDK adds is
// filled too, which is the point: the tests using it fail until the snapshot models that field.
func fill(v reflect.Value, path string, set *[]string) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.Type() == reflect.TypeOf(&time.Time{}) {
			v.Set(reflect.ValueOf(aws.Time(time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC))))
			*set = append(*set, path)
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), path, set)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				fill(v.Field(i), path+"."+f.Name, set)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), path+"[0]", set)
	case reflect.String:
		v.SetString(fmt.Sprintf("value-%d", len(*set)))
		*set = append(*set, path)
	case reflect.Bool:
		v.SetBool(true)
		*set = append(*set, path)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(7)
		*set = append(*set, path)
	default:
		panic(fmt.Sprintf("fill: %s is a %s", path, v.Kind()))
	}
}

// filled returns a T with every field set, and the paths set.
func filled[T any](t *testing.T) (T, []string) {
	t.Helper()
	var v T
	var set []string
	fill(reflect.ValueOf(&v).Elem(), reflect.TypeOf(v).Name(), &set)
	return v, set
}

// TestEventSelectorsModelEveryField: every field of both kinds of selector, filled, survives the
// snapshot and the builders of the printed put-event-selectors argument. A field a newer SDK
// adds to either type makes this fail until the model and the builders carry it.
func TestEventSelectorsModelEveryField(t *testing.T) {
	basic, basicSet := filled[cttypes.EventSelector](t)
	advanced, advancedSet := filled[cttypes.AdvancedEventSelector](t)
	t.Logf("filled %v and %v", basicSet, advancedSet)
	if basic.ExcludeManagementEventSources == nil || advanced.FieldSelectors[0].NotEndsWith == nil {
		t.Fatal("fill left fields empty")
	}
	model, _, lost := EventSelectors([]cttypes.EventSelector{basic}, nil)
	if lost != nil {
		t.Errorf("basic selector: unmodeled %v", lost)
	}
	if diff := cmp.Diff(basic.ExcludeManagementEventSources, model[0].ExcludeManagementEventSources); diff != "" {
		t.Errorf("ExcludeManagementEventSources (-api +snapshot):\n%s", diff)
	}
	if _, _, lost := EventSelectors(nil, []cttypes.AdvancedEventSelector{advanced}); lost != nil {
		t.Errorf("advanced selector: unmodeled %v", lost)
	}
}

// TestPasswordPolicyModelsEverySetting: every setting of the password policy, filled, is kept by
// the update the printed command makes. A setting a newer SDK adds makes this fail.
func TestPasswordPolicyModelsEverySetting(t *testing.T) {
	p, set := filled[iamtypes.PasswordPolicy](t)
	t.Logf("filled %v", set)
	if got := PasswordPolicy(&p); got.UnmodeledFields != nil {
		t.Errorf("unmodeled %v of %+v", got.UnmodeledFields, got)
	}
}

// TestUnmodeledFieldsNamesWhatIsLost compares an answer with rebuilds that lose a part of it the
// ways a builder can: a field left out, a list cut short, a value changed.
func TestUnmodeledFieldsNamesWhatIsLost(t *testing.T) {
	answer := selectorsAnswer{EventSelectors: []cttypes.EventSelector{
		{ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(true), ExcludeManagementEventSources: []string{"kms.amazonaws.com"}},
		{ReadWriteType: cttypes.ReadWriteTypeReadOnly, IncludeManagementEvents: aws.Bool(false),
			DataResources: []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::a/", "arn:aws:s3:::b/"}}}},
	}}
	full := func() []map[string]any {
		return []map[string]any{
			{"ReadWriteType": "All", "IncludeManagementEvents": true, "ExcludeManagementEventSources": []string{"kms.amazonaws.com"}},
			{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": false, "DataResources": []any{
				map[string]any{"Type": "AWS::S3::Object", "Values": []string{"arn:aws:s3:::a/", "arn:aws:s3:::b/"}}}},
		}
	}
	tests := []struct {
		name    string
		rebuild func(s []map[string]any) []map[string]any
		want    []string
	}{
		{"nothing lost", func(s []map[string]any) []map[string]any { return s }, nil},
		{"field left out (the printed command before ExcludeManagementEventSources was modelled)", func(s []map[string]any) []map[string]any {
			delete(s[0], "ExcludeManagementEventSources")
			return s
		}, []string{"EventSelectors[0].ExcludeManagementEventSources"}},
		{"list cut short", func(s []map[string]any) []map[string]any {
			s[1]["DataResources"].([]any)[0].(map[string]any)["Values"] = []string{"arn:aws:s3:::a/"}
			return s[:2]
		}, []string{"EventSelectors[1].DataResources[0].Values[1]"}},
		{"selector dropped", func(s []map[string]any) []map[string]any { return s[:1] }, []string{"EventSelectors[1]"}},
		{"value changed", func(s []map[string]any) []map[string]any {
			s[1]["IncludeManagementEvents"] = true
			return s
		}, []string{"EventSelectors[1].IncludeManagementEvents"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := unmodeledFields(answer, map[string]any{"EventSelectors": tc.rebuild(full())}, nil)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("unmodeled fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLifecycleUnmodeledFields(t *testing.T) {
	date := time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	tests := []struct {
		name    string
		rules   []types.LifecycleRule
		minSize types.TransitionDefaultMinimumObjectSize
		want    []string
	}{
		{
			name: "every modelled setting",
			rules: []types.LifecycleRule{{
				ID: aws.String("all"), Status: types.ExpirationStatusEnabled,
				Filter: &types.LifecycleRuleFilter{And: &types.LifecycleRuleAndOperator{
					Prefix: aws.String("docs/"), Tags: []types.Tag{tag("z", "1"), tag("a", "2")},
					ObjectSizeGreaterThan: aws.Int64(1024), ObjectSizeLessThan: aws.Int64(1 << 30),
				}},
				Transitions: []types.Transition{
					{Days: aws.Int32(0), StorageClass: types.TransitionStorageClassGlacierIr},
					{Date: &date, StorageClass: types.TransitionStorageClassDeepArchive},
				},
				Expiration: &types.LifecycleExpiration{Days: aws.Int32(3650), ExpiredObjectDeleteMarker: aws.Bool(false)},
				NoncurrentVersionTransitions: []types.NoncurrentVersionTransition{{
					NoncurrentDays: aws.Int32(30), NewerNoncurrentVersions: aws.Int32(2), StorageClass: types.TransitionStorageClassGlacier,
				}},
				NoncurrentVersionExpiration:    &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(90), NewerNoncurrentVersions: aws.Int32(3)},
				AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(7)},
			}},
			minSize: types.TransitionDefaultMinimumObjectSizeAllStorageClasses128k,
		},
		{
			name: "other spellings of one filter",
			rules: []types.LifecycleRule{
				{ID: aws.String("legacy"), Status: types.ExpirationStatusDisabled, Prefix: aws.String("logs/"), Expiration: &types.LifecycleExpiration{Date: &date}},
				{ID: aws.String("legacy-all"), Status: types.ExpirationStatusEnabled, Prefix: aws.String(""), Expiration: &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}},
				{ID: aws.String("one-tag"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Tag: &types.Tag{Key: aws.String("k"), Value: aws.String("v")}}, Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}},
				{ID: aws.String("and-prefix"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{And: &types.LifecycleRuleAndOperator{Prefix: aws.String("p/")}}, Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}},
				{ID: aws.String("empty-filter"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{}, Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}},
			},
		},
		{
			name:    "a minimum object size other than the default",
			rules:   []types.LifecycleRule{{ID: aws.String("r"), Status: types.ExpirationStatusEnabled, Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}}},
			minSize: types.TransitionDefaultMinimumObjectSizeVariesByStorageClass,
			want:    []string{MinimumObjectSizeField},
		},
		{
			// The snapshot reads a size of 0 as no size condition; S3 would not.
			name: "an explicit size of 0",
			rules: []types.LifecycleRule{{ID: aws.String("r"), Status: types.ExpirationStatusEnabled,
				Filter: &types.LifecycleRuleFilter{ObjectSizeGreaterThan: aws.Int64(0)}, Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}}},
			want: []string{"Rules[0].Filter.ObjectSizeGreaterThan"},
		},
		{
			name: "an expiration by days that also sets the delete marker flag",
			rules: []types.LifecycleRule{{ID: aws.String("r"), Status: types.ExpirationStatusEnabled,
				Expiration: &types.LifecycleExpiration{Days: aws.Int32(30), ExpiredObjectDeleteMarker: aws.Bool(true)}}},
			want: []string{"Rules[0].Expiration.ExpiredObjectDeleteMarker"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lc := LifecycleConfiguration(tc.rules, tc.minSize)
			if diff := cmp.Diff(tc.want, lc.UnmodeledFields); diff != "" {
				t.Errorf("unmodeled fields (-want +got):\n%s", diff)
			}
			if len(lc.Rules) != len(tc.rules) {
				t.Errorf("%d rules in the snapshot, want %d", len(lc.Rules), len(tc.rules))
			}
		})
	}
}

func TestReplicationUnmodeledFields(t *testing.T) {
	dest := func() *types.Destination { return &types.Destination{Bucket: aws.String("arn:aws:s3:::standby")} }
	v2 := func(mutate func(r *types.ReplicationRule)) types.ReplicationRule {
		r := types.ReplicationRule{
			ID: aws.String("r"), Status: types.ReplicationRuleStatusEnabled, Priority: aws.Int32(1),
			Filter:                  &types.ReplicationRuleFilter{Prefix: aws.String("")},
			DeleteMarkerReplication: &types.DeleteMarkerReplication{Status: types.DeleteMarkerReplicationStatusDisabled},
			Destination:             dest(),
		}
		if mutate != nil {
			mutate(&r)
		}
		return r
	}
	tests := []struct {
		name string
		rule types.ReplicationRule
		want []string
	}{
		{"every modelled setting", v2(func(r *types.ReplicationRule) {
			r.Filter = &types.ReplicationRuleFilter{And: &types.ReplicationRuleAndOperator{Prefix: aws.String("docs/")}}
			r.DeleteMarkerReplication.Status = types.DeleteMarkerReplicationStatusEnabled
			r.SourceSelectionCriteria = &types.SourceSelectionCriteria{SseKmsEncryptedObjects: &types.SseKmsEncryptedObjects{Status: types.SseKmsEncryptedObjectsStatusEnabled}}
			r.Destination = &types.Destination{
				Bucket: aws.String("arn:aws:s3:::standby"), Account: aws.String("210987654321"), StorageClass: types.StorageClassStandardIa,
				EncryptionConfiguration: &types.EncryptionConfiguration{ReplicaKmsKeyID: aws.String("arn:aws:kms:eu-west-1:210987654321:key/k")},
			}
		}), nil},
		{"SSE-KMS objects explicitly not replicated", v2(func(r *types.ReplicationRule) {
			r.SourceSelectionCriteria = &types.SourceSelectionCriteria{SseKmsEncryptedObjects: &types.SseKmsEncryptedObjects{Status: types.SseKmsEncryptedObjectsStatusDisabled}}
		}), nil},
		{"tag filter", v2(func(r *types.ReplicationRule) {
			r.Filter = &types.ReplicationRuleFilter{Tag: &types.Tag{Key: aws.String("k"), Value: aws.String("v")}}
		}), []string{"Rules[0].Filter.Tag"}},
		{"prefix and tags", v2(func(r *types.ReplicationRule) {
			r.Filter = &types.ReplicationRuleFilter{And: &types.ReplicationRuleAndOperator{Prefix: aws.String("docs/"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}
		}), []string{"Rules[0].Filter.And.Tags"}},
		{"existing object replication", v2(func(r *types.ReplicationRule) {
			r.ExistingObjectReplication = &types.ExistingObjectReplication{Status: types.ExistingObjectReplicationStatusEnabled}
		}), []string{"Rules[0].ExistingObjectReplication.Status"}},
		{"owner override and replica modifications", v2(func(r *types.ReplicationRule) {
			r.Destination.AccessControlTranslation = &types.AccessControlTranslation{Owner: types.OwnerOverrideDestination}
			r.SourceSelectionCriteria = &types.SourceSelectionCriteria{ReplicaModifications: &types.ReplicaModifications{Status: types.ReplicaModificationsStatusEnabled}}
		}), []string{"Rules[0].Destination.AccessControlTranslation.Owner", "Rules[0].SourceSelectionCriteria.ReplicaModifications.Status"}},
		{"V1 rule over the whole bucket", types.ReplicationRule{
			ID: aws.String("v1"), Status: types.ReplicationRuleStatusEnabled, Prefix: aws.String(""), Destination: dest(),
		}, []string{"Rules[0].Prefix"}},
		{"V1 rule with a prefix", types.ReplicationRule{
			ID: aws.String("v1"), Status: types.ReplicationRuleStatusEnabled, Prefix: aws.String("docs/"), Destination: dest(),
		}, []string{"Rules[0].Prefix"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := ReplicationConfiguration(&types.ReplicationConfiguration{Role: aws.String("arn:aws:iam::123456789012:role/r"), Rules: []types.ReplicationRule{tc.rule}})
			if diff := cmp.Diff(tc.want, rep.UnmodeledFields); diff != "" {
				t.Errorf("unmodeled fields (-want +got):\n%s", diff)
			}
			if len(rep.Rules) != 1 || rep.Role == "" {
				t.Errorf("replication = %+v", rep)
			}
		})
	}
}

// TestRewritesOfCollectedConfigurationsRefuse: what the collector records makes the builders of
// the printed commands refuse, naming the field.
func TestRewritesOfCollectedConfigurationsRefuse(t *testing.T) {
	lc := LifecycleConfiguration([]types.LifecycleRule{{ID: aws.String("r"), Status: types.ExpirationStatusEnabled,
		Filter: &types.LifecycleRuleFilter{ObjectSizeGreaterThan: aws.Int64(0)}}}, "")
	_, err := checks.RewriteLifecycle(&checks.Bucket{Name: "b", Lifecycle: lc}, checks.ArchiveRule(14, "GLACIER"))
	if err == nil || !strings.Contains(err.Error(), "Rules[0].Filter.ObjectSizeGreaterThan") {
		t.Errorf("lifecycle: err = %v", err)
	}
	rep := ReplicationConfiguration(&types.ReplicationConfiguration{Rules: []types.ReplicationRule{{
		ID: aws.String("v1"), Status: types.ReplicationRuleStatusEnabled, Prefix: aws.String(""), Destination: &types.Destination{Bucket: aws.String("arn:aws:s3:::s")},
	}}})
	_, err = checks.ReplicationWithRules(&checks.Bucket{Name: "b", Replication: rep}, map[string]any{"Rules": []any{}})
	if err == nil || !strings.Contains(err.Error(), "Rules[0].Prefix") {
		t.Errorf("replication: err = %v", err)
	}
}

func TestBucketNameFromARN(t *testing.T) {
	for in, want := range map[string]string{"arn:aws:s3:::standby": "standby", "standby": "standby"} {
		if got := bucketNameFromARN(in); got != want {
			t.Errorf("bucketNameFromARN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReplicationRule(t *testing.T) {
	got := replicationRule(types.ReplicationRule{
		ID: aws.String("r"), Status: types.ReplicationRuleStatusEnabled, Priority: aws.Int32(2),
		Filter:                  &types.ReplicationRuleFilter{And: &types.ReplicationRuleAndOperator{Prefix: aws.String("docs/")}},
		DeleteMarkerReplication: &types.DeleteMarkerReplication{Status: types.DeleteMarkerReplicationStatusEnabled},
		SourceSelectionCriteria: &types.SourceSelectionCriteria{SseKmsEncryptedObjects: &types.SseKmsEncryptedObjects{Status: types.SseKmsEncryptedObjectsStatusEnabled}},
		Destination: &types.Destination{
			Bucket: aws.String("arn:aws:s3:::standby"), Account: aws.String("210987654321"), StorageClass: types.StorageClassDeepArchive,
			EncryptionConfiguration: &types.EncryptionConfiguration{ReplicaKmsKeyID: aws.String("k")},
		},
	})
	want := checks.ReplicationRule{
		ID: "r", Status: "Enabled", Priority: 2, Prefix: "docs/", DestinationBucket: "standby",
		DestinationBucketARN: "arn:aws:s3:::standby", DestinationAccount: "210987654321", StorageClass: "DEEP_ARCHIVE",
		ReplicaKMSKeyID: "k", SSEKMSEncryptedObjects: true, DeleteMarkerReplication: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replication rule (-want +got):\n%s", diff)
	}
}
