package checks_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
)

func orgFixture(t *testing.T) checks.OrgSnapshot {
	t.Helper()
	prod, err := checks.LoadSnapshot("../fixtures/drifted.json")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := checks.LoadSnapshot("../fixtures/compliant.json")
	if err != nil {
		t.Fatal(err)
	}
	dev.Account.ID = "222222222222"
	return checks.OrgSnapshot{
		Collector: prod.Collector, CollectedAt: prod.CollectedAt, CallerAccountID: prod.Account.ID,
		Accounts: []checks.OrgAccount{
			{ID: prod.Account.ID, Name: "prod", Status: checks.AccountScanned, Snapshot: prod},
			{ID: "222222222222", Name: "dev", Status: checks.AccountScanned, Snapshot: dev},
			{ID: "333333333333", Name: "vault", Status: checks.AccountError, Error: "AssumeRole: AccessDenied"},
			{ID: "444444444444", Name: "old", Status: checks.AccountSkipped, Error: "SUSPENDED"},
		},
	}
}

func writeOrg(t *testing.T, org checks.OrgSnapshot) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "org.json")
	var buf bytes.Buffer
	i := 0
	err := checks.WriteOrgSnapshot(&buf, org, func() (*checks.OrgAccount, bool, error) {
		if i == len(org.Accounts) {
			return nil, false, nil
		}
		i++
		return &org.Accounts[i-1], true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOrgSnapshotRoundTrip(t *testing.T) {
	org := orgFixture(t)
	src, err := checks.OpenSnapshot(writeOrg(t, org))
	if err != nil {
		t.Fatal(err)
	}
	if src.Single() != nil {
		t.Fatal("an organisation snapshot opened as a single account")
	}
	h := src.Header()
	if h.SchemaVersion != checks.OrgSnapshotSchemaVersion || h.CallerAccountID != org.CallerAccountID || !h.CollectedAt.Equal(org.CollectedAt) {
		t.Errorf("header = %+v", h)
	}
	for pass := 0; pass < 2; pass++ { // a source can be read again
		var got []checks.OrgAccount
		if err := src.Each(func(a *checks.OrgAccount) error { got = append(got, *a); return nil }); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(org.Accounts, got); diff != "" {
			t.Fatalf("pass %d (-want +got):\n%s", pass, diff)
		}
	}
}

func TestOpenSnapshotReadsVersion1AsOneAccount(t *testing.T) {
	src, err := checks.OpenSnapshot("../fixtures/drifted.json")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := src.Each(func(a *checks.OrgAccount) error { ids = append(ids, a.ID+"/"+a.Status); return nil }); err != nil {
		t.Fatal(err)
	}
	if src.Single() == nil || len(ids) != 1 || ids[0] != src.Single().Account.ID+"/scanned" {
		t.Errorf("accounts = %v", ids)
	}
}

func TestOpenSnapshotErrorsNamePosition(t *testing.T) {
	good, err := os.ReadFile(writeOrg(t, orgFixture(t)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from, to, want string
	}{
		{"unknown field in an account", `"name": "dev"`, `"name": "dev", "colour": "red"`, `unknown field "colour"`},
		{"unknown field in a snapshot", `"regions": [`, `"regionz": [`, `unknown field "regionz"`},
		{"bad status", `"status": "skipped"`, `"status": "gone"`, `status "gone"`},
		{"duplicate account", `"id": "444444444444"`, `"id": "333333333333"`, "appears twice"},
		{"snapshot of another account", `"id": "222222222222",`, `"id": "555555555555",`, "holds the snapshot of account 222222222222"},
		{"not 12 digits", `"id": "444444444444"`, `"id": "44"`, "not 12 digits"},
		{"broken string", `"status": "skipped"`, `"status": "skip`, "invalid character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(good, []byte(tc.from)) {
				t.Fatalf("fixture lacks %s", tc.from)
			}
			bad := strings.Replace(string(good), tc.from, tc.to, 1)
			path := filepath.Join(t.TempDir(), "bad.json")
			if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := checks.OpenSnapshot(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path+":") {
				t.Errorf("error = %v, want it to name %s:line:col and %q", err, path, tc.want)
			}
		})
	}
}
