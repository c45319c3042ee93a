package reporters

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/bench"
	"github.com/coffer-audit/coffer/policies"
)

// stream writes reports through NewStream(format) and closes it with accounts.
func stream(t testing.TB, format string, opts Options, reports []*checks.Report, accounts []checks.AccountInfo) []byte {
	t.Helper()
	var buf bytes.Buffer
	sw, err := NewStream(format, &buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if err := sw.Account(r); err != nil {
			t.Fatalf("%s: account %s: %v", format, r.AccountID, err)
		}
	}
	if err := sw.Close(accounts); err != nil {
		t.Fatalf("%s: close: %v", format, err)
	}
	return buf.Bytes()
}

// engineOrgReports evaluates n accounts of varied buckets with the built-in checks, as
// EvaluateOrg would emit them (each a copy of one snapshot under another account id).
func engineOrgReports(t testing.TB, n, buckets int) ([]*checks.Report, []checks.AccountInfo) {
	t.Helper()
	ctx := context.Background()
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	var reports []*checks.Report
	var accounts []checks.AccountInfo
	for i := range n {
		snap := bench.VariedSnapshot(buckets)
		snap.Account.ID = fmt.Sprintf("%012d", 100000000000+i)
		r, err := engine.Evaluate(ctx, snap, checks.EvalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := r.Summary
		reports = append(reports, r)
		accounts = append(accounts, checks.AccountInfo{ID: snap.Account.ID, Status: checks.AccountScanned, Summary: &s})
	}
	return reports, accounts
}

// TestStreamIsTheMergedReport: a report written account by account is, parsed, the report the
// format writes for checks.MergeReports of the same accounts; and a single account's stream is
// that account's report byte for byte.
func TestStreamIsTheMergedReport(t *testing.T) {
	reports, accounts := orgReports()
	engineReports, engineAccounts := engineOrgReports(t, 3, 40)
	single := goldenReport()
	// An account whose report has no findings at all has no SARIF run in the whole log.
	empty := *reports[1]
	empty.Findings = nil
	empty.Summarize()
	withEmpty := []*checks.Report{reports[0], &empty, reports[2]}
	tests := []struct {
		name     string
		reports  []*checks.Report
		accounts []checks.AccountInfo
	}{
		{"organisation", reports, accounts},
		{"engine accounts", engineReports, engineAccounts},
		{"one account scanned, others not", reports[:1], accounts},
		{"an account without findings", withEmpty, accounts},
		{"no account scanned", nil, []checks.AccountInfo{orgAccounts[3]}},
		{"single account", []*checks.Report{single}, []checks.AccountInfo{{ID: fixtureAccount, Status: checks.AccountScanned}}},
		{"single account, no list", []*checks.Report{single}, nil},
	}
	for _, tc := range tests {
		for _, format := range StreamFormats() {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				got := stream(t, format, Options{Category: "nightly"}, tc.reports, tc.accounts)
				want := render(t, format, Options{Category: "nightly"}, checks.MergeReports(tc.reports, tc.accounts))
				if len(tc.reports) == 1 && len(tc.accounts) <= 1 {
					if diff := cmp.Diff(string(want), string(got)); diff != "" {
						t.Errorf("a single account's stream is not its report (-want +got):\n%s", diff)
					}
					return
				}
				var gotDoc, wantDoc any
				if err := json.Unmarshal(got, &gotDoc); err != nil {
					t.Fatalf("stream is not JSON: %v\n%s", err, got)
				}
				if err := json.Unmarshal(want, &wantDoc); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(wantDoc, gotDoc); diff != "" {
					t.Errorf("stream differs from the merged report (-merged +stream):\n%s", diff)
				}
			})
		}
	}
}

func TestNewStreamFormats(t *testing.T) {
	if got, want := StreamFormats(), []string{"json", "sarif"}; !cmp.Equal(got, want) {
		t.Errorf("StreamFormats() = %v, want %v", got, want)
	}
	for _, format := range []string{"markdown", "table", "nope"} {
		if _, err := NewStream(format, &bytes.Buffer{}, Options{}); err == nil {
			t.Errorf("NewStream(%q): want an error", format)
		}
	}
	sw, _ := NewStream(FormatJSON, &bytes.Buffer{}, Options{})
	if err := sw.Close(nil); err != nil {
		t.Fatal(err)
	}
	if err := sw.Account(goldenReport()); err == nil {
		t.Error("Account after Close: want an error")
	}
}

// TestStreamKeepsNoFindings: once the next account has come, the stream holds no reference to an
// account's findings, so memory is that of the largest account, not of the organisation. Each
// account's findings array gets a finalizer; after the stream, every one but the last account's
// (held back until a second comes or Close) must have been collected.
func TestStreamKeepsNoFindings(t *testing.T) {
	base := goldenReport()
	for _, format := range StreamFormats() {
		t.Run(format, func(t *testing.T) {
			const n = 12
			var collected atomic.Int32
			sw, err := NewStream(format, io.Discard, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var accounts []checks.AccountInfo
			for i := range n {
				id := fmt.Sprintf("%012d", 500000000000+i)
				r := *base
				r.AccountID = id
				r.Findings = make([]checks.Finding, len(base.Findings))
				copy(r.Findings, base.Findings)
				for j := range r.Findings {
					r.Findings[j].Resource.AccountID = id
				}
				runtime.SetFinalizer(&r.Findings[0], func(*checks.Finding) { collected.Add(1) })
				if err := sw.Account(&r); err != nil {
					t.Fatal(err)
				}
				accounts = append(accounts, checks.AccountInfo{ID: id, Status: checks.AccountScanned})
			}
			// Finalizers run after a collection, in their own goroutine: collect until they have.
			for i := 0; i < 100 && collected.Load() < n-1; i++ {
				runtime.GC()
				runtime.Gosched()
			}
			if got := collected.Load(); got < n-1 {
				t.Errorf("%d of %d accounts' findings were collected during the stream, want %d: the stream keeps findings", got, n, n-1)
			}
			if err := sw.Close(accounts); err != nil {
				t.Fatal(err)
			}
		})
	}
}
