package fix_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/fix"
)

const (
	keyPending = "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111"
	keyGood    = "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222"
	keyEU      = "arn:aws:kms:eu-west-1:123456789012:key/33333333-3333-3333-3333-333333333333"
	trailEU    = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/eu-trail"
)

// planSnapshot is a small account, no emulator needed, whose findings exercise ordering,
// dependencies, superseding and the reasons a fix is refused.
func planSnapshot() *checks.Snapshot {
	on := true
	bucket := func(name string, tags map[string]string, mutate func(*checks.Bucket)) checks.Bucket {
		b := checks.Bucket{
			Name: name, ARN: "arn:aws:s3:::" + name, Region: "us-east-1", Tags: tags,
			Versioning: &checks.Versioning{Status: "Enabled"},
			ObjectLock: &checks.ObjectLock{Enabled: true, DefaultRetention: &checks.Retention{Mode: "GOVERNANCE", Days: 30}},
			Encryption: &checks.Encryption{Rules: []checks.EncryptionRule{{Algorithm: "AES256"}}},
			Lifecycle:  &checks.Lifecycle{}, PublicAccessBlock: &checks.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true},
			Policy: &checks.Policy{}, ACL: &checks.ACL{}, Ownership: &checks.Ownership{ObjectOwnership: "BucketOwnerEnforced"},
			Logging: &checks.Logging{}, Replication: &checks.Replication{},
		}
		if mutate != nil {
			mutate(&b)
		}
		return b
	}
	standby := map[string]string{"coffer:role": "standby"}
	return &checks.Snapshot{
		SchemaVersion: checks.SnapshotSchemaVersion, CollectedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Regions: []string{"us-east-1", "eu-west-1"},
		Account: checks.Account{ID: account, CallerARN: "arn:aws:iam::123456789012:user/auditor", Partition: "aws", HomeRegion: "us-east-1",
			PublicAccessBlock: &checks.PublicAccessBlock{},
			PasswordPolicy:    &checks.PasswordPolicy{Exists: true, MinimumPasswordLength: 14, PasswordReusePrevention: 24}},
		S3: checks.S3{Buckets: []checks.Bucket{
			bucket("standby-a", standby, func(b *checks.Bucket) {
				b.Encryption.Rules = []checks.EncryptionRule{{Algorithm: "aws:kms", KMSKeyID: keyPending}}
			}),
			bucket("standby-b", standby, func(b *checks.Bucket) { b.Encryption.Rules = nil }),
			bucket("primary-c", nil, func(b *checks.Bucket) {
				b.Versioning.Status = "Suspended"
				b.ObjectLock = &checks.ObjectLock{}
			}),
			bucket("locked-d", nil, func(b *checks.Bucket) {
				b.ObjectLock.DefaultRetention = &checks.Retention{Mode: "COMPLIANCE", Days: 1}
			}),
		}},
		KMS: checks.KMS{Keys: []checks.Key{
			{ID: "11111111-1111-1111-1111-111111111111", ARN: keyPending, Region: "us-east-1", State: "PendingDeletion", Manager: "CUSTOMER", Spec: "SYMMETRIC_DEFAULT", Origin: "AWS_KMS"},
			{ID: "22222222-2222-2222-2222-222222222222", ARN: keyGood, Region: "us-east-1", State: "Enabled", Manager: "CUSTOMER", Spec: "SYMMETRIC_DEFAULT", Origin: "AWS_KMS", RotationEnabled: &on, Aliases: []string{"alias/backup"}},
			{ID: "33333333-3333-3333-3333-333333333333", ARN: keyEU, Region: "eu-west-1", State: "Enabled", Manager: "CUSTOMER", Spec: "SYMMETRIC_DEFAULT", Origin: "AWS_KMS", RotationEnabled: &on},
		}},
		CloudTrail: checks.CloudTrail{Trails: []checks.Trail{{
			Name: "eu-trail", ARN: trailEU, HomeRegion: "eu-west-1", MultiRegion: true, IsLogging: &on, LogFileValidation: true,
			SelectorsRead: true, EventSelectors: []checks.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}},
		}}},
	}
}

