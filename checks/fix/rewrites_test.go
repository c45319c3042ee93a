package fix_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/fix"
)

// TestPlanRefusesLossyRewrites: a finding whose fix rewrites a whole configuration the snapshot
// does not hold (the collector recorded unmodeled fields on it) is listed as not fixed, with the
// reason naming the fields, and no change for it is planned; a change with a part that is no
// rewrite keeps that part.
func TestPlanRefusesLossyRewrites(t *testing.T) {
	unmodeled := []string{"Rules[0].Future.Setting"}
	snap := planSnapshot()
	for i := range snap.S3.Buckets {
		if b := &snap.S3.Buckets[i]; b.Name == "primary-c" {
			b.Lifecycle.UnmodeledFields = unmodeled
		}
	}
	snap.Account.PasswordPolicy = &checks.PasswordPolicy{Exists: true, MinimumPasswordLength: 8, UnmodeledFields: unmodeled}
	off := false
	trail := &snap.CloudTrail.Trails[0]
	trail.IsLogging = &off
	trail.EventSelectors = []checks.EventSelector{{ReadWriteType: "ReadOnly", IncludeManagementEvents: true}}
	trail.UnmodeledSelectorFields = unmodeled

	cfg := checks.DefaultConfig()
	cfg.Fix.KMSKey = "alias/backup"
	report, err := builtIn(t).Evaluate(context.Background(), snap, checks.EvalOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := fix.NewPlan(report, snap, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	notFixed := map[string]string{}
	for _, n := range plan.NotFixed {
		notFixed[n.CheckID+" "+n.Resource.Name] = n.Reason
	}
	for _, tc := range []struct{ key, what string }{
		{"s3-bucket-lifecycle-archive primary-c", "the lifecycle configuration of bucket primary-c"},
		{"s3-bucket-lifecycle-hygiene primary-c", "the lifecycle configuration of bucket primary-c"},
		{"iam-password-policy " + account, "the account password policy"},
		{"cloudtrail-s3-data-events primary-c", "the event selectors of trail eu-trail"},
		{"cloudtrail-multi-region " + account, "the event selectors of trail eu-trail"},
	} {
		reason, ok := notFixed[tc.key]
		if !ok {
			t.Errorf("%s is not listed as not fixed (not fixed: %v)", tc.key, notFixed)
			continue
		}
		if !strings.Contains(reason, tc.what+" is not rewritten") || !strings.Contains(reason, unmodeled[0]) {
			t.Errorf("%s: reason %q, want it to refuse rewriting %s and name %s", tc.key, reason, tc.what, unmodeled[0])
		}
	}
	for _, c := range plan.Changes {
		switch {
		case strings.HasPrefix(c.CheckID, "s3-bucket-lifecycle-") && c.Resource.Name == "primary-c",
			c.CheckID == "iam-password-policy", c.CheckID == "cloudtrail-s3-data-events":
			t.Errorf("change %d %s on %s planned for a configuration the snapshot does not hold", c.N, c.CheckID, c.Resource.Name)
		case c.CheckID == "cloudtrail-multi-region":
			// Starting the trail stays; its selectors are left to the user.
			if calls := strings.Join(c.APICalls, " "); !strings.Contains(calls, "cloudtrail:StartLogging") || strings.Contains(calls, "PutEventSelectors") {
				t.Errorf("multi-region change calls %v, want StartLogging and no PutEventSelectors", c.APICalls)
			}
			for _, cmd := range c.Commands {
				if strings.Contains(cmd, "put-event-selectors") {
					t.Errorf("multi-region change prints %s", cmd)
				}
			}
		}
	}
	multi := changeFor(plan, "cloudtrail-multi-region", "arn:aws:iam::"+account+":root")
	if multi == nil {
		t.Fatal("the multi-region change (start logging) was dropped with its selectors part")
	}
	// Applied, it leaves the selectors alone.
	ct := &recordingTrail{}
	p := *plan
	p.Changes = []*fix.Change{multi}
	res := fix.Apply(context.Background(), &p, &fix.Clients{CloudTrail: func(string) fix.CloudTrailAPI { return ct }, HomeRegion: "us-east-1"}, nil)
	if o := res.Outcomes[0]; o.Outcome != fix.OutcomeApplied {
		t.Errorf("multi-region change: %s %s", o.Outcome, o.Error)
	}
	if strings.Join(ct.calls, " ") != "GetTrail UpdateTrail GetTrailStatus StartLogging" {
		t.Errorf("calls %v, want the trail updated and started and its selectors neither read nor written", ct.calls)
	}
}

// recordingTrail is a trail that is neither multi-region nor logging; it records the calls made.
type recordingTrail struct {
	fix.CloudTrailAPI
	calls []string
}

func (r *recordingTrail) GetTrail(context.Context, *cloudtrail.GetTrailInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailOutput, error) {
	r.calls = append(r.calls, "GetTrail")
	return &cloudtrail.GetTrailOutput{Trail: &cttypes.Trail{Name: aws.String("eu-trail")}}, nil
}

func (r *recordingTrail) UpdateTrail(context.Context, *cloudtrail.UpdateTrailInput, ...func(*cloudtrail.Options)) (*cloudtrail.UpdateTrailOutput, error) {
	r.calls = append(r.calls, "UpdateTrail")
	return &cloudtrail.UpdateTrailOutput{}, nil
}

func (r *recordingTrail) GetTrailStatus(context.Context, *cloudtrail.GetTrailStatusInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
	r.calls = append(r.calls, "GetTrailStatus")
	return &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(false)}, nil
}

func (r *recordingTrail) StartLogging(context.Context, *cloudtrail.StartLoggingInput, ...func(*cloudtrail.Options)) (*cloudtrail.StartLoggingOutput, error) {
	r.calls = append(r.calls, "StartLogging")
	return &cloudtrail.StartLoggingOutput{}, nil
}

func (r *recordingTrail) GetEventSelectors(context.Context, *cloudtrail.GetEventSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error) {
	r.calls = append(r.calls, "GetEventSelectors")
	return &cloudtrail.GetEventSelectorsOutput{}, nil
}

func (r *recordingTrail) PutEventSelectors(context.Context, *cloudtrail.PutEventSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.PutEventSelectorsOutput, error) {
	r.calls = append(r.calls, "PutEventSelectors")
	return &cloudtrail.PutEventSelectorsOutput{}, nil
}

// lossyLifecycleS3 answers GetBucketLifecycleConfiguration with a rule the snapshot cannot hold (an
// explicit minimum size of 0, which moto does not return) and records any write.
type lossyLifecycleS3 struct {
	fix.S3API
	puts int
}

func (f *lossyLifecycleS3) GetBucketLifecycleConfiguration(context.Context, *s3.GetBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error) {
	return &s3.GetBucketLifecycleConfigurationOutput{Rules: []s3types.LifecycleRule{{
		ID: aws.String("sized"), Status: s3types.ExpirationStatusEnabled,
		Filter:     &s3types.LifecycleRuleFilter{ObjectSizeGreaterThan: aws.Int64(0)},
		Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(30)},
	}}, TransitionDefaultMinimumObjectSize: s3types.TransitionDefaultMinimumObjectSizeVariesByStorageClass}, nil
}

