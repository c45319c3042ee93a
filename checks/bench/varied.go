package bench

import (
	"math/rand"

	"github.com/coffer-audit/coffer/checks"
)

// VariedSnapshot is LargeSnapshot(n) with drift of every kind spread at random (seeded, so it is
// deterministic): other roles and regions, unreadable configurations, every way versioning, Object
// Lock, encryption, lifecycle, Block Public Access, policies, ACLs, ownership, logging and
// replication go wrong, and keys that are disabled, pending deletion, AWS managed or missing.
// LargeSnapshot's buckets are nearly all alike, which is what coffer shares best; this one measures
// an account made by hand.
func VariedSnapshot(n int) *checks.Snapshot {
	r := rand.New(rand.NewSource(7))
	pick := r.Intn
	snap := LargeSnapshot(n)
	key := func(id, state, manager, region string, aliases ...string) checks.Key {
		rotation := pick(2) == 0
		return checks.Key{
			ID: id, ARN: "arn:aws:kms:" + region + ":123456789012:key/" + id, Region: region, State: state, Manager: manager,
			Spec: "SYMMETRIC_DEFAULT", Usage: "ENCRYPT_DECRYPT", RotationEnabled: &rotation, Aliases: aliases, Policy: &checks.Policy{},
		}
	}
	snap.KMS.Keys = append(snap.KMS.Keys,
		key("disabled", "Disabled", "CUSTOMER", "eu-west-1", "alias/off"),
		key("pending", "PendingDeletion", "CUSTOMER", "us-east-1", "arn:aws:kms:us-east-1:123456789012:alias/pending"),
		key("aws-managed", "Enabled", "AWS", "us-east-1", "alias/aws/s3"),
		key("second", "Enabled", "CUSTOMER", "us-east-1", "alias/second"),
	)
	keyRefs := []string{
		snap.KMS.Keys[0].ARN, "alias/off", "arn:aws:kms:us-east-1:123456789012:alias/pending", "alias/aws/s3", "", "second",
		"alias/second", "arn:aws:kms:us-east-1:999999999999:key/other-account", "missing-id", "arn:aws:kms:ap-south-1:123456789012:key/uncollected",
	}
	roles := []string{"primary", "standby", "trail-logs", "access-logs", "ignore", ""}
	policy := func(text string) *checks.Policy { p := checks.ParsePolicy(text); return &p }
	for i := range snap.S3.Buckets {
		b := &snap.S3.Buckets[i]
		if pick(5) == 0 {
			if role := roles[pick(len(roles))]; role != "" {
				b.Tags["coffer:role"] = role
			} else {
				delete(b.Tags, "coffer:role")
			}
		}
		if pick(6) == 0 {
			b.Region = []string{"us-east-1", "eu-west-1", "EU", "", "ap-south-1"}[pick(5)]
		}
		switch pick(8) {
		case 0:
			b.Versioning = nil
		case 1:
			b.Versioning = &checks.Versioning{Status: []string{"", "Suspended", "Enabled"}[pick(3)], MFADelete: []string{"", "Enabled", "Disabled"}[pick(3)]}
		}
		switch pick(8) {
		case 0:
			b.ObjectLock = nil
		case 1:
			b.ObjectLock = &checks.ObjectLock{Enabled: pick(2) == 0}
		case 2:
			b.ObjectLock = &checks.ObjectLock{Enabled: true, DefaultRetention: &checks.Retention{Mode: "COMPLIANCE", Days: int32(pick(60)), Years: int32(pick(2))}}
		}
		switch pick(6) {
		case 0:
			b.Encryption = nil
		case 1:
			b.Encryption = &checks.Encryption{Rules: []checks.EncryptionRule{{Algorithm: "AES256"}}}
		case 2, 3:
			b.Encryption = &checks.Encryption{Rules: []checks.EncryptionRule{{
				Algorithm: []string{"aws:kms", "aws:kms:dsse"}[pick(2)], KMSKeyID: keyRefs[pick(len(keyRefs))], BucketKeyEnabled: pick(2) == 0,
			}}}
		case 4:
			b.Encryption = &checks.Encryption{Rules: []checks.EncryptionRule{}}
		}
		switch rule := &b.Lifecycle.Rules[0]; pick(7) {
		case 0:
			b.Lifecycle = nil
		case 1:
			b.Lifecycle = &checks.Lifecycle{Rules: []checks.LifecycleRule{}}
		case 2:
			rule.Status = "Disabled"
		case 3:
			rule.Filter = checks.LifecycleFilter{Prefix: "logs/"}
		case 4:
			rule.Transitions = []checks.Transition{{Days: int32(pick(40)), StorageClass: []string{"GLACIER", "STANDARD_IA", "DEEP_ARCHIVE"}[pick(3)]}}
			rule.AbortIncompleteMultipartUploadDays = nil
		case 5:
			rule.NoncurrentTransitions = nil
		}
		switch pick(6) {
		case 0:
			b.PublicAccessBlock = nil
		case 1:
			b.PublicAccessBlock = &checks.PublicAccessBlock{BlockPublicAcls: pick(2) == 0, IgnorePublicAcls: pick(2) == 0, BlockPublicPolicy: pick(2) == 0, RestrictPublicBuckets: pick(2) == 0}
		}
		switch pick(8) {
		case 0:
			b.Policy = nil
		case 1:
			b.Policy = &checks.Policy{}
		case 2:
			b.Policy = policy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + b.ARN + `/*"}]}`)
		case 3:
			b.Policy = policy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-123"}}},` +
				`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"` + b.ARN + `/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
		case 4:
			b.Policy = policy(`{not json`)
		}
		switch pick(8) {
		case 0:
			b.ACL = nil
		case 1:
			b.ACL = &checks.ACL{Grants: []checks.Grant{{Type: "Group", URI: "http://acs.amazonaws.com/groups/global/AllUsers", Permission: "READ"}}}
		}
		switch pick(8) {
		case 0:
			b.Ownership = nil
		case 1:
			b.Ownership = &checks.Ownership{ObjectOwnership: "BucketOwnerPreferred"}
		}
		switch pick(7) {
		case 0:
			b.Logging = nil
		case 1:
			b.Logging = &checks.Logging{}
		case 2:
			b.Logging = &checks.Logging{Enabled: true, TargetBucket: b.Name}
		case 3:
			b.Logging = &checks.Logging{Enabled: true}
		}
		if len(b.Replication.Rules) > 0 {
			switch rule := &b.Replication.Rules[0]; pick(8) {
			case 0:
				b.Replication = nil
			case 1:
				rule.Status = "Disabled"
			case 2:
				rule.Prefix = "x/"
			case 3:
				rule.SSEKMSEncryptedObjects = false
			case 4:
				rule.ReplicaKMSKeyID = keyRefs[pick(len(keyRefs))]
			case 5:
				rule.DestinationBucket, rule.DestinationBucketARN = "elsewhere", "arn:aws:s3:::elsewhere"
			}
		}
	}
	snap.Errors = append(snap.Errors, checks.CollectError{Service: "s3", Operation: "GetBucketPolicy", Resource: snap.S3.Buckets[n/2].Name, Region: "us-east-1", Code: "AccessDenied", Message: "denied"})
	return snap
}
