package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// inAccount is f as a report with account ids writes it.
func inAccount(account string, f Finding) Finding {
	f.Resource.AccountID = account
	return f
}

// TestFindingKeysNameTheAccount: baselines and diffs match findings by account, check and ARN.
// S3 ARNs carry no account, so without the account an organisation's findings on a bucket name
// that moved between accounts would match; and a report written before resources carried
// account_id still matches a current one through its top-level account_id.
func TestFindingKeysNameTheAccount(t *testing.T) {
	const ver = "s3-bucket-versioning"
	const a, b = "111111111111", "222222222222"
	fail := func(name string) Finding { return diffFinding(ver, name, SeverityHigh, StatusFail) }
	tests := []struct {
		name      string
		old, new  *Report
		baselined []string // account/bucket of the FAILs ApplyBaseline marks
		wantNew   []string // account/bucket of the diff's new failures
		resolved  []string
	}{
		{
			name:      "a report without account ids matches a report of its account",
			old:       reportOf(a, fail("vault"), fail("gone")),
			new:       reportOf(a, inAccount(a, fail("vault")), inAccount(a, fail("fresh"))),
			baselined: []string{a + "/vault"},
			wantNew:   []string{a + "/fresh"},
			resolved:  []string{a + "/gone"},
		},
		{
			name:      "a current report matches one without account ids the other way round",
			old:       reportOf(a, inAccount(a, fail("vault"))),
			new:       reportOf(a, fail("vault")),
			baselined: []string{a + "/vault"},
		},
		{
			name:      "organisation reports: the same bucket name in another account is another finding",
			old:       reportOf("", inAccount(a, fail("vault")), inAccount(b, fail("logs"))),
			new:       reportOf("", inAccount(b, fail("vault")), inAccount(b, fail("logs"))),
			baselined: []string{b + "/logs"},
			wantNew:   []string{b + "/vault"},
			resolved:  []string{a + "/vault"},
		},
	}
	names := func(fcs []FindingChange) []string {
		out := []string{}
		for _, fc := range fcs {
			out = append(out, fc.Resource.AccountID+"/"+fc.Resource.Name)
		}
		return out
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cur := &Report{AccountID: tc.new.AccountID, Findings: append([]Finding(nil), tc.new.Findings...)}
			cur.ApplyBaseline(tc.old)
			marked := []string{}
			for _, f := range cur.Findings {
				if f.InBaseline {
					marked = append(marked, cur.KeyOf(&f).AccountID+"/"+f.Resource.Name)
				}
			}
			if diff := cmp.Diff(tc.baselined, marked); diff != "" {
				t.Errorf("baselined (-want +got):\n%s", diff)
			}
			d, err := DiffReports(tc.old, tc.new)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantNew == nil {
				tc.wantNew = []string{}
			}
			if tc.resolved == nil {
				tc.resolved = []string{}
			}
			if diff := cmp.Diff(tc.wantNew, names(d.NewFailures)); diff != "" {
				t.Errorf("new failures (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.resolved, names(d.Resolved)); diff != "" {
				t.Errorf("resolved (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindingKeyOrder(t *testing.T) {
	keys := []FindingKey{
		{AccountID: "2", CheckID: "a", ARN: "x"},
		{AccountID: "1", CheckID: "b", ARN: "a"},
		{AccountID: "1", CheckID: "a", ARN: "y"},
		{AccountID: "1", CheckID: "a", ARN: "x"},
	}
	for i := 1; i < len(keys); i++ {
		if keys[i].Compare(keys[i-1]) >= 0 || keys[i-1].Compare(keys[i]) <= 0 {
			t.Errorf("%v does not sort before %v (account, check, ARN)", keys[i], keys[i-1])
		}
	}
	if keys[0].Compare(keys[0]) != 0 {
		t.Error("a key does not equal itself")
	}
}
