package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOrgDirectoryPairsAcrossAccounts(t *testing.T) {
	replicating := func(name, to, toAccount string) Bucket {
		return Bucket{Name: name, Region: "us-east-1", Replication: &Replication{Rules: []ReplicationRule{{Status: "Enabled", DestinationBucket: to, DestinationAccount: toAccount}}}}
	}
	prod := &Snapshot{Account: Account{ID: "111111111111"}, S3: S3{Buckets: []Bucket{
		replicating("prod-backups", "vault-copy", "333333333333"),
		{Name: "prod-new"}, // replicates nowhere: no standby
		replicating("prod-elsewhere", "unscanned-copy", "999999999999"), // destination not scanned
	}}}
	vault := &Snapshot{Account: Account{ID: "333333333333"}, S3: S3{Buckets: []Bucket{
		{Name: "vault-copy", Region: "eu-west-1"},
		{Name: "vault-spare", Tags: map[string]string{RoleTag: RoleStandby}},
	}}}
	cfg := DefaultConfig()
	dir := NewOrgDirectory()
	dir.Add(prod, cfg)
	dir.Add(vault, cfg)
	needs := dir.NeedsPeers()
	if diff := cmp.Diff(map[string][]string{"111111111111": {"prod-backups"}, "333333333333": {"vault-copy"}}, needs); diff != "" {
		t.Fatalf("NeedsPeers (-want +got):\n%s", diff)
	}
	dir.CollectPeers(prod, needs[prod.Account.ID])
	dir.CollectPeers(vault, needs[vault.Account.ID])

	p := dir.For(prod.Account.ID)
	if p.StandbyOf["prod-backups"] != "vault-copy" || p.Peers["vault-copy"] == nil || p.Peers["vault-copy"].AccountID != "333333333333" || p.Peers["vault-copy"].Role != RoleStandby {
		t.Errorf("prod: %+v", p)
	}
	roles, _ := bucketRoles(prod, cfg, p.ReplicatedTo)
	if diff := cmp.Diff(map[string]string{"prod-backups": "vault-copy"}, standbyPairs(prod, cfg, roles, p)); diff != "" {
		t.Errorf("prod pairs (-want +got):\n%s", diff)
	}

	v := dir.For(vault.Account.ID)
	if !v.ReplicatedTo["vault-copy"] || v.Peers["prod-backups"] == nil || v.Peers["prod-backups"].Role != RolePrimary {
		t.Errorf("vault: %+v", v)
	}
	roles, _ = bucketRoles(vault, cfg, v.ReplicatedTo)
	if roles["vault-copy"] != RoleStandby {
		t.Errorf("vault-copy is %s, want standby (a primary of another account replicates to it)", roles["vault-copy"])
	}
	// vault-copy is claimed by prod-backups; vault-spare is the only unclaimed standby but the
	// vault account has no primary of its own to pair it with.
	if diff := cmp.Diff(map[string]string{"prod-backups": "vault-copy"}, standbyPairs(vault, cfg, roles, v)); diff != "" {
		t.Errorf("vault pairs (-want +got):\n%s", diff)
	}
}
