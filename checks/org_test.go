package checks_test

import (
	"context"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/policies"
)

// splitVault moves vault-projects-standby out of the drifted account into a vault account, untagged,
// so that only the cross-account replication rule of vault-projects makes it a standby.
func splitVault(t *testing.T) (single *checks.Snapshot, org *checks.MemoryAccounts) {
	t.Helper()
	single, err := checks.LoadSnapshot("../fixtures/drifted.json")
	if err != nil {
		t.Fatal(err)
	}
	prod, _ := checks.LoadSnapshot("../fixtures/drifted.json")
	vault := &checks.Snapshot{SchemaVersion: prod.SchemaVersion, Collector: prod.Collector, CollectedAt: prod.CollectedAt,
		Regions: prod.Regions, Account: checks.Account{ID: "333333333333", Partition: "aws", HomeRegion: "us-east-1"}}
	var kept []checks.Bucket
	for _, b := range prod.S3.Buckets {
		switch b.Name {
		case "vault-projects-standby":
			delete(b.Tags, checks.RoleTag)
			vault.S3.Buckets = append(vault.S3.Buckets, b)
			continue
		case "vault-projects":
			b.Replication.Rules[0].DestinationAccount = "333333333333"
		}
		kept = append(kept, b)
	}
	prod.S3.Buckets = kept
	org = &checks.MemoryAccounts{Snapshot: checks.OrgSnapshot{
		SchemaVersion: checks.OrgSnapshotSchemaVersion, CallerAccountID: prod.Account.ID,
		Accounts: []checks.OrgAccount{
			{ID: prod.Account.ID, Name: "prod", Status: checks.AccountScanned, Snapshot: prod},
			{ID: "333333333333", Name: "vault", Status: checks.AccountScanned, Snapshot: vault},
			{ID: "444444444444", Name: "denied", Status: checks.AccountError, Error: "AssumeRole failed (AccessDenied: not authorized)"},
			{ID: "555555555555", Name: "old", Status: checks.AccountSkipped, Error: "SUSPENDED"},
		},
	}}
	return single, org
}

// TestEvaluateOrgPairsAcrossAccounts: a standby moved to another account is judged there, as the
// standby of its primary, and the primary keeps its standby — the same verdicts as when both
// buckets were in one account.
func TestEvaluateOrgPairsAcrossAccounts(t *testing.T) {
	engine, err := checks.NewEngine(context.Background(), checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	single, org := splitVault(t)
	before, err := engine.Evaluate(context.Background(), single, checks.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var reports []*checks.Report
	accounts, err := engine.EvaluateOrg(context.Background(), org, checks.OrgEvalOptions{}, func(_ checks.AccountInfo, r *checks.Report) error {
		reports = append(reports, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 3 || len(accounts) != 4 {
		t.Fatalf("%d reports for %d accounts, want 3 (the skipped account has none) for 4", len(reports), len(accounts))
	}
	if a := accounts[3]; a.Status != checks.AccountSkipped || a.Summary != nil || a.Error != "SUSPENDED" {
		t.Errorf("skipped account = %+v", a)
	}

	type key struct{ check, bucket string }
	status := func(r *checks.Report) map[key]checks.Finding {
		out := map[key]checks.Finding{}
		for _, f := range r.Findings {
			out[key{f.CheckID, f.Resource.Name}] = f
		}
		return out
	}
	was, prod, vault := status(before), status(reports[0]), status(reports[1])
	// Bucket checks that depend only on the bucket and its pair (not on the trail or the KMS keys,
	// which stayed in the other account).
	for _, c := range []string{"s3-bucket-versioning", "s3-bucket-object-lock", "s3-bucket-acls-disabled", "s3-bucket-public-access-block",
		"s3-bucket-tls-only", "s3-bucket-lifecycle-hygiene", "s3-bucket-not-public", "s3-bucket-default-encryption", "s3-standby-other-region"} {
		k := key{c, "vault-projects-standby"}
		got, ok := vault[k]
		if !ok || got.Status != was[k].Status || got.Resource.Role != "standby" || got.Resource.AccountID != "333333333333" {
			t.Errorf("%s on the moved standby: %s %q in account %s, want %s as before", c, got.Status, got.Resource.Role, got.Resource.AccountID, was[k].Status)
		}
		if _, judgedInProd := prod[k]; judgedInProd {
			t.Errorf("%s judged the moved standby in the primary's account too", c)
		}
	}
	if got := vault[key{"s3-standby-other-region", "vault-projects-standby"}]; !strings.Contains(got.Message, "standby of vault-projects") {
		t.Errorf("other-region message = %q, want it to name the primary in the other account", got.Message)
	}
	for _, c := range []string{"s3-standby-exists", "s3-bucket-replication"} {
		k := key{c, "vault-projects"}
		if got := prod[k]; got.Status != was[k].Status || got.Status != checks.StatusPass {
			t.Errorf("%s on the primary = %s (%s), want PASS as before", c, got.Status, got.Message)
		}
	}

	denied := reports[2]
	if len(denied.Findings) != len(engine.Rules()) {
		t.Fatalf("the unreadable account has %d findings, want one per check (%d)", len(denied.Findings), len(engine.Rules()))
	}
	for _, f := range denied.Findings {
		if f.Status != checks.StatusError || !strings.Contains(f.Message, "AccessDenied") || f.Resource.AccountID != "444444444444" {
			t.Fatalf("unreadable account finding = %+v", f)
		}
	}
	if accounts[2].Summary == nil || accounts[2].Summary.Error != len(engine.Rules()) {
		t.Errorf("unreadable account summary = %+v", accounts[2].Summary)
	}

	merged := checks.MergeReports(reports, accounts)
	if merged.AccountID != "" || len(merged.Accounts) != 4 || merged.Summary.Error < len(engine.Rules()) {
		t.Errorf("merged report: account %q, %d accounts, summary %+v", merged.AccountID, len(merged.Accounts), merged.Summary)
	}
	for i := 1; i < len(merged.Findings); i++ {
		a, b := merged.Findings[i-1], merged.Findings[i]
		if a.Resource.AccountID > b.Resource.AccountID || a.Resource.AccountID == b.Resource.AccountID && a.CheckID > b.CheckID {
			t.Fatalf("merged findings not sorted by account then check at %d: %s/%s before %s/%s", i, a.Resource.AccountID, a.CheckID, b.Resource.AccountID, b.CheckID)
		}
	}
}
