package checks

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func diffFinding(check, name string, sev Severity, st Status) Finding {
	return Finding{
		CheckID: check, Title: check + " title", Severity: sev, Status: st, Message: check + " on " + name,
		Resource: Resource{ARN: "arn:aws:s3:::" + name, Type: "AWS::S3::Bucket", Name: name, Region: "us-east-1", Role: "primary"},
	}
}

func reportOf(account string, fs ...Finding) *Report {
	return &Report{SchemaVersion: ReportSchemaVersion, AccountID: account, Findings: fs}
}

// brief is a FindingChange reduced to what the cases below assert.
type brief struct {
	Check, Name   string
	Before, After Status
}

func briefs(fcs []FindingChange) []brief {
	out := []brief{}
	for _, fc := range fcs {
		out = append(out, brief{fc.CheckID, fc.Resource.Name, fc.Before, fc.After})
	}
	return out
}

func TestDiffReports(t *testing.T) {
	const (
		ver  = "s3-bucket-versioning"
		lock = "s3-bucket-object-lock"
		tls  = "s3-bucket-tls-only"
	)
	tests := []struct {
		name                    string
		old, new                []Finding
		wantNew, wantResolved   []brief
		wantChanged             []brief
		wantUnchanged, wantExit int
	}{
		{
			name:          "unchanged",
			old:           []Finding{diffFinding(ver, "a", SeverityHigh, StatusFail), diffFinding(tls, "a", SeverityMedium, StatusPass)},
			new:           []Finding{diffFinding(ver, "a", SeverityHigh, StatusFail), diffFinding(tls, "a", SeverityMedium, StatusPass)},
			wantUnchanged: 2,
		},
		{
			name:          "added: a failing finding appears with a new resource",
			old:           []Finding{diffFinding(ver, "a", SeverityHigh, StatusPass)},
			new:           []Finding{diffFinding(ver, "a", SeverityHigh, StatusPass), diffFinding(ver, "b", SeverityHigh, StatusFail)},
			wantNew:       []brief{{ver, "b", "", StatusFail}},
			wantUnchanged: 1, wantExit: 1,
		},
		{
			name:     "added: a passing finding starts failing",
			old:      []Finding{diffFinding(ver, "a", SeverityHigh, StatusPass)},
			new:      []Finding{diffFinding(ver, "a", SeverityHigh, StatusFail)},
			wantNew:  []brief{{ver, "a", StatusPass, StatusFail}},
			wantExit: 1,
		},
		{
			name:     "added: a waiver expired (WAIVED → FAIL is new to the gate)",
			old:      []Finding{diffFinding(ver, "a", SeverityHigh, StatusWaived)},
			new:      []Finding{diffFinding(ver, "a", SeverityHigh, StatusFail)},
			wantNew:  []brief{{ver, "a", StatusWaived, StatusFail}},
			wantExit: 1,
		},
		{
			name:         "removed: the failing resource went away",
			old:          []Finding{diffFinding(ver, "a", SeverityHigh, StatusFail), diffFinding(ver, "b", SeverityHigh, StatusPass)},
			new:          []Finding{diffFinding(ver, "b", SeverityHigh, StatusPass)},
			wantResolved: []brief{{ver, "a", StatusFail, ""}}, wantUnchanged: 1,
		},
		{
			name:         "resolved: fixed in place",
			old:          []Finding{diffFinding(lock, "a", SeverityHigh, StatusFail)},
			new:          []Finding{diffFinding(lock, "a", SeverityHigh, StatusPass)},
			wantResolved: []brief{{lock, "a", StatusFail, StatusPass}},
		},
		{
			name: "changed: statuses that are neither new failures nor resolved",
			old: []Finding{
				diffFinding(ver, "a", SeverityHigh, StatusFail), diffFinding(ver, "b", SeverityHigh, StatusPass),
				diffFinding(ver, "c", SeverityHigh, StatusError), diffFinding(tls, "a", SeverityMedium, StatusFail),
			},
			new: []Finding{
				diffFinding(ver, "a", SeverityHigh, StatusError), diffFinding(ver, "b", SeverityHigh, StatusError),
				diffFinding(ver, "c", SeverityHigh, StatusPass), diffFinding(tls, "a", SeverityMedium, StatusWaived),
			},
			// Most severe first, then check id and ARN.
			wantChanged: []brief{{ver, "a", StatusFail, StatusError}, {ver, "b", StatusPass, StatusError}, {ver, "c", StatusError, StatusPass}, {tls, "a", StatusFail, StatusWaived}},
		},
		{
			name:          "a compliant resource coming or going is not a change",
			old:           []Finding{diffFinding(ver, "gone", SeverityHigh, StatusPass)},
			new:           []Finding{diffFinding(ver, "new", SeverityHigh, StatusPass)},
			wantUnchanged: 2,
		},
		{
			name:     "new failures are ordered by severity",
			old:      nil,
			new:      []Finding{diffFinding(tls, "a", SeverityMedium, StatusFail), diffFinding(ver, "a", SeverityHigh, StatusFail), diffFinding("s3-bucket-not-public", "a", SeverityCritical, StatusFail)},
			wantNew:  []brief{{"s3-bucket-not-public", "a", "", StatusFail}, {ver, "a", "", StatusFail}, {tls, "a", "", StatusFail}},
			wantExit: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := DiffReports(reportOf("123456789012", tc.old...), reportOf("123456789012", tc.new...))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what      string
				got, want []brief
			}{{"new", briefs(d.NewFailures), tc.wantNew}, {"resolved", briefs(d.Resolved), tc.wantResolved}, {"changed", briefs(d.Changed), tc.wantChanged}} {
				if c.want == nil {
					c.want = []brief{}
				}
				if diff := cmp.Diff(c.want, c.got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", c.what, diff)
				}
			}
			want := DiffSummary{New: len(tc.wantNew), Resolved: len(tc.wantResolved), Changed: len(tc.wantChanged), Unchanged: tc.wantUnchanged}
			if diff := cmp.Diff(want, d.Summary); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			if got := d.ExitCode(SeverityLow); got != tc.wantExit {
				t.Errorf("exit code %d, want %d", got, tc.wantExit)
			}
		})
	}
}

