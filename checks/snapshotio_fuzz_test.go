package checks

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzParseSnapshot feeds ParseSnapshot broken, truncated and hostile snapshot files. It must never
// panic, must reject with a SnapshotError naming the file and a position inside it, and whatever it
// accepts must survive a write and a re-read unchanged (collect → file → scan loses nothing).
func FuzzParseSnapshot(f *testing.F) {
	// A small but complete snapshot: the sample fixtures are too big for the fuzzer to minimise
	// in a CI budget.
	var seed bytes.Buffer
	if err := WriteSnapshot(&seed, seedSnapshot()); err != nil {
		f.Fatal(err)
	}
	f.Add(seed.Bytes())
	f.Add(seed.Bytes()[:seed.Len()/2])
	for _, s := range []string{
		`{"schema_version":"1","account":{"id":"123456789012"}}`,
		`{"schema_version":"1","account":{"id":"123456789012"},"s3":{"buckets":[{"name":"b","policy":{"text":"%7B%7D"}}]}}`,
		`{"schema_version":"1","account":{"id":"123456789012"},"iam":{"users":[{"name":"u","access_keys":null}]}}`,
		`{"schema_version":"1","account":{"id":"123456789012"},"collected_at":"not a time"}`,
		`{"schema_version":"1","account":{"id":12}}`,
		`{"schema_version":"2","account":{"id":"123456789012"}}`,
		`{"schema_version":"1","account":{"id":"123456789012"},"unknown":true}`,
		`{"schema_version":"1","account":{"id":"123456789012"}} {}`,
		`{"schema_version":"1","account":{"id":""}}`,
		`{"schema_version":null}`,
		"{\"schema_version\":\"1\",\n\"account\":{\"id\":\"1\"},\n\"regions\":[\"a\",",
		`[]`, `null`, ``, "\xff\xfe", `{"schema_version":"1","s3":{"buckets":[{"versioning":{"status":1e999}}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "fuzz.json"
		snap, err := ParseSnapshot(file, data)
		if err != nil {
			var se *SnapshotError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a SnapshotError: %v", err, err)
			}
			if se.File != file || se.Msg == "" || !strings.HasPrefix(err.Error(), file+":") {
				t.Fatalf("error does not name the file and the problem: %q", err)
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			if se.Line < 0 || se.Line > lines || (se.Line > 0 && se.Column < 1) {
				t.Fatalf("position %d:%d outside a %d-line input: %v", se.Line, se.Column, lines, err)
			}
			if snap != nil {
				t.Fatal("a snapshot and an error")
			}
			return
		}
		if snap == nil || snap.Account.ID == "" {
			t.Fatalf("accepted a snapshot without an account id: %+v", snap)
		}
		var buf bytes.Buffer
		if err := WriteSnapshot(&buf, snap); err != nil {
			t.Fatalf("an accepted snapshot does not write: %v", err)
		}
		again, err := ParseSnapshot(file, buf.Bytes())
		if err != nil {
			t.Fatalf("a written snapshot does not read back: %v\n%s", err, buf.Bytes())
		}
		if !reflect.DeepEqual(snap, again) {
			t.Fatalf("snapshot changed in a write and read:\nfirst  %+v\nsecond %+v", snap, again)
		}
	})
}

// seedSnapshot has one of everything the collector writes.
func seedSnapshot() *Snapshot {
	rotation, logging := true, true
	abort := int32(7)
	key := "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	return &Snapshot{
		SchemaVersion: SnapshotSchemaVersion,
		Collector:     Collector{Name: "coffer", Version: "fuzz"},
		CollectedAt:   time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		Regions:       []string{"us-east-1"},
		Account: Account{
			ID: "123456789012", CallerARN: "arn:aws:iam::123456789012:user/auditor", Partition: "aws", HomeRegion: "us-east-1",
			PublicAccessBlock: &PublicAccessBlock{BlockPublicAcls: true},
			Summary:           map[string]int32{"AccountMFAEnabled": 1},
			PasswordPolicy:    &PasswordPolicy{Exists: true, MinimumPasswordLength: 14},
		},
		S3: S3{Buckets: []Bucket{{
			Name: "vault", ARN: "arn:aws:s3:::vault", Region: "us-east-1", Tags: map[string]string{"coffer:role": "primary"},
			Versioning: &Versioning{Status: "Enabled"}, ObjectLock: &ObjectLock{Enabled: true, DefaultRetention: &Retention{Mode: "GOVERNANCE", Days: 30}},
			Encryption: &Encryption{Rules: []EncryptionRule{{Algorithm: "aws:kms", KMSKeyID: key, BucketKeyEnabled: true}}},
			Lifecycle: &Lifecycle{Rules: []LifecycleRule{{ID: "a", Status: "Enabled", Transitions: []Transition{{Days: 14, StorageClass: "GLACIER"}},
				AbortIncompleteMultipartUploadDays: &abort}}},
			PublicAccessBlock: &PublicAccessBlock{}, Policy: ptrTo(ParsePolicy(`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)),
			ACL: &ACL{Grants: []Grant{{Type: "CanonicalUser", ID: "owner", Permission: "FULL_CONTROL"}}}, Ownership: &Ownership{ObjectOwnership: "BucketOwnerEnforced"},
			Logging: &Logging{Enabled: true, TargetBucket: "logs"}, Replication: &Replication{Rules: []ReplicationRule{}},
		}}},
		KMS:        KMS{Keys: []Key{{ID: "1234abcd-12ab-34cd-56ef-1234567890ab", ARN: key, Region: "us-east-1", State: "Enabled", Manager: "CUSTOMER", RotationEnabled: &rotation}}},
		CloudTrail: CloudTrail{Trails: []Trail{{Name: "t", ARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/t", HomeRegion: "us-east-1", IsLogging: &logging}}},
		IAM:        IAM{CredentialReport: []CredentialReportRow{}},
		Errors:     []CollectError{{Service: "s3", Operation: "GetBucketPolicy", Resource: "vault", Region: "us-east-1", Code: "AccessDenied", Message: "no"}},
	}
}

func ptrTo[T any](v T) *T { return &v }
