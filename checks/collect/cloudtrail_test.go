package collect_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
)

// TestCollectEventSelectorsKeepEveryField seeds a trail with basic selectors that exclude
// management event sources and one with advanced selectors using every operator, collects them
// from moto, and then runs the printed put-event-selectors command (coffer adding data events for
// a bucket) with the real aws CLI: every selector must come back from CloudTrail as it was, with
// nothing recorded as unmodeled.
func TestCollectEventSelectorsKeepEveryField(t *testing.T) {
	aws_, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the aws CLI is not on PATH: run `make test` (it installs it into .venv): %v", err)
	}
	ctx := context.Background()
	e := newEnv(t)
	createBucket(ctx, t, e, "trail-logs", "us-east-1", false)
	ct := e.trail("us-east-1")
	basic := []cttypes.EventSelector{
		{
			ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(true),
			ExcludeManagementEventSources: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"},
		},
		{
			ReadWriteType: cttypes.ReadWriteTypeWriteOnly, IncludeManagementEvents: aws.Bool(false),
			DataResources: []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::other/"}}},
		},
	}
	advanced := []cttypes.AdvancedEventSelector{
		{Name: aws.String("management without KMS"), FieldSelectors: []cttypes.AdvancedFieldSelector{
			{Field: aws.String("eventCategory"), Equals: []string{"Management"}},
			{Field: aws.String("eventSource"), NotEquals: []string{"kms.amazonaws.com"}},
		}},
		{Name: aws.String("some objects"), FieldSelectors: []cttypes.AdvancedFieldSelector{
			{Field: aws.String("eventCategory"), Equals: []string{"Data"}},
			{Field: aws.String("resources.type"), Equals: []string{"AWS::S3::Object"}},
			{Field: aws.String("resources.ARN"), StartsWith: []string{"arn:aws:s3:::other/"}, NotStartsWith: []string{"arn:aws:s3:::other/tmp/"},
				EndsWith: []string{".db"}, NotEndsWith: []string{".tmp.db"}},
		}},
	}
	arns := map[string]string{}
	for name, in := range map[string]*cloudtrail.PutEventSelectorsInput{
		"basic":    {EventSelectors: basic},
		"advanced": {AdvancedEventSelectors: advanced},
	} {
		tr := must[*cloudtrail.CreateTrailOutput](t, "trail "+name)(ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
			Name: aws.String(name), S3BucketName: aws.String("trail-logs"),
		}))
		arns[name] = aws.ToString(tr.TrailARN)
		in.TrailName = aws.String(name)
		must[*cloudtrail.PutEventSelectorsOutput](t, "selectors "+name)(ct.PutEventSelectors(ctx, in))
	}

	snap := collectOK(ctx, t, e, e.opts)
	noErrors(t, snap)
	trails := map[string]checks.Trail{}
	for _, tr := range snap.CloudTrail.Trails {
		trails[tr.ARN] = tr
	}
	wantBasic := []checks.EventSelector{
		{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}, DataResources: []checks.DataResource{}},
		{ReadWriteType: "WriteOnly", DataResources: []checks.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::other/"}}}},
	}
	wantAdvanced := []checks.AdvancedEventSelector{
		{Name: "management without KMS", FieldSelectors: []checks.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Management"}},
			{Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}},
		}},
		{Name: "some objects", FieldSelectors: []checks.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Data"}},
			{Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
			{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::other/"}, NotStartsWith: []string{"arn:aws:s3:::other/tmp/"},
				EndsWith: []string{".db"}, NotEndsWith: []string{".tmp.db"}},
		}},
	}
	if got := trails[arns["basic"]]; !cmp.Equal(wantBasic, got.EventSelectors) || got.UnmodeledSelectorFields != nil {
		t.Errorf("basic selectors (-want +got):\n%s\nunmodeled: %v", cmp.Diff(wantBasic, got.EventSelectors), got.UnmodeledSelectorFields)
	}
	if got := trails[arns["advanced"]]; !cmp.Equal(wantAdvanced, got.AdvancedEventSelectors) || got.UnmodeledSelectorFields != nil {
		t.Errorf("advanced selectors (-want +got):\n%s\nunmodeled: %v", cmp.Diff(wantAdvanced, got.AdvancedEventSelectors), got.UnmodeledSelectorFields)
	}

	// The printed command, run as printed, keeps every existing selector and adds coffer's.
	for name, wantLen := range map[string]int{"basic": len(basic), "advanced": len(advanced)} {
		t.Run("printed command on "+name, func(t *testing.T) {
			tr := trails[arns[name]]
			flag, value, err := checks.TrailSelectors(&tr, "aws", []string{"vault"}, false)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(aws_, "cloudtrail", "put-event-selectors", "--trail-name", name, "--region", "us-east-1", flag, value)
			cmd.Env = e.srv.CLIEnv()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", cmd, err, out)
			}
			sel := must[*cloudtrail.GetEventSelectorsOutput](t, "selectors")(ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(name)}))
			got, want := asJSON(t, sel.EventSelectors), asJSON(t, basic)
			if name == "advanced" {
				got, want = asJSON(t, sel.AdvancedEventSelectors), asJSON(t, advanced)
			}
			var gotList []any
			fromJSON(t, got, &gotList)
			if len(gotList) != wantLen+1 {
				t.Fatalf("want the %d selectors plus coffer's, got %s", wantLen, got)
			}
			if diff := cmp.Diff(want, asJSON(t, gotList[:wantLen])); diff != "" {
				t.Errorf("existing selectors changed by the printed command (-before +after):\n%s", diff)
			}
		})
	}
}

// asJSON renders v as JSON with sorted keys and without nulls and empty lists (both mean "not set"
// to the API), so SDK values and decoded JSON compare by meaning.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	fromJSON(t, string(raw), &generic)
	out, err := json.Marshal(dropUnset(generic))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func fromJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
}

func dropUnset(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if l, ok := e.([]any); e == nil || ok && len(l) == 0 {
				delete(x, k)
				continue
			}
			x[k] = dropUnset(e)
		}
	case []any:
		for i, e := range x {
			x[i] = dropUnset(e)
		}
	}
	return v
}