func TestDiffExitCodeFailOn(t *testing.T) {
	d, err := DiffReports(reportOf("123456789012"), reportOf("123456789012", diffFinding("s3-bucket-tls-only", "a", SeverityMedium, StatusFail)))
	if err != nil {
		t.Fatal(err)
	}
	for sev, want := range map[Severity]int{SeverityLow: 1, SeverityMedium: 1, SeverityHigh: 0, SeverityCritical: 0} {
		if got := d.ExitCode(sev); got != want {
			t.Errorf("--fail-on %s: exit %d, want %d", sev, got, want)
		}
	}
}

func TestDiffDifferentAccounts(t *testing.T) {
	_, err := DiffReports(reportOf("111111111111"), reportOf("222222222222"))
	var mismatch *AccountMismatchError
	if !errors.As(err, &mismatch) || mismatch.Old != "111111111111" || mismatch.New != "222222222222" {
		t.Fatalf("DiffReports of two accounts: err = %v, want *AccountMismatchError", err)
	}
	a, b := diffSnapshot(), diffSnapshot()
	b.Account.ID = "222222222222"
	if _, err := DiffSnapshots(a, b); !errors.As(err, &mismatch) {
		t.Fatalf("DiffSnapshots of two accounts: err = %v, want *AccountMismatchError", err)
	}
}