func (f *lossyLifecycleS3) PutBucketLifecycleConfiguration(context.Context, *s3.PutBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error) {
	f.puts++
	return &s3.PutBucketLifecycleConfigurationOutput{}, nil
}

// TestLifecycleFixRefusesLiveLossyRules: the lifecycle fixer rewrites the live rules from the
// snapshot's model, so when the live configuration holds a setting the model cannot (it changed
// after the scan), the change fails before any write and says which setting. The live minimum
// object size is not a reason: the fixer passes it through.
func TestLifecycleFixRefusesLiveLossyRules(t *testing.T) {
	plan, err := planFor(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := only(plan, "s3-bucket-lifecycle-archive")
	if len(p.Changes) == 0 {
		t.Fatal("no lifecycle change planned")
	}
	fake := &lossyLifecycleS3{}
	res := fix.Apply(context.Background(), p, &fix.Clients{S3: func(string) fix.S3API { return fake }, HomeRegion: "us-east-1"}, nil)
	for _, o := range res.Outcomes {
		if o.Outcome != fix.OutcomeFailed || !strings.Contains(o.Error, "Rules[0].Filter.ObjectSizeGreaterThan") || strings.Contains(o.Error, "TransitionDefaultMinimumObjectSize") {
			t.Errorf("change %d on %s: %s %q, want failed naming only Rules[0].Filter.ObjectSizeGreaterThan", o.N, o.Resource.Name, o.Outcome, o.Error)
		}
	}
	if fake.puts != 0 {
		t.Errorf("%d lifecycle writes, want none", fake.puts)
	}
}
