package fix_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/fix"
)

// TestTLSOnlyFixKeepsThePolicyDigitForDigit applies the TLS-only fix in moto to a bucket policy
// whose condition value is an integer float64 cannot hold, and reads the policy back: it is the
// user's policy as written (compacted) with coffer's statement appended, and the journal a user
// would undo from shows the number as it was.
func TestTLSOnlyFixKeepsThePolicyDigitForDigit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	const bucket = "exact-bucket"
	// Pretty-printed, keys in an unusual order, a number with more digits than float64 keeps.
	const existing = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "CapListing",
      "Principal": "*",
      "Effect": "Deny",
      "Action": "s3:ListBucket",
      "Resource": "arn:aws:s3:::exact-bucket",
      "Condition": {"NumericGreaterThan": {"s3:max-keys": 12345678901234567890}},
      "X-Unknown": [1.0, 1e3]
    }
  ]
}`
	createBucket(ctx, t, e, bucket, "us-east-1", nil)
	must[*s3.PutBucketPolicyOutput](t, "policy")(e.s3("us-east-1").PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
		Bucket: aws.String(bucket), Policy: aws.String(existing),
	}))
	cfg := checks.DefaultConfig()
	snap, report := e.scan(ctx, t, cfg)
	if got := status(report, "s3-bucket-tls-only", bucketARN(bucket)); got != "FAIL" {
		t.Fatalf("before the fix s3-bucket-tls-only is %s, want FAIL", got)
	}
	plan, err := fix.NewPlan(report, snap, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := only(plan, "s3-bucket-tls-only")
	if changeFor(p, "s3-bucket-tls-only", bucketARN(bucket)) == nil {
		t.Fatalf("no TLS-only change planned for %s; not fixed: %+v", bucket, plan.NotFixed)
	}
	var shown strings.Builder
	if err := p.Write(&shown); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(shown.String(), "12345678901234567890"); n < 2 {
		t.Errorf("the plan shows the number as written %d times, want it in before and after:\n%s", n, shown.String())
	}
	journalPath := filepath.Join(t.TempDir(), "journal.json")
	journal, err := fix.CreateJournal(journalPath, account, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := fix.Apply(ctx, p, e.clients(), journal)
	for _, o := range res.Outcomes {
		if o.Outcome != fix.OutcomeApplied {
			t.Fatalf("change %d: %s %s", o.N, o.Outcome, o.Error)
		}
	}

	out := must[*s3.GetBucketPolicyOutput](t, "get policy")(e.s3("us-east-1").GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)}))
	want := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"CapListing","Principal":"*","Effect":"Deny","Action":"s3:ListBucket","Resource":"arn:aws:s3:::exact-bucket","Condition":{"NumericGreaterThan":{"s3:max-keys":12345678901234567890}},"X-Unknown":[1.0,1e3]},` +
		`{"Sid":"CofferDenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::exact-bucket","arn:aws:s3:::exact-bucket/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	if got := aws.ToString(out.Policy); got != want {
		t.Errorf("live policy after the fix\n got %s\nwant %s", got, want)
	}
	var doc struct {
		Entries []struct {
			Commands      []string
			Before, After json.RawMessage
		}
	}
	if err := json.Unmarshal(readFile(t, journalPath), &doc); err != nil || len(doc.Entries) != 1 {
		t.Fatalf("journal: %v, %d entries, want 1", err, len(doc.Entries))
	}
	en := doc.Entries[0]
	compact := func(raw json.RawMessage) string {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			t.Fatalf("journal entry: %v", err)
		}
		return buf.String()
	}
	for what, text := range map[string]string{"before": compact(en.Before), "after": compact(en.After), "command": strings.Join(en.Commands, "\n")} {
		if !strings.Contains(text, `"s3:max-keys":12345678901234567890`) {
			t.Errorf("the journal's %s does not have the number as written: %s", what, text)
		}
	}
}

// TestRefusedMergesWriteNothing: a policy with a key twice in one object is never rewritten. When
// the snapshot shows it, the plan lists the finding as not fixed with the reason; when it appears
// live between planning and applying, the change fails with the reason. Either way no mutating
// call is made and the live document is still the one the user wrote.
func TestRefusedMergesWriteNothing(t *testing.T) {
	const (
		bucket = "dup-bucket"
		role   = "DupOperator"
		// An Allow without MFA (the check fails), with "Effect" twice.
		dupTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole","Effect":"Allow"}]}`
		// No TLS statement (the check fails), with "aws:SourceVpce" twice in one condition.
		dupPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"OnlyVpce","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::dup-bucket/*",` +
			`"Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1","aws:SourceVpce":"vpce-2"}}}]}`
	)
	roleARN := "arn:aws:iam::" + account + ":role/" + role
	type target struct {
		check, arn string
		include    []string
		// seed creates the resource with doc as its policy; put replaces the policy; get reads it.
		seed func(ctx context.Context, t *testing.T, e *env, doc string)
		put  func(ctx context.Context, t *testing.T, e *env, doc string)
		get  func(ctx context.Context, t *testing.T, e *env) string
		// clean passes the merge; dup is refused with reason.
		clean, dup, reason string
	}
	bucketPolicy := target{
		check: "s3-bucket-tls-only", arn: bucketARN(bucket),
		seed: func(ctx context.Context, t *testing.T, e *env, doc string) {
			createBucket(ctx, t, e, bucket, "us-east-1", nil)
			must[*s3.PutBucketPolicyOutput](t, "policy")(e.s3("us-east-1").PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc)}))
		},
		put: func(ctx context.Context, t *testing.T, e *env, doc string) {
			must[*s3.PutBucketPolicyOutput](t, "policy")(e.s3("us-east-1").PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc)}))
		},
		get: func(ctx context.Context, t *testing.T, e *env) string {
			out := must[*s3.GetBucketPolicyOutput](t, "get policy")(e.s3("us-east-1").GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)}))
			return aws.ToString(out.Policy)
		},
		clean:  strings.Replace(existingBucketPolicy, "policy-bucket", bucket, -1),
		dup:    dupPolicy,
		reason: `the bucket policy of arn:aws:s3:::dup-bucket is not rewritten: it has the key "aws:SourceVpce" twice in one object (line 1, column 209); edit it by hand`,
	}
	trustPolicy := target{
		check: "iam-backup-role-mfa", arn: roleARN, include: []string{"iam-backup-role-mfa"},
		seed: func(ctx context.Context, t *testing.T, e *env, doc string) {
			must[*iam.CreateRoleOutput](t, "role")(e.iam().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role), AssumeRolePolicyDocument: aws.String(doc)}))
			must[*iam.AttachRolePolicyOutput](t, "attach")(e.iam().AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(s3FullAccess)}))
		},
		put: func(ctx context.Context, t *testing.T, e *env, doc string) {
			must[*iam.UpdateAssumeRolePolicyOutput](t, "trust")(e.iam().UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(role), PolicyDocument: aws.String(doc)}))
		},
		get: func(ctx context.Context, t *testing.T, e *env) string {
			out := must[*iam.GetRoleOutput](t, "get role")(e.iam().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)}))
			return checks.DecodePolicyText(aws.ToString(out.Role.AssumeRolePolicyDocument))
		},
		clean:  existingTrust,
		dup:    dupTrust,
		reason: `the trust policy of ` + roleARN + ` is not rewritten: it has the key "Effect" twice in one object (line 1, column 134); edit it by hand`,
	}
	tests := []struct {
		name string
		target
		// live: the duplicate appears after planning (the apply-time re-read refuses it).
		live bool
	}{
		{"bucket policy in the snapshot", bucketPolicy, false},
		{"bucket policy changed after planning", bucketPolicy, true},
		{"trust policy in the snapshot", trustPolicy, false},
		{"trust policy changed after planning", trustPolicy, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			seedDoc := tc.dup
			if tc.live {
				seedDoc = tc.clean
			}
			tc.seed(ctx, t, e, seedDoc)
			if got := tc.get(ctx, t, e); got != seedDoc {
				t.Fatalf("moto did not store the policy as given:\n got %s\nwant %s", got, seedDoc)
			}
			cfg := checks.DefaultConfig()
			snap, report := e.scan(ctx, t, cfg)
			if got := status(report, tc.check, tc.arn); got != "FAIL" {
				t.Fatalf("before the fix %s on %s is %s, want FAIL", tc.check, tc.arn, got)
			}
			plan, err := fix.NewPlan(report, snap, cfg, tc.include)
			if err != nil {
				t.Fatal(err)
			}
			p := only(plan, tc.check)
			if !tc.live {
				if c := changeFor(p, tc.check, tc.arn); c != nil {
					t.Fatalf("change %d planned for %s on %s, whose policy has a duplicate key", c.N, tc.check, tc.arn)
				}
				var notFixed *fix.NotFixed
				for i, n := range plan.NotFixed {
					if n.CheckID == tc.check && n.Resource.ARN == tc.arn {
						notFixed = &plan.NotFixed[i]
					}
				}
				if notFixed == nil || notFixed.Reason != tc.reason {
					t.Fatalf("not fixed: %+v\nwant reason %s", notFixed, tc.reason)
				}
			} else {
				if changeFor(p, tc.check, tc.arn) == nil {
					t.Fatalf("no change planned for %s on %s", tc.check, tc.arn)
				}
				tc.put(ctx, t, e, tc.dup)
			}

			e.rec.Reset()
			res := fix.Apply(ctx, p, e.clients(), nil)
			if m := e.rec.Mutating(); len(m) > 0 {
				t.Errorf("mutating calls for a refused merge: %v", m)
			}
			if tc.live {
				if len(res.Outcomes) != 1 {
					t.Fatalf("%d outcomes, want 1", len(res.Outcomes))
				}
				o := res.Outcomes[0]
				if want := tc.reason + " (nothing was changed)"; o.Outcome != fix.OutcomeFailed || o.Error != want || len(o.Calls) != 0 {
					t.Errorf("outcome %s %q calls %v\nwant failed %q and no call", o.Outcome, o.Error, o.Calls, want)
				}
				if o.Before != tc.dup {
					t.Errorf("the outcome's before is %v, want the live text as read: %s", o.Before, tc.dup)
				}
			}
			if got := tc.get(ctx, t, e); got != tc.dup {
				t.Errorf("the live policy changed:\n got %s\nwant %s", got, tc.dup)
			}
		})
	}
}
