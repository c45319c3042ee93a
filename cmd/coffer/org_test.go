package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/atomicfile"
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
