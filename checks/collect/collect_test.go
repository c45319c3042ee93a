package collect_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/collect"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
)

// collectOK runs Collect and fails the test when it returns an error.
func collectOK(ctx context.Context, t *testing.T, e *env, opts collect.Options) *checks.Snapshot {
	t.Helper()
	snap, err := collect.Collect(ctx, e.cfg, opts)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	return snap
}

func findBucket(t *testing.T, snap *checks.Snapshot, name string) checks.Bucket {
	t.Helper()
	for _, b := range snap.S3.Buckets {
		if b.Name == name {
			return b
		}
	}
	t.Fatalf("bucket %s not in snapshot (have %d buckets)", name, len(snap.S3.Buckets))
	return checks.Bucket{}
}

func noErrors(t *testing.T, snap *checks.Snapshot) {
	t.Helper()
	if len(snap.Errors) != 0 {
		t.Fatalf("want no collection errors, got %+v", snap.Errors)
	}
}

// emptyPAB, notConfigured… are what "AWS says not configured" looks like in a snapshot.
var (
	emptyPAB = &checks.PublicAccessBlock{}
	fullPAB  = &checks.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
)

// bareBucket is the expected snapshot of a bucket with nothing configured (ACL checked apart).
func bareBucket(name, region string) checks.Bucket {
	return checks.Bucket{
		Name:              name,
		ARN:               "arn:aws:s3:::" + name,
		Region:            region,
		Tags:              map[string]string{},
		Versioning:        &checks.Versioning{},
		ObjectLock:        &checks.ObjectLock{},
		Encryption:        &checks.Encryption{Rules: []checks.EncryptionRule{}},
		Lifecycle:         &checks.Lifecycle{Rules: []checks.LifecycleRule{}},
		PublicAccessBlock: emptyPAB,
		Policy:            &checks.Policy{},
		Ownership:         &checks.Ownership{},
		Logging:           &checks.Logging{},
		Replication:       &checks.Replication{Rules: []checks.ReplicationRule{}},
	}
}

// ignoreBucketVolatile drops what moto makes up per run: creation dates and the owner's canonical
// id inside the ACL (asserted separately).
var ignoreBucketVolatile = cmpopts.IgnoreFields(checks.Bucket{}, "CreationDate", "ACL")

