package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/atomicfile"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/fixtures/faultproxy"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
	"github.com/coffer-audit/coffer/fixtures/seed"
	"github.com/google/go-cmp/cmp"
)

// writeOrgSnapshot writes an organisation snapshot of the given accounts.
func writeOrgSnapshot(t *testing.T, accounts ...checks.OrgAccount) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "org.json")
	i := 0
	err := atomicfile.Write(path, func(w io.Writer) error {
		return checks.WriteOrgSnapshot(w, checks.OrgSnapshot{CallerAccountID: accounts[0].ID}, func() (*checks.OrgAccount, bool, error) {
			if i == len(accounts) {
				return nil, false, nil
			}
			i++
			return &accounts[i-1], true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func fixtureAccount(t *testing.T, file, id, name string) checks.OrgAccount {
	t.Helper()
	snap, err := checks.LoadSnapshot(filepath.Join("..", "..", "fixtures", file))
	if err != nil {
		t.Fatal(err)
	}
	snap.Account.ID = id
	return checks.OrgAccount{ID: id, Name: name, Status: checks.AccountScanned, Snapshot: snap}
}

func TestScanOrganisationSnapshot(t *testing.T) {
	path := writeOrgSnapshot(t,
		fixtureAccount(t, "drifted.json", "111111111111", "prod"),
		fixtureAccount(t, "compliant.json", "222222222222", "dev"),
		checks.OrgAccount{ID: "333333333333", Name: "vault", Status: checks.AccountError, Error: "AssumeRole failed (AccessDenied)"},
		checks.OrgAccount{ID: "444444444444", Name: "old", Status: checks.AccountSkipped, Error: "SUSPENDED"},
	)
	out := filepath.Join(t.TempDir(), "report.json")
	r := runCLI(t, "scan", "--snapshot", path, "--format", "json="+out)
	if r.code != exitFindings {
		t.Fatalf("exit %d, want %d: %s", r.code, exitFindings, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var report checks.Report
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatal(err)
	}
	if report.AccountID != "" || len(report.Accounts) != 4 {
		t.Fatalf("account_id %q, %d accounts, want an organisation report of 4", report.AccountID, len(report.Accounts))
	}
	byAccount := map[string]int{}
	for _, f := range report.Findings {
		byAccount[f.Resource.AccountID]++
	}
	for _, a := range report.Accounts {
		switch a.Status {
		case checks.AccountScanned, checks.AccountError:
			if a.Summary == nil || byAccount[a.ID] != a.Summary.Pass+a.Summary.Fail+a.Summary.Error+a.Summary.Waived || byAccount[a.ID] == 0 {
				t.Errorf("account %s: %d findings, summary %+v", a.ID, byAccount[a.ID], a.Summary)
			}
		case checks.AccountSkipped:
			if byAccount[a.ID] != 0 || a.Error != "SUSPENDED" {
				t.Errorf("skipped account %+v has %d findings", a, byAccount[a.ID])
			}
		}
	}
}

// TestScanOrganisationUnseenAccountExits3: nothing failed, but an account was not seen.
func TestScanOrganisationUnseenAccountExits3(t *testing.T) {
	path := writeOrgSnapshot(t,
		checks.OrgAccount{ID: "333333333333", Status: checks.AccountError, Error: "AssumeRole failed (AccessDenied)"},
		checks.OrgAccount{ID: "444444444444", Status: checks.AccountSkipped, Error: "SUSPENDED"},
	)
	r := runCLI(t, "scan", "--snapshot", path, "--format", "json="+filepath.Join(t.TempDir(), "r.json"), "--fail-on", "critical")
	if r.code != exitIncomplete {
		t.Fatalf("exit %d, want %d: %s", r.code, exitIncomplete, r.stderr)
	}
}

// TestOrganisationScanAgainstMoto seeds an organisation with different drift per account and a
// standby in a vault account, denies AssumeRole into one member, and scans it all in one run:
// per-account findings, the cross-account pair judged in each account, the denied account ERROR
// without stopping the others, nothing but reads in any account, and a scan of the collected
// organisation snapshot finding for finding equal to the live scan.
func TestOrganisationScanAgainstMoto(t *testing.T) {
	ctx := context.Background()
	srv := motoserver.Shared(t)
	srv.Reset(t)
	cfg := srv.AWSConfig(t, "us-east-1")
	opts := srv.Options().Options
	members, err := seed.Organization(ctx, cfg, "vault", "prod", "denied")
	if err != nil {
		t.Fatal(err)
	}
	vault, prod, denied := members[0], members[1], members[2]
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed %s: %v", what, err)
		}
	}
	bucket := func(acct seed.Member, name, region string, versioned bool) *s3.Client {
		c := awsclient.NewS3(seed.MemberConfig(cfg, acct.ID), region, opts)
		in := &s3.CreateBucketInput{Bucket: aws.String(name)}
		if region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
		}
		_, err := c.CreateBucket(ctx, in)
		must(name, err)
		if versioned {
			_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(name),
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
			must(name+" versioning", err)
		}
		return c
	}
	bucket(vault, "vault-copy", "eu-west-1", true)
	prodS3 := bucket(prod, "prod-backups", "us-east-1", true)
	bucket(prod, "prod-new", "us-east-1", false)
	_, err = prodS3.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: aws.String("prod-backups"),
		ReplicationConfiguration: &s3types.ReplicationConfiguration{
			Role: aws.String("arn:aws:iam::" + prod.ID + ":role/replication"),
			Rules: []s3types.ReplicationRule{{ID: aws.String("to-vault"), Status: s3types.ReplicationRuleStatusEnabled, Priority: aws.Int32(1),
				Filter:                  &s3types.ReplicationRuleFilter{Prefix: aws.String("")},
				DeleteMarkerReplication: &s3types.DeleteMarkerReplication{Status: s3types.DeleteMarkerReplicationStatusDisabled},
				Destination:             &s3types.Destination{Bucket: aws.String("arn:aws:s3:::vault-copy"), Account: aws.String(vault.ID)}}},
		}})
	must("replication", err)

	const role = "OrganizationAccountAccessRole"
	proxy := faultproxy.Start(t, srv.URL, faultproxy.Options{Rules: []faultproxy.Rule{{
		Service: "sts", Operation: "AssumeRole", BodyContains: "arn:aws:iam::" + denied.ID + ":role/" + role, Kind: faultproxy.Deny, Rate: 1,
	}}})
	useMotoCredentials(t)
	flags := []string{"--endpoint-url", proxy.URL, "--region", "us-east-1", "--regions", "us-east-1,eu-west-1", "--quiet", "--call-timeout", "5m",
		"--org", "--role-name", role}

	rec := &motoserver.Recorder{}
	live, r := scanReport(ctx, t, []func(*middleware.Stack) error{rec.Option}, flags...)
	if r.code != exitFindings {
		t.Fatalf("exit %d, want %d (prod has drift): %s", r.code, exitFindings, r.stderr)
	}
	status := map[string]checks.AccountInfo{}
	for _, a := range live.Accounts {
		status[a.ID] = a
	}
	for _, id := range []string{motoserver.AccountID, vault.ID, prod.ID} {
		if status[id].Status != checks.AccountScanned {
			t.Errorf("account %s is %+v, want scanned", id, status[id])
		}
	}
	if d := status[denied.ID]; d.Status != checks.AccountError || !strings.Contains(d.Error, "AccessDenied") {
		t.Errorf("denied account = %+v, want error naming AccessDenied", d)
	}
	type key struct{ account, check, resource string }
	got := map[key]checks.Finding{}
	for _, f := range live.Findings {
		got[key{f.Resource.AccountID, f.CheckID, f.Resource.Name}] = f
	}
	for _, want := range []struct {
		key    key
		status checks.Status
		role   string
	}{
		{key{prod.ID, "s3-bucket-versioning", "prod-new"}, checks.StatusFail, "primary"},
		{key{prod.ID, "s3-standby-exists", "prod-new"}, checks.StatusFail, "primary"},     // replicates nowhere
		{key{prod.ID, "s3-standby-exists", "prod-backups"}, checks.StatusPass, "primary"}, // its standby is in the vault
		{key{vault.ID, "s3-bucket-versioning", "vault-copy"}, checks.StatusPass, "standby"},
		{key{vault.ID, "s3-bucket-object-lock", "vault-copy"}, checks.StatusFail, "standby"},
		{key{vault.ID, "s3-standby-other-region", "vault-copy"}, checks.StatusPass, "standby"},
	} {
		f, ok := got[want.key]
		if !ok || f.Status != want.status || f.Resource.Role != want.role {
			t.Errorf("%v: %s as %q (%s), want %s as %q", want.key, f.Status, f.Resource.Role, f.Message, want.status, want.role)
		}
	}
	for _, f := range live.Findings {
		if f.Resource.AccountID == denied.ID && f.Status != checks.StatusError {
			t.Errorf("denied account: %s is %s, want ERROR", f.CheckID, f.Status)
		}
		if f.Resource.AccountID == vault.ID && f.Resource.Name == "prod-backups" || f.Resource.AccountID == prod.ID && f.Resource.Name == "vault-copy" {
			t.Errorf("%s judged %s outside its account", f.CheckID, f.Resource.Name)
		}
	}
	for _, op := range rec.Operations() {
		if !motoserver.ReadOnly(op) && op != "STS:AssumeRole" {
			t.Errorf("the organisation scan called a mutating operation: %s", op)
		}
	}

	// collect --org, then scan the snapshot: the same findings, account for account.
	snapPath := filepath.Join(t.TempDir(), "org.json")
	if r := runApp(ctx, t, nil, append([]string{"collect", "-o", snapPath}, flags...)...); r.code != exitOK {
		t.Fatalf("collect --org: exit %d: %s", r.code, r.stderr)
	}
	offline, _ := scanReport(ctx, t, nil, "--snapshot", snapPath)
	verdicts := func(r *checks.Report) []string {
		var out []string
		for _, f := range r.Findings {
			out = append(out, fmt.Sprintf("%s %s %s %s %s", f.Resource.AccountID, f.CheckID, f.Resource.ARN, f.Status, f.Message))
		}
		return out
	}
	if diff := cmp.Diff(verdicts(live), verdicts(offline)); diff != "" {
		t.Errorf("scan of the collected organisation snapshot differs from the live scan (-live +snapshot):\n%s", diff)
	}
}