func TestDetectInput(t *testing.T) {
	tests := []struct {
		name, data string
		want       InputKind
		wantErr    string
	}{
		{"report", `{"schema_version":"1","findings":[]}`, InputReport, ""},
		{"snapshot", `{"schema_version":"1","collected_at":"2026-01-01T00:00:00Z","s3":{"buckets":[]}}`, InputSnapshot, ""},
		{"snapshot without time", `{"s3":{}}`, InputSnapshot, ""},
		{"neither", `{"hello":"world"}`, "", "neither a coffer JSON report"},
		{"both", `{"findings":[],"s3":{}}`, "", "neither a coffer JSON report"},
		{"not an object", `[1,2]`, "", "not a JSON object"},
		{"broken", "{\n  \"findings\": [,\n", "", "2:"},
	}
	for _, tc := range tests {
		got, err := DetectInput([]byte(tc.data))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: DetectInput = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

// diffSnapshot is a small account with one of everything the configuration diff compares.
func diffSnapshot() *Snapshot {
	days := int32(7)
	on := true
	pol := func(text string) *Policy { p := ParsePolicy(text); return &p }
	return &Snapshot{
		SchemaVersion: SnapshotSchemaVersion,
		Account: Account{ID: "123456789012",
			PublicAccessBlock: &PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true},
			PasswordPolicy:    &PasswordPolicy{Exists: true, MinimumPasswordLength: 14, PasswordReusePrevention: 24}},
		S3: S3{Buckets: []Bucket{{
			Name: "vault-primary", ARN: "arn:aws:s3:::vault-primary", Region: "us-east-1", Tags: map[string]string{"coffer:role": "primary"},
			Versioning: &Versioning{Status: "Enabled"}, ObjectLock: &ObjectLock{Enabled: true, DefaultRetention: &Retention{Mode: "GOVERNANCE", Days: 30}},
			Encryption: &Encryption{Rules: []EncryptionRule{{Algorithm: "AES256", BucketKeyEnabled: true}}},
			Lifecycle: &Lifecycle{Rules: []LifecycleRule{{ID: "MoveToGlacierAfter14Days", Status: "Enabled",
				Transitions: []Transition{{Days: 14, StorageClass: "GLACIER"}}, AbortIncompleteMultipartUploadDays: &days}}},
			PublicAccessBlock: &PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true},
			Policy:            pol(`{"Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::vault-primary/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`),
			ACL:               &ACL{OwnerID: "o", Grants: []Grant{{Type: "CanonicalUser", ID: "o", Permission: "FULL_CONTROL"}}}, Ownership: &Ownership{ObjectOwnership: "BucketOwnerEnforced"},
			Logging:     &Logging{Enabled: true, TargetBucket: "logs", TargetPrefix: "vault-primary/"},
			Replication: &Replication{Role: "arn:aws:iam::123456789012:role/Replication", Rules: []ReplicationRule{{ID: "to-standby", Status: "Enabled", DestinationBucket: "vault-standby"}}},
		}}},
		KMS: KMS{Keys: []Key{{ID: "k1", ARN: "arn:aws:kms:us-east-1:123456789012:key/k1", Region: "us-east-1", State: "Enabled", Manager: "CUSTOMER", RotationEnabled: &on, Aliases: []string{"alias/vault"},
			Policy: pol(`{"Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}`)}}},
		CloudTrail: CloudTrail{Trails: []Trail{{Name: "vault-trail", ARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/vault-trail", HomeRegion: "us-east-1", MultiRegion: true,
			IsLogging: &on, LogFileValidation: true, SelectorsRead: true,
			AdvancedEventSelectors: []AdvancedEventSelector{{Name: "management", FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}}}}}},
		IAM: IAM{
			Users: []User{{Name: "alice", ARN: "arn:aws:iam::123456789012:user/alice", PasswordEnabled: true, MFADevices: []string{"arn:aws:iam::123456789012:mfa/alice"},
				Groups: []string{"ops"}, AccessKeys: []AccessKey{{ID: "AKIA1", Status: "Active"}}}},
			Groups: []Group{{Name: "ops", ARN: "arn:aws:iam::123456789012:group/ops", AttachedPolicies: []AttachedPolicy{{Name: "Ops", ARN: "arn:aws:iam::123456789012:policy/Ops"}}}},
			Roles: []Role{{Name: "Operator", ARN: "arn:aws:iam::123456789012:role/Operator",
				TrustPolicy: *pol(`{"Statement":[{"Sid":"Assume","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`)}},
			Policies: []ManagedPolicy{{Name: "Ops", ARN: "arn:aws:iam::123456789012:policy/Ops", DefaultVersion: "v1", AttachmentCount: 1,
				Document: *pol(`{"Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::vault-primary/*"}]}`)}},
		},
	}
}