func TestCollectWorkshopAsBuilt(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ws := seedWorkshop(ctx, t, e)
	before := time.Now().UTC().Add(-time.Second)

	var mu sync.Mutex
	var calls, lastDone, lastTotal int
	opts := e.opts
	opts.Progress = func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if done < lastDone || done > total {
			t.Errorf("progress went from %d/%d to %d/%d", lastDone, lastTotal, done, total)
		}
		calls, lastDone, lastTotal = calls+1, done, total
	}
	snap := collectOK(ctx, t, e, opts)
	noErrors(t, snap)
	if calls == 0 || lastDone != lastTotal || lastTotal < len(snap.S3.Buckets) {
		t.Errorf("progress: %d calls, ended at %d/%d", calls, lastDone, lastTotal)
	}

	t.Run("header", func(t *testing.T) {
		if snap.SchemaVersion != checks.SnapshotSchemaVersion {
			t.Errorf("schema version = %q", snap.SchemaVersion)
		}
		if diff := cmp.Diff(checks.Collector{Name: "coffer", Version: "test"}, snap.Collector); diff != "" {
			t.Errorf("collector (-want +got):\n%s", diff)
		}
		if snap.CollectedAt.Location() != time.UTC || snap.CollectedAt.Nanosecond() != 0 || snap.CollectedAt.Before(before.Truncate(time.Second)) {
			t.Errorf("collected_at = %v, want UTC, whole seconds, not before %v", snap.CollectedAt, before)
		}
		if diff := cmp.Diff([]string{"us-east-1"}, snap.Regions); diff != "" {
			t.Errorf("regions (-want +got):\n%s", diff)
		}
	})

	t.Run("account", func(t *testing.T) {
		a := snap.Account
		want := checks.Account{
			ID:                motoserver.AccountID,
			CallerARN:         "arn:aws:sts::123456789012:user/moto",
			Partition:         "aws",
			HomeRegion:        "us-east-1",
			PublicAccessBlock: emptyPAB,
			PasswordPolicy:    &checks.PasswordPolicy{Exists: false},
		}
		if diff := cmp.Diff(want, a, cmpopts.IgnoreFields(checks.Account{}, "Summary")); diff != "" {
			t.Errorf("account (-want +got):\n%s", diff)
		}
		for key, want := range map[string]int32{"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0, "Roles": 1, "Users": 0} {
			got, ok := a.Summary[key]
			if !ok || got != want {
				t.Errorf("summary[%s] = %d (present %v), want %d", key, got, ok, want)
			}
		}
	})

	t.Run("buckets", func(t *testing.T) {
		var names []string
		for _, b := range snap.S3.Buckets {
			names = append(names, b.Name)
		}
		if diff := cmp.Diff([]string{primaryBucket, trailBucket}, names); diff != "" {
			t.Fatalf("bucket names, sorted (-want +got):\n%s", diff)
		}
		primary := bareBucket(primaryBucket, "us-east-1")
		primary.Versioning = &checks.Versioning{Status: "Enabled"}
		primary.ObjectLock = &checks.ObjectLock{Enabled: true, DefaultRetention: &checks.Retention{Mode: "GOVERNANCE", Days: 30}}
		primary.Encryption = &checks.Encryption{Rules: []checks.EncryptionRule{{Algorithm: "AES256"}}}
		primary.Lifecycle = &checks.Lifecycle{Rules: []checks.LifecycleRule{{
			ID:                    "MoveToGlacierAfter14Days",
			Status:                "Enabled",
			Filter:                checks.LifecycleFilter{Tags: map[string]string{}},
			Transitions:           []checks.Transition{{Days: 14, StorageClass: "GLACIER"}},
			NoncurrentTransitions: []checks.NoncurrentTransition{},
		}}}
		primary.PublicAccessBlock = fullPAB
		if diff := cmp.Diff(primary, snap.S3.Buckets[0], ignoreBucketVolatile); diff != "" {
			t.Errorf("primary bucket (-want +got):\n%s", diff)
		}

		tb := snap.S3.Buckets[1]
		if tb.Policy == nil || tb.Policy.Document == nil || len(tb.Policy.Document.Statements) != 2 {
			t.Fatalf("trail bucket policy = %+v, want 2 parsed statements", tb.Policy)
		}
		st := tb.Policy.Document.Statements[1]
		if diff := cmp.Diff(checks.Statement{
			Sid: "AWSCloudTrailWrite", Effect: "Allow",
			Principal: map[string][]string{"Service": {"cloudtrail.amazonaws.com"}},
			Action:    []string{"s3:PutObject"},
			Resource:  []string{"arn:aws:s3:::" + trailBucket + "/AWSLogs/123456789012/*"},
			Condition: map[string]map[string][]string{"StringEquals": {"s3:x-amz-acl": {"bucket-owner-full-control"}}},
		}, st); diff != "" {
			t.Errorf("trail bucket policy statement (-want +got):\n%s", diff)
		}
		for _, b := range snap.S3.Buckets {
			if b.CreationDate == nil || b.CreationDate.Location() != time.UTC {
				t.Errorf("%s: creation date = %v, want a UTC time", b.Name, b.CreationDate)
			}
			if b.ACL == nil || b.ACL.OwnerID == "" || len(b.ACL.Grants) != 1 ||
				b.ACL.Grants[0] != (checks.Grant{Type: "CanonicalUser", ID: b.ACL.OwnerID, Permission: "FULL_CONTROL"}) {
				t.Errorf("%s: ACL = %+v, want the owner's FULL_CONTROL grant only", b.Name, b.ACL)
			}
		}
	})

	t.Run("kms", func(t *testing.T) {
		if len(snap.KMS.Keys) != 1 {
			t.Fatalf("want 1 key, got %+v", snap.KMS.Keys)
		}
		k := snap.KMS.Keys[0]
		off := false
		want := checks.Key{
			ID: ws.keyID, ARN: ws.keyARN, Region: "us-east-1", State: "Enabled", Manager: "CUSTOMER",
			Spec: "SYMMETRIC_DEFAULT", Usage: "ENCRYPT_DECRYPT", Origin: "AWS_KMS", Description: "CloudTrail logs",
			RotationEnabled: &off, Aliases: []string{keyAlias},
		}
		if diff := cmp.Diff(want, k, cmpopts.IgnoreFields(checks.Key{}, "Policy")); diff != "" {
			t.Errorf("key (-want +got):\n%s", diff)
		}
		if k.Policy == nil || k.Policy.Document == nil || k.Policy.ParseError != "" ||
			!cmp.Equal(k.Policy.Document.Statements[0].Principal, map[string][]string{"AWS": {"arn:aws:iam::123456789012:root"}}) {
			t.Errorf("key policy = %+v, want the default policy parsed", k.Policy)
		}
	})

	t.Run("cloudtrail", func(t *testing.T) {
		on := true
		want := []checks.Trail{{
			Name: trailName, ARN: ws.trailARN, HomeRegion: "us-east-1", MultiRegion: true,
			IsLogging: &on, LogFileValidation: true, KMSKeyID: ws.keyARN, S3BucketName: trailBucket,
			IncludeGlobalServiceEvents: true, EventSelectors: []checks.EventSelector{},
			AdvancedEventSelectors: []checks.AdvancedEventSelector{}, SelectorsRead: true,
		}}
		if diff := cmp.Diff(want, snap.CloudTrail.Trails); diff != "" {
			t.Errorf("trails (-want +got):\n%s", diff)
		}
	})

	t.Run("iam", func(t *testing.T) {
		if len(snap.IAM.Roles) != 1 {
			t.Fatalf("want 1 role, got %+v", snap.IAM.Roles)
		}
		r := snap.IAM.Roles[0]
		if r.Name != roleName || r.ARN != "arn:aws:iam::123456789012:role/"+roleName || r.Path != "/" {
			t.Errorf("role = %s %s %s", r.Name, r.ARN, r.Path)
		}
		if diff := cmp.Diff([]checks.AttachedPolicy{{Name: "AmazonS3FullAccess", ARN: s3FullAccess}}, r.AttachedPolicies); diff != "" {
			t.Errorf("role attached policies (-want +got):\n%s", diff)
		}
		if r.TrustPolicy.Document == nil || !cmp.Equal(r.TrustPolicy.Document.Statements[0].Principal, map[string][]string{"Service": {"ec2.amazonaws.com"}}) {
			t.Errorf("trust policy = %+v", r.TrustPolicy)
		}
		// Only the attached AWS-managed policy is kept, with its default-version document.
		if len(snap.IAM.Policies) != 1 {
			t.Fatalf("want only AmazonS3FullAccess among policies, got %d", len(snap.IAM.Policies))
		}
		p := snap.IAM.Policies[0]
		if p.Name != "AmazonS3FullAccess" || p.ARN != s3FullAccess || !p.AWSManaged || p.AttachmentCount != 1 || p.DefaultVersion == "" {
			t.Errorf("policy = %+v", p)
		}
		if p.Document.Document == nil || !strings.HasPrefix(p.Document.Text, "{") || !hasAction(p.Document.Document, "s3:*") {
			t.Errorf("AmazonS3FullAccess document not decoded and parsed with s3:*: %+v", p.Document)
		}
		if len(snap.IAM.Users) != 0 || len(snap.IAM.Groups) != 0 {
			t.Errorf("want no users and groups, got %d, %d", len(snap.IAM.Users), len(snap.IAM.Groups))
		}
		if snap.IAM.CredentialReport == nil || len(snap.IAM.CredentialReport) != 0 {
			t.Errorf("credential report = %#v, want read and empty (moto has no root row)", snap.IAM.CredentialReport)
		}
		if snap.IAM.VirtualMFADevices == nil {
			t.Errorf("virtual MFA devices unreadable")
		}
	})
}

