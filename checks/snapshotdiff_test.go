package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

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
