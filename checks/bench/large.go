// Package bench generates large synthetic accounts and measures evaluating the embedded policies on
// them.
package bench

import (
	"fmt"
	"time"

	"github.com/coffer-audit/coffer/checks"
)

// LargeSnapshot generates an account with n buckets in a realistic mix: primaries each paired with
// a replicated standby in another region, every seventh bucket drifted in some way, plus users,
// keys and a trail. It is deterministic.
func LargeSnapshot(n int) *checks.Snapshot {
	snap := &checks.Snapshot{
		SchemaVersion: checks.SnapshotSchemaVersion,
		CollectedAt:   time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		Regions:       []string{"eu-west-1", "us-east-1"},
		Account: checks.Account{
			ID: "123456789012", Partition: "aws", HomeRegion: "us-east-1",
			PublicAccessBlock: &checks.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true},
			Summary:           map[string]int32{"AccountMFAEnabled": 1},
			PasswordPolicy:    &checks.PasswordPolicy{Exists: true, MinimumPasswordLength: 14, PasswordReusePrevention: 24},
		},
	}
	key := "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
	rotation := true
	snap.KMS.Keys = []checks.Key{{ID: "11111111-2222-3333-4444-555555555555", ARN: key, Region: "eu-west-1", State: "Enabled", Manager: "CUSTOMER", Spec: "SYMMETRIC_DEFAULT", Usage: "ENCRYPT_DECRYPT", RotationEnabled: &rotation, Policy: &checks.Policy{}}}
	logging := true
	snap.CloudTrail.Trails = []checks.Trail{{
		Name: "org", ARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/org", HomeRegion: "us-east-1", MultiRegion: true,
		IsLogging: &logging, LogFileValidation: true, KMSKeyID: key, S3BucketName: "trail-logs", SelectorsRead: true,
		EventSelectors: []checks.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, DataResources: []checks.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}}},
	}}
	abort := int32(7)
	for i := range n {
		// Buckets come in pairs, as in a backup account: an even index is a primary in us-east-1,
		// the next one its standby in eu-west-1, replicated to.
		name := fmt.Sprintf("backup-%05d", i)
		region, role := "us-east-1", "primary"
		tags := map[string]string{"coffer:role": role}
		if i%2 == 1 {
			region, role = "eu-west-1", "standby"
			tags = map[string]string{"coffer:role": role, "coffer:standby-for": fmt.Sprintf("backup-%05d", i-1)}
		}
		policyText := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"TLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::%[1]s","arn:aws:s3:::%[1]s/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, name)
		b := checks.Bucket{
			Name: name, ARN: "arn:aws:s3:::" + name, Region: region, Tags: tags,
			Versioning: &checks.Versioning{Status: "Enabled"},
			ObjectLock: &checks.ObjectLock{Enabled: true, DefaultRetention: &checks.Retention{Mode: "GOVERNANCE", Days: 30}},
			Encryption: &checks.Encryption{Rules: []checks.EncryptionRule{{Algorithm: "aws:kms", KMSKeyID: key, BucketKeyEnabled: true}}},
			Lifecycle: &checks.Lifecycle{Rules: []checks.LifecycleRule{{
				ID: "archive", Status: "Enabled", Transitions: []checks.Transition{{Days: 14, StorageClass: "GLACIER"}},
				NoncurrentTransitions: []checks.NoncurrentTransition{{NoncurrentDays: 30, StorageClass: "GLACIER"}}, AbortIncompleteMultipartUploadDays: &abort,
			}}},
			PublicAccessBlock: &checks.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true},
			Policy:            ptr(checks.ParsePolicy(policyText)),
			ACL:               &checks.ACL{Grants: []checks.Grant{{Type: "CanonicalUser", ID: "owner", Permission: "FULL_CONTROL"}}},
			Ownership:         &checks.Ownership{ObjectOwnership: "BucketOwnerEnforced"},
			Logging:           &checks.Logging{Enabled: true, TargetBucket: "access-logs", TargetPrefix: name + "/"},
			Replication:       &checks.Replication{Rules: []checks.ReplicationRule{}},
		}
		if role == "primary" {
			standby := fmt.Sprintf("backup-%05d", i+1)
			b.Replication = &checks.Replication{Role: "arn:aws:iam::123456789012:role/replication", Rules: []checks.ReplicationRule{{
				ID: "to-standby", Status: "Enabled", Priority: 1, DestinationBucket: standby, DestinationBucketARN: "arn:aws:s3:::" + standby,
				StorageClass: "GLACIER", ReplicaKMSKeyID: key, SSEKMSEncryptedObjects: true,
			}}}
		}
		if i%7 == 3 {
			b.Versioning.Status = "Suspended"
			b.Lifecycle.Rules[0].Transitions[0].Days = 30
			b.Ownership.ObjectOwnership = "ObjectWriter"
		}
		snap.S3.Buckets = append(snap.S3.Buckets, b)
	}
	for i := range 200 {
		snap.IAM.Users = append(snap.IAM.Users, checks.User{
			Name: fmt.Sprintf("user-%03d", i), ARN: fmt.Sprintf("arn:aws:iam::123456789012:user/user-%03d", i),
			PasswordEnabled: true, MFADevices: []string{fmt.Sprintf("arn:aws:iam::123456789012:mfa/user-%03d", i)},
			Groups: []string{"operators"},
		})
	}
	return snap
}

func ptr[T any](v T) *T { return &v }