func hasAction(doc *checks.PolicyDocument, action string) bool {
	for _, st := range doc.Statements {
		for _, a := range st.Action {
			if a == action {
				return true
			}
		}
	}
	return false
}

func TestCollectRegions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ws := seedWorkshop(ctx, t, e)
	createBucket(ctx, t, e, "standby-database-bucket", "eu-west-1", false)
	euKey := must[*kms.CreateKeyOutput](t, "eu key")(e.kms("eu-west-1").CreateKey(ctx, &kms.CreateKeyInput{}))
	euTrail := must[*cloudtrail.CreateTrailOutput](t, "eu trail")(e.trail("eu-west-1").CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name: aws.String("eu-trail"), S3BucketName: aws.String("standby-database-bucket"),
	}))

	tests := []struct {
		name        string
		regions     []string
		wantRegions []string
		wantKeys    []string
		wantTrails  []string
		wantErrOps  []string
	}{
		{
			name:        "home region only",
			wantRegions: []string{"us-east-1"},
			wantKeys:    []string{ws.keyARN},
			wantTrails:  []string{ws.trailARN},
		},
		{
			name:        "two regions",
			regions:     []string{"us-east-1", "eu-west-1", "us-east-1"},
			wantRegions: []string{"eu-west-1", "us-east-1"},
			wantKeys:    []string{*euKey.KeyMetadata.Arn, ws.keyARN},
			wantTrails:  []string{*euTrail.TrailARN, ws.trailARN},
		},
		{
			// moto has no account:ListRegions: the partition's default regions are used and the
			// failed call is recorded.
			name:       "all",
			regions:    []string{"all"},
			wantKeys:   []string{*euKey.KeyMetadata.Arn, ws.keyARN},
			wantTrails: []string{*euTrail.TrailARN, ws.trailARN},
			wantErrOps: []string{"account:ListRegions"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := e.opts
			opts.Regions = tc.regions
			snap := collectOK(ctx, t, e, opts)

			if tc.wantRegions != nil {
				if diff := cmp.Diff(tc.wantRegions, snap.Regions); diff != "" {
					t.Errorf("regions (-want +got):\n%s", diff)
				}
			} else if len(snap.Regions) < 17 || !contains(snap.Regions, "eu-west-1") || !contains(snap.Regions, "us-east-1") {
				t.Errorf("regions = %v, want every default-enabled region", snap.Regions)
			}
			var keys, trails, errOps []string
			for _, k := range snap.KMS.Keys {
				keys = append(keys, k.ARN)
			}
			for _, tr := range snap.CloudTrail.Trails {
				trails = append(trails, tr.ARN)
			}
			for _, er := range snap.Errors {
				errOps = append(errOps, er.Service+":"+er.Operation)
			}
			if diff := cmp.Diff(tc.wantKeys, keys); diff != "" {
				t.Errorf("key ARNs, sorted (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantTrails, trails); diff != "" {
				t.Errorf("trail ARNs, each once, sorted (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantErrOps, errOps); diff != "" {
				t.Errorf("errors (-want +got):\n%s\n%+v", diff, snap.Errors)
			}
			// Buckets are global: both appear whatever the regions, each with its own region.
			if got := findBucket(t, snap, "standby-database-bucket").Region; got != "eu-west-1" {
				t.Errorf("standby bucket region = %s, want eu-west-1", got)
			}
			want := bareBucket("standby-database-bucket", "eu-west-1")
			if diff := cmp.Diff(want, findBucket(t, snap, "standby-database-bucket"), ignoreBucketVolatile); diff != "" {
				t.Errorf("eu bucket read from its region (-want +got):\n%s", diff)
			}
			for _, tr := range snap.CloudTrail.Trails {
				if tr.ARN == aws.ToString(euTrail.TrailARN) && (tr.HomeRegion != "eu-west-1" || tr.MultiRegion || tr.IsLogging == nil || *tr.IsLogging) {
					t.Errorf("eu trail = %+v, want home eu-west-1, single-region, not logging", tr)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCollectUnreachableEndpoint: a refused connection fails the identity probe after its short
// budget of two attempts (not the five every other call gets), and nothing waits for a deadline.
func TestCollectUnreachableEndpoint(t *testing.T) {
	// A port nothing listens on: the listener is closed before the call.
	srv := motoserver.Shared(t)
	port := closedPort(t)
	opts := srv.Options()
	opts.EndpointURL = "http://127.0.0.1:" + port
	var attempts atomic.Int32
	opts.APIOptions = append(opts.APIOptions, func(stack *middleware.Stack) error {
		// After the retry middleware: once per attempt.
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("CountAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				attempts.Add(1)
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
	cfg := srv.AWSConfig(t, "us-east-1")
	cfg.BaseEndpoint = aws.String(opts.EndpointURL)

	start := time.Now()
	snap, err := collect.Collect(context.Background(), cfg, opts)
	elapsed := time.Since(start)
	if err == nil {
		t.Fatalf("Collect against a closed port returned a snapshot: %+v", snap.Account)
	}
	if n := attempts.Load(); n != 2 {
		t.Errorf("%d attempts, want the identity probe's 2", n)
	}
	// The two refused attempts and the backoff between them (at most 500ms) take well under a
	// second; a run that waited for the probe's 15 s deadline instead would take at least that,
	// on any machine.
	if elapsed >= 15*time.Second {
		t.Errorf("Collect took %s to fail: it waited for a deadline", elapsed)
	}
	for _, want := range []string{"get caller identity", opts.EndpointURL} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestCollectEndpointFromEnvironment: AWS_ENDPOINT_URL alone sends every client, S3 Control and
// path-style S3 included, to the emulator.
func TestCollectEndpointFromEnvironment(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	createBucket(ctx, t, e, "env-bucket", "us-east-1", false)
	t.Setenv("AWS_ENDPOINT_URL", e.srv.URL)
	opts := e.opts
	opts.EndpointURL = ""
	cfg := e.cfg
	cfg.BaseEndpoint = nil
	snap, err := collect.Collect(ctx, cfg, opts)
	if err != nil {
		t.Fatalf("Collect with AWS_ENDPOINT_URL: %v", err)
	}
	noErrors(t, snap)
	if len(snap.S3.Buckets) != 1 || snap.S3.Buckets[0].Versioning == nil || snap.Account.PublicAccessBlock == nil {
		t.Errorf("snapshot through AWS_ENDPOINT_URL incomplete: %+v", snap.S3.Buckets)
	}
}

func TestCollectCancelled(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := collect.Collect(ctx, e.cfg, e.opts); err == nil {
		t.Fatal("Collect with a cancelled context returned no error")
	}
}