func planFor(t *testing.T, include []string) (*fix.Plan, error) {
	t.Helper()
	cfg := checks.DefaultConfig()
	cfg.Fix.KMSKey = "alias/backup"
	snap := planSnapshot()
	report, err := builtIn(t).Evaluate(context.Background(), snap, checks.EvalOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return fix.NewPlan(report, snap, cfg, include)
}

func TestPlanOrdersAndLinksChanges(t *testing.T) {
	plan, err := planFor(t, []string{fix.IncludeAllOptIn})
	if err != nil {
		t.Fatal(err)
	}
	pos := func(check, arn string) int {
		for i, c := range plan.Changes {
			if c.CheckID == check && c.Resource.ARN == arn {
				return i
			}
		}
		var sb strings.Builder
		_ = plan.Write(&sb)
		t.Fatalf("no change %s on %s in the plan:\n%s", check, arn, sb.String())
		return -1
	}
	account := pos("s3-account-public-access-block", "arn:aws:iam::123456789012:root")
	health := pos("kms-key-in-use-healthy", keyPending)
	cmkA := pos("s3-bucket-kms-cmk", "arn:aws:s3:::standby-a")
	cmkB := pos("s3-bucket-kms-cmk", "arn:aws:s3:::standby-b")
	versioning := pos("s3-bucket-versioning", "arn:aws:s3:::primary-c")
	lock := pos("s3-bucket-object-lock", "arn:aws:s3:::primary-c")

	for _, later := range []int{cmkA, cmkB, versioning, lock} {
		if account > later || health > later {
			t.Errorf("account and key changes must come first: account %d, key %d, then %d", account, health, later)
		}
	}
	if !slices.Contains(plan.Changes[cmkA].DependsOn, plan.Changes[health].N) {
		t.Errorf("encryption with the pending-deletion key must wait for the key fix: depends on %v", plan.Changes[cmkA].DependsOn)
	}
	if !strings.Contains(plan.Changes[cmkA].Description, keyPending) {
		t.Errorf("standby-a keeps its own key once it is enabled: %s", plan.Changes[cmkA].Description)
	}
	if !strings.Contains(plan.Changes[cmkB].Description, keyGood) {
		t.Errorf("standby-b gets fix.kms_key resolved to its ARN: %s", plan.Changes[cmkB].Description)
	}
	if versioning > lock || !slices.Contains(plan.Changes[lock].DependsOn, plan.Changes[versioning].N) {
		t.Errorf("versioning (%d) must precede and gate Object Lock (%d, depends on %v)", versioning, lock, plan.Changes[lock].DependsOn)
	}
	for _, c := range plan.Changes {
		if c.CheckID == "s3-bucket-default-encryption" && c.Resource.Name == "standby-b" {
			t.Error("SSE-S3 for standby-b is superseded by its SSE-KMS change")
		}
		if len(c.Commands) == 0 || c.Description == "" || len(c.APICalls) == 0 {
			t.Errorf("change %d %s lacks a command, description or API call", c.N, c.CheckID)
		}
	}
	notFixed := func(check, arn, reason string) {
		for _, n := range plan.NotFixed {
			if n.CheckID == check && n.Resource.ARN == arn {
				if !strings.Contains(n.Reason, reason) {
					t.Errorf("%s on %s not fixed because %q, want it to mention %q", check, arn, n.Reason, reason)
				}
				return
			}
		}
		t.Errorf("%s on %s is not listed as not fixed", check, arn)
	}
	notFixed("s3-bucket-object-lock", "arn:aws:s3:::locked-d", "COMPLIANCE")
	notFixed("cloudtrail-kms-encryption", trailEU, "same region")

	var sb strings.Builder
	if err := plan.Write(&sb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Fix plan for account 123456789012", "before:", "after:", "cli:", "Not fixed", "[opt-in]", "COMPLIANCE"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("printed plan lacks %q:\n%s", want, sb.String())
		}
	}
}

func TestPlanInclude(t *testing.T) {
	tests := []struct {
		include []string
		wantErr string
		lock    bool
	}{
		{include: nil, lock: false},
		{include: []string{"s3-bucket-object-lock"}, lock: true},
		{include: []string{fix.IncludeAllOptIn}, lock: true},
		{include: []string{"no-such-check"}, wantErr: "no such check"},
		{include: []string{"s3-bucket-versioning"}, wantErr: "not opt-in"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.include, ","), func(t *testing.T) {
			plan, err := planFor(t, tc.include)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := changeFor(plan, "s3-bucket-object-lock", "arn:aws:s3:::primary-c") != nil
			if got != tc.lock {
				t.Errorf("object lock planned: %v, want %v", got, tc.lock)
			}
			if !tc.lock {
				found := false
				for _, n := range plan.NotFixed {
					found = found || n.CheckID == "s3-bucket-object-lock" && strings.Contains(n.Reason, "--fix-include s3-bucket-object-lock")
				}
				if !found {
					t.Error("an opt-in fix not included must be listed with how to include it")
				}
			}
		})
	}
}