func TestDiffSnapshots(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *Snapshot)
		want   []string
	}{
		{"unchanged", func(*Snapshot) {}, nil},
		{"lifecycle transition days", func(s *Snapshot) { s.S3.Buckets[0].Lifecycle.Rules[0].Transitions[0].Days = 30 },
			[]string{"bucket vault-primary: lifecycle rule MoveToGlacierAfter14Days transition days 14 → 30"}},
		{"lifecycle rule added and removed", func(s *Snapshot) { s.S3.Buckets[0].Lifecycle.Rules[0].ID = "Archive" },
			[]string{
				"bucket vault-primary: lifecycle rule MoveToGlacierAfter14Days removed: status Enabled, filter whole bucket, transition days 14, transition storage class GLACIER, abort incomplete uploads days 7",
				"bucket vault-primary: lifecycle rule Archive added: status Enabled, filter whole bucket, transition days 14, transition storage class GLACIER, abort incomplete uploads days 7",
			}},
		{"versioning, object lock, encryption", func(s *Snapshot) {
			b := &s.S3.Buckets[0]
			b.Versioning.Status = "Suspended"
			b.ObjectLock.DefaultRetention.Days = 7
			b.Encryption.Rules[0] = EncryptionRule{Algorithm: "aws:kms", KMSKeyID: "arn:aws:kms:us-east-1:123456789012:key/k1"}
		}, []string{
			"bucket vault-primary: versioning status Enabled → Suspended",
			"bucket vault-primary: object lock default retention GOVERNANCE 30 days → GOVERNANCE 7 days",
			"bucket vault-primary: encryption algorithm AES256 → aws:kms",
			"bucket vault-primary: encryption KMS key (none) → arn:aws:kms:us-east-1:123456789012:key/k1",
			"bucket vault-primary: encryption bucket key on → off",
		}},
		{"public access, policy, acl, logging, replication", func(s *Snapshot) {
			b := &s.S3.Buckets[0]
			b.PublicAccessBlock.RestrictPublicBuckets = false
			p := ParsePolicy(`{"Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::vault-primary/*"}]}`)
			b.Policy = &p
			b.ACL.Grants = append(b.ACL.Grants, Grant{Type: "Group", URI: "http://acs.amazonaws.com/groups/global/AllUsers", Permission: "READ"})
			b.Logging = &Logging{}
			b.Replication.Rules[0].Status = "Disabled"
		}, []string{
			"bucket vault-primary: public access block RestrictPublicBuckets on → off",
			`bucket vault-primary: policy statement DenyInsecureTransport removed: {"sid":"DenyInsecureTransport","effect":"Deny","principal":{"AWS":["*"]},"action":["s3:*"],"resource":["arn:aws:s3:::vault-primary/*"],"condition":{"Bool":{"aws:securetransport":["false"]}}}`,
			`bucket vault-primary: policy statement Public added: {"sid":"Public","effect":"Allow","principal":{"AWS":["*"]},"action":["s3:GetObject"],"resource":["arn:aws:s3:::vault-primary/*"]}`,
			"bucket vault-primary: acl grant READ to http://acs.amazonaws.com/groups/global/AllUsers added",
			"bucket vault-primary: logging enabled on → off",
			"bucket vault-primary: logging target bucket logs → (none)",
			"bucket vault-primary: logging target prefix vault-primary/ → (none)",
			"bucket vault-primary: replication rule to-standby status Enabled → Disabled",
		}},
		{"unreadable is not removed", func(s *Snapshot) { s.S3.Buckets[0].Lifecycle = nil; s.Account.PasswordPolicy = nil },
			[]string{"account 123456789012: password policy read → unreadable", "bucket vault-primary: lifecycle read → unreadable"}},
		{"bucket added and removed", func(s *Snapshot) {
			s.S3.Buckets[0].Name, s.S3.Buckets[0].ARN = "vault-scratch", "arn:aws:s3:::vault-scratch"
		}, []string{"bucket vault-primary removed (us-east-1)", "bucket vault-scratch added (us-east-1)"}},
		{"keys and trails", func(s *Snapshot) {
			off := false
			s.KMS.Keys[0].State = "PendingDeletion"
			s.KMS.Keys[0].RotationEnabled = &off
			tr := &s.CloudTrail.Trails[0]
			tr.IsLogging, tr.LogFileValidation = &off, false
			tr.AdvancedEventSelectors = nil
		}, []string{
			"key alias/vault: state Enabled → PendingDeletion",
			"key alias/vault: rotation on → off",
			"trail vault-trail: logging on → off",
			"trail vault-trail: log file validation on → off",
			`trail vault-trail: event selectors advanced selector "management" #54306e41 removed: [{"field":"eventCategory","equals":["Management"]}]`,
		}},
		{"iam", func(s *Snapshot) {
			s.IAM.Users = append(s.IAM.Users, User{Name: "bob", ARN: "arn:aws:iam::123456789012:user/bob"})
			s.IAM.Users[0].MFADevices = nil
			s.IAM.Users[0].AccessKeys[0].Status = "Inactive"
			s.IAM.Groups[0].AttachedPolicies = append(s.IAM.Groups[0].AttachedPolicies, AttachedPolicy{Name: "AmazonS3FullAccess", ARN: "arn:aws:iam::aws:policy/AmazonS3FullAccess"})
			s.IAM.Roles[0].TrustPolicy = ParsePolicy(`{"Statement":[{"Sid":"Assume","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`)
			s.IAM.Policies = nil
		}, []string{
			"user alice: MFA devices arn:aws:iam::123456789012:mfa/alice → (none)",
			"user alice: access key AKIA1 status Active → Inactive",
			"user bob added",
			"group ops: attached policy AmazonS3FullAccess added: arn:aws:iam::aws:policy/AmazonS3FullAccess",
			`role Operator: trust policy statement Assume condition removed: {"Bool":{"aws:multifactorauthpresent":["true"]}}`,
			"policy Ops removed",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old, cur := diffSnapshot(), diffSnapshot()
			tc.mutate(cur)
			changes, err := DiffSnapshots(old, cur)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range changes {
				got = append(got, c.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			// The reverse diff has as many changes: nothing is seen one way only.
			back, _ := DiffSnapshots(cur, old)
			if len(back) != len(changes) {
				t.Errorf("reverse diff has %d changes, forward %d", len(back), len(changes))
			}
		})
	}
}

func TestDiffSetConfig(t *testing.T) {
	d, _ := DiffReports(reportOf("123456789012"), reportOf("123456789012"))
	d.SetConfig(nil)
	if d.Config == nil || d.Summary.Config != 0 {
		t.Errorf("SetConfig(nil): %v, %d", d.Config, d.Summary.Config)
	}
	d.SetConfig([]ConfigChange{{Type: "bucket"}})
	if d.Summary.Config != 1 {
		t.Errorf("Summary.Config = %d", d.Summary.Config)
	}
}