// TestOrganisationFix: --fix with --org plans per account, applies each account's changes with
// that account's own credentials, keeps a journal per account, and reports the state after.
func TestOrganisationFix(t *testing.T) {
	ctx := context.Background()
	srv := motoserver.Shared(t)
	srv.Reset(t)
	cfg := srv.AWSConfig(t, "us-east-1")
	opts := srv.Options().Options
	members, err := seed.Organization(ctx, cfg, "prod")
	if err != nil {
		t.Fatal(err)
	}
	prod := members[0]
	prodS3 := awsclient.NewS3(seed.MemberConfig(cfg, prod.ID), "us-east-1", opts)
	if _, err := prodS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("prod-unversioned")}); err != nil {
		t.Fatal(err)
	}
	useMotoCredentials(t)
	journal := filepath.Join(t.TempDir(), "journal.json")
	rec := &motoserver.Recorder{}
	after, r := scanReport(ctx, t, []func(*middleware.Stack) error{rec.Option}, "--endpoint-url", srv.URL, "--region", "us-east-1", "--quiet",
		"--call-timeout", "5m", "--org", "--role-name", "OrganizationAccountAccessRole", "--fix", "--yes", "--journal", journal)
	if r.code == exitUsage {
		t.Fatalf("exit 2: %s", r.stderr)
	}
	for _, want := range []string{"== Account " + motoserver.AccountID, "== Account " + prod.ID + " (prod)"} {
		if !strings.Contains(r.stdout, want) { // every report goes to a file: the plan is on stdout
			t.Errorf("the plan does not show %q:\n%s", want, r.stdout)
		}
	}
	for _, f := range after.Findings {
		if f.CheckID == "s3-bucket-versioning" && f.Resource.Name == "prod-unversioned" && f.Status != checks.StatusPass {
			t.Errorf("after --fix, versioning of prod-unversioned is %s (%s)", f.Status, f.Message)
		}
	}
	if _, err := os.Stat(strings.TrimSuffix(journal, ".json") + "-" + prod.ID + ".json"); err != nil {
		t.Errorf("no journal for account %s: %v", prod.ID, err)
	}
	assumed := rec.AssumedRoles()
	sawPut := false
	for _, c := range rec.Calls() {
		if c.Op != "S3:PutBucketVersioning" {
			continue
		}
		if in, ok := c.Input.(*s3.PutBucketVersioningInput); ok && aws.ToString(in.Bucket) == "prod-unversioned" {
			sawPut = true
			if role := assumed[c.AccessKeyID]; !strings.Contains(role, prod.ID) {
				t.Errorf("prod-unversioned was changed with key %s (role %q), not the prod account's", c.AccessKeyID, role)
			}
		}
	}
	if !sawPut {
		t.Error("no PutBucketVersioning for prod-unversioned was recorded")
	}
}
