package fix_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/fix"
)

type journalDoc struct {
	Account string `json:"account"`
	Entries []struct {
		N        int             `json:"n"`
		Check    string          `json:"check"`
		Resource string          `json:"resource"`
		Outcome  string          `json:"outcome"`
		Error    string          `json:"error"`
		APICalls []string        `json:"api_calls"`
		Before   json.RawMessage `json:"before"`
		After    json.RawMessage `json:"after"`
	} `json:"entries"`
}

func readJournal(t *testing.T, path string) journalDoc {
	t.Helper()
	var doc journalDoc
	if err := json.Unmarshal(readFile(t, path), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func outcomeOf(res *fix.Result, check, arn string) fix.Outcome {
	for _, o := range res.Outcomes {
		if o.CheckID == check && o.Resource.ARN == arn {
			return o
		}
	}
	return fix.Outcome{Outcome: "(not planned)"}
}

// TestPreconditionFailureDoesNotStopTheOthers: moto (like S3 before 2023) refuses Object Lock on
// a bucket that already holds objects. Versioning on that bucket, and every other change, still
// happen; the failure is reported with its reason; the journal has every change; no object
// version is touched.
func TestPreconditionFailureDoesNotStopTheOthers(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	createBucket(ctx, t, e, "full-bucket", "us-east-1", nil)
	versions := putVersions(ctx, t, e, "full-bucket")
	setVersioning(ctx, t, e, "full-bucket", s3types.BucketVersioningStatusSuspended)
	createBucket(ctx, t, e, "empty-bucket", "us-east-1", nil)
	cfg := checks.DefaultConfig()

	snap, before := e.scan(ctx, t, cfg)
	plan, err := fix.NewPlan(before, snap, cfg, []string{"s3-bucket-object-lock"})
	if err != nil {
		t.Fatal(err)
	}
	journalPath := filepath.Join(t.TempDir(), "journal.json")
	journal, err := fix.CreateJournal(journalPath, account, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := fix.Apply(ctx, plan, e.clients(), journal)

	lock := outcomeOf(res, "s3-bucket-object-lock", bucketARN("full-bucket"))
	t.Logf("object lock on a bucket with objects: %s", lock.Error)
	if lock.Outcome != fix.OutcomeFailed || lock.Error == "" {
		t.Errorf("object lock on a bucket with objects: %s %q, want failed with a reason", lock.Outcome, lock.Error)
	}
	for _, want := range []struct{ check, arn string }{
		{"s3-bucket-versioning", bucketARN("full-bucket")},
		{"s3-bucket-object-lock", bucketARN("empty-bucket")},
		{"s3-bucket-public-access-block", bucketARN("empty-bucket")},
		{"s3-account-public-access-block", "arn:aws:iam::" + account + ":root"},
	} {
		if o := outcomeOf(res, want.check, want.arn); o.Outcome != fix.OutcomeApplied {
			t.Errorf("%s on %s: %s %s, want applied", want.check, want.arn, o.Outcome, o.Error)
		}
	}
	if res.Count(fix.OutcomeFailed) != 1 {
		t.Errorf("%d failed changes, want exactly the one:\n%+v", res.Count(fix.OutcomeFailed), res.Outcomes)
	}
	doc := readJournal(t, journalPath)
	if len(doc.Entries) != len(plan.Changes) {
		t.Errorf("journal has %d entries for %d changes", len(doc.Entries), len(plan.Changes))
	}
	for _, en := range doc.Entries {
		if en.Check == "s3-bucket-object-lock" && en.Resource == bucketARN("full-bucket") {
			if en.Outcome != fix.OutcomeFailed || en.Error == "" || len(en.APICalls) == 0 || len(en.Before) == 0 {
				t.Errorf("journal entry of the failed change: %+v", en)
			}
		}
		if en.Outcome == fix.OutcomeStarted {
			t.Errorf("journal entry %d %s left as started", en.N, en.Check)
		}
	}
	if got := listVersions(ctx, t, e, "full-bucket"); strings.Join(got, ",") != strings.Join(versions, ",") {
		t.Errorf("object versions changed: %v -> %v", versions, got)
	}
	var sb strings.Builder
	if err := res.Write(&sb); err != nil || !strings.Contains(sb.String(), "failed") {
		t.Errorf("result summary: %v\n%s", err, sb.String())
	}
}

// TestAccessDeniedMidPlan runs the fixer as a user that may do everything except enable key
// rotation (moto enforcing IAM): the rotation change fails as AccessDenied, the others apply, and
// the journal never holds the user's secret.
func TestAccessDeniedMidPlan(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	createBucket(ctx, t, e, "denied-case", "us-east-1", nil)
	keyARN := createKey(ctx, t, e, "us-east-1", "")
	api := e.iam()
	must[*iam.CreateUserOutput](t, "user")(api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("fixer")}))
	must[*iam.PutUserPolicyOutput](t, "policy")(api.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName: aws.String("fixer"), PolicyName: aws.String("all-but-rotation"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"kms:EnableKeyRotation","Resource":"*"}]}`),
	}))
	key := must[*iam.CreateAccessKeyOutput](t, "key")(api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("fixer")})).AccessKey
	cfg := checks.DefaultConfig()
	snap, before := e.scan(ctx, t, cfg)
	plan, err := fix.NewPlan(before, snap, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	keep := only(plan, "kms-key-rotation")
	keep.Changes = append(keep.Changes, only(plan, "s3-bucket-public-access-block").Changes...)

	e.srv.EnforceAuth(t)
	defer e.srv.Reset(t)
	denied := e.srv.AWSConfigWithKeys("us-east-1", aws.ToString(key.AccessKeyId), aws.ToString(key.SecretAccessKey))
	journalPath := filepath.Join(t.TempDir(), "journal.json")
	journal, err := fix.CreateJournal(journalPath, account, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := fix.Apply(ctx, keep, fix.NewClients(denied, e.opts.Options), journal)

	rot := outcomeOf(res, "kms-key-rotation", keyARN)
	t.Logf("rotation as a denied user: %s", rot.Error)
	if rot.Outcome != fix.OutcomeFailed || !strings.Contains(rot.Error, "AccessDenied") {
		t.Errorf("rotation as a denied user: %s %q, want failed with AccessDenied", rot.Outcome, rot.Error)
	}
	if o := outcomeOf(res, "s3-bucket-public-access-block", bucketARN("denied-case")); o.Outcome != fix.OutcomeApplied {
		t.Errorf("bucket BPA: %s %s, want applied", o.Outcome, o.Error)
	}
	data := string(readFile(t, journalPath))
	if strings.Contains(data, aws.ToString(key.SecretAccessKey)) || strings.Contains(data, aws.ToString(key.AccessKeyId)) {
		t.Error("the journal contains the caller's credentials")
	}
	if len(readJournal(t, journalPath).Entries) != len(keep.Changes) {
		t.Errorf("journal incomplete:\n%s", data)
	}
}