// TestPlanSparesTheCaller: coffer never detaches the S3 access of, or deactivates the keys of,
// the identity it runs as.
func TestPlanSparesTheCaller(t *testing.T) {
	snap := planSnapshot()
	snap.Account.CallerARN = "arn:aws:sts::123456789012:assumed-role/Auditor/session"
	full := []checks.AttachedPolicy{{Name: "AmazonS3FullAccess", ARN: "arn:aws:iam::aws:policy/AmazonS3FullAccess"}}
	snap.IAM.Roles = []checks.Role{{Name: "Auditor", ARN: "arn:aws:iam::123456789012:role/Auditor", AttachedPolicies: full,
		TrustPolicy: checks.Policy{Text: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`}}}
	snap.IAM.Users = []checks.User{{Name: "other", ARN: "arn:aws:iam::123456789012:user/other", AttachedPolicies: full}}
	cfg := checks.DefaultConfig()
	report, err := builtIn(t).Evaluate(context.Background(), snap, checks.EvalOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := fix.NewPlan(report, snap, cfg, []string{"iam-no-s3-full-access"})
	if err != nil {
		t.Fatal(err)
	}
	if changeFor(plan, "iam-no-s3-full-access", "arn:aws:iam::123456789012:role/Auditor") != nil {
		t.Error("planned to detach the S3 access of the role coffer runs as")
	}
	if changeFor(plan, "iam-no-s3-full-access", "arn:aws:iam::123456789012:user/other") == nil {
		t.Error("another user's AmazonS3FullAccess is not detached")
	}
}

// TestPlanUsesTheKeyOfEachRegion: fix.kms_keys gives each region its key; fix.kms_key serves
// the other regions unless it is the ARN of a key elsewhere, which AWS would refuse: then the
// change is not made and the printed command keeps a placeholder instead of the wrong key.
func TestPlanUsesTheKeyOfEachRegion(t *testing.T) {
	tests := []struct {
		name       string
		keys       map[string]string
		trailKey   string // the key the trail change uses, "" when the trail is not fixed
		trailWhy   string
		standbyKey string
	}{
		{"one key for its region only", nil, "", "set fix.kms_keys.eu-west-1", keyGood},
		{"a key per region", map[string]string{"eu-west-1": keyEU}, keyEU, "", keyGood},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := checks.DefaultConfig()
			cfg.Fix.KMSKey = keyGood
			cfg.Fix.KMSKeys = tc.keys
			snap := planSnapshot()
			report, err := builtIn(t).Evaluate(context.Background(), snap, checks.EvalOptions{Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			plan, err := fix.NewPlan(report, snap, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			var trail, standby *fix.Change
			for _, c := range plan.Changes {
				switch {
				case c.CheckID == "cloudtrail-kms-encryption":
					trail = c
				case c.CheckID == "s3-bucket-kms-cmk" && c.Resource.Name == "standby-b":
					standby = c
				}
			}
			if standby == nil || !strings.Contains(standby.Description, tc.standbyKey) {
				t.Errorf("standby-b (us-east-1) change %+v, want key %s", standby, tc.standbyKey)
			}
			if tc.trailKey != "" {
				if trail == nil || !strings.Contains(trail.Description, tc.trailKey) || !strings.Contains(strings.Join(trail.Commands, " "), tc.trailKey) {
					t.Errorf("eu-west-1 trail change %+v, want key %s", trail, tc.trailKey)
				}
				return
			}
			if trail != nil {
				t.Fatalf("the eu-west-1 trail was planned with %s", trail.Description)
			}
			for _, nf := range plan.NotFixed {
				if nf.CheckID == "cloudtrail-kms-encryption" {
					cmds := strings.Join(nf.Commands, " ")
					if !strings.Contains(nf.Reason, tc.trailWhy) || strings.Contains(cmds, keyGood) || !strings.Contains(cmds, "<KMS_KEY_ARN>") {
						t.Errorf("not fixed: %q, commands %q; want the reason %q and a placeholder, not the us-east-1 key", nf.Reason, cmds, tc.trailWhy)
					}
					return
				}
			}
			t.Error("the eu-west-1 trail is neither planned nor listed as not fixed")
		})
	}
}

// TestPlanChainsLifecycleChanges: two changes that rewrite one bucket's lifecycle run one after the
// other, so the second starts from what the first leaves, and the plan shows it.
func TestPlanChainsLifecycleChanges(t *testing.T) {
	plan, err := planFor(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	var lifecycle []*fix.Change
	for _, c := range plan.Changes {
		if c.Resource.Name == "primary-c" && strings.HasPrefix(c.CheckID, "s3-bucket-lifecycle-") {
			lifecycle = append(lifecycle, c)
		}
	}
	if len(lifecycle) != 2 {
		t.Fatalf("%d lifecycle changes for primary-c, want archive and hygiene", len(lifecycle))
	}
	first, second := lifecycle[0], lifecycle[1]
	if !reflect.DeepEqual(second.Before, first.After) {
		t.Errorf("the second change starts from %v, want the first one's result %v", second.Before, first.After)
	}
	after, _ := json.Marshal(second.After)
	for _, id := range []string{checks.ArchiveRuleID, checks.HygieneRuleID} {
		if !strings.Contains(string(after), `"ID":"`+id+`"`) {
			t.Errorf("after both changes the lifecycle lacks rule %s: %s", id, after)
		}
	}
	if first.Before != nil && reflect.DeepEqual(first.Before, first.After) {
		t.Error("the first change changes nothing")
	}
}
