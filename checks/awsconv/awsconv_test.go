package awsconv_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsconv"
)

func TestLifecycleRuleLegacyPrefix(t *testing.T) {
	date := time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)
	got := awsconv.LifecycleRule(types.LifecycleRule{
		ID: aws.String("old"), Status: types.ExpirationStatusDisabled, Prefix: aws.String("logs/"),
		Transitions: []types.Transition{{Date: &date, StorageClass: types.TransitionStorageClassGlacier}},
		Filter:      &types.LifecycleRuleFilter{ObjectSizeGreaterThan: aws.Int64(1024), Tag: &types.Tag{Key: aws.String("k"), Value: aws.String("v")}},
	})
	want := checks.LifecycleRule{
		ID: "old", Status: "Disabled",
		Filter:                checks.LifecycleFilter{Prefix: "logs/", Tags: map[string]string{"k": "v"}, ObjectSizeGreaterThan: 1024},
		Transitions:           []checks.Transition{{Date: "2031-05-01T00:00:00Z", StorageClass: "GLACIER"}},
		NoncurrentTransitions: []checks.NoncurrentTransition{},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lifecycle rule (-want +got):\n%s", diff)
	}
}

// TestLifecycleDates: dates are RFC 3339 in UTC whatever zone the SDK parsed them in; no date is "".
func TestLifecycleDates(t *testing.T) {
	tests := []struct {
		name string
		date *time.Time
		want string
	}{
		{"other zone", aws.Time(time.Date(2030, 1, 2, 0, 0, 0, 0, time.FixedZone("x", 3600))), "2030-01-01T23:00:00Z"},
		{"none", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := awsconv.LifecycleRule(types.LifecycleRule{Expiration: &types.LifecycleExpiration{Date: tc.date}})
			if got.Expiration == nil || got.Expiration.Date != tc.want {
				t.Errorf("expiration = %+v, want date %q", got.Expiration, tc.want)
			}
		})
	}
}

func TestS3Tags(t *testing.T) {
	tests := []struct {
		name string
		in   []types.Tag
		want map[string]string
	}{
		{"none", nil, map[string]string{}},
		{"some", []types.Tag{{Key: aws.String("coffer:role"), Value: aws.String("standby")}, {Key: aws.String("empty")}}, map[string]string{"coffer:role": "standby", "empty": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, awsconv.S3Tags(tc.in)); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
		})
	}
}
