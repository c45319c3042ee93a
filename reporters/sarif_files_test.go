package reporters

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/atomicfile"
)

// createFile is NewSARIFFiles' create on disk.
func createFile(path string) (PendingFile, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// streamFiles writes reports through NewSARIFFiles to dir/coffer.sarif, commits, and returns the
// names of the files in dir (sorted) and the notice.
func streamFiles(t *testing.T, dir string, opts Options, reports []*checks.Report, accounts []checks.AccountInfo) ([]string, string) {
	t.Helper()
	sf, err := NewSARIFFiles(filepath.Join(dir, "coffer.sarif"), opts, createFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if err := sf.Account(r); err != nil {
			sf.Abort()
			t.Fatalf("account %s: %v", r.AccountID, err)
		}
	}
	if err := sf.Close(accounts); err != nil {
		sf.Abort()
		t.Fatalf("close: %v", err)
	}
	if err := sf.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	return dirNames(t, dir), sf.Notice()
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.SortFunc(names, comparePartNames)
	return names
}

// comparePartNames orders part-2 before part-10.
func comparePartNames(a, b string) int {
	var i, j int
	if _, err := fmt.Sscanf(a, "coffer.part-%d.sarif", &i); err == nil {
		if _, err := fmt.Sscanf(b, "coffer.part-%d.sarif", &j); err == nil {
			return i - j
		}
	}
	return strings.Compare(a, b)
}

// runsByID parses a SARIF log into its runs, keyed by automation id, in order.
func runsByID(t *testing.T, b []byte) ([]string, map[string]any) {
	t.Helper()
	var doc struct {
		Version string            `json:"version"`
		Runs    []json.RawMessage `json:"runs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.Version != "2.1.0" {
		t.Errorf("version %q, want 2.1.0", doc.Version)
	}
	var ids []string
	runs := map[string]any{}
	for _, raw := range doc.Runs {
		var run struct {
			AutomationDetails struct {
				ID string `json:"id"`
			} `json:"automationDetails"`
		}
		var v any
		if err := json.Unmarshal(raw, &run); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		if _, dup := runs[run.AutomationDetails.ID]; dup {
			t.Errorf("two runs %s in one log", run.AutomationDetails.ID)
		}
		ids = append(ids, run.AutomationDetails.ID)
		runs[run.AutomationDetails.ID] = v
	}
	return ids, runs
}

// accountOfRun is the account of automation id coffer/<account>/…/.
func accountOfRun(id string) string {
	return strings.Split(id, "/")[1]
}

// TestSARIFFilesSplitLikeTheWholeReport: an organisation's SARIF log written account by account
// into files is split as OutputFiles splits the whole report: at most MaxSARIFRuns runs per file,
// an account's runs in one file, NAME.part-N.sarif and no NAME.sarif, and every run (its
// category, rules, results, notifications) the run of the whole split; the organisation run is
// in the last file (a file of its own when the last is full), where the whole split has it in the
// first. A log that fits is one file, byte for byte today's stream.
func TestSARIFFilesSplitLikeTheWholeReport(t *testing.T) {
	orgReps, orgAccts := orgReports()
	tests := []struct {
		name      string
		reports   func() ([]*checks.Report, []checks.AccountInfo)
		wantFiles []string
		wantRuns  []int // runs per file
	}{
		{"45 accounts, one in two parts", func() ([]*checks.Report, []checks.AccountInfo) { return manyAccountReports(45) },
			[]string{"coffer.part-1.sarif", "coffer.part-2.sarif", "coffer.part-3.sarif"}, []int{20, 20, 7}},
		{"20 account runs and the organisation run", func() ([]*checks.Report, []checks.AccountInfo) { return manyAccountReports(19) },
			[]string{"coffer.part-1.sarif", "coffer.part-2.sarif"}, []int{20, 1}},
		{"fits", func() ([]*checks.Report, []checks.AccountInfo) { return orgReps, orgAccts },
			[]string{"coffer.sarif"}, []int{4}},
		{"20 runs without an organisation run fit", func() ([]*checks.Report, []checks.AccountInfo) {
			reports, accounts := manyAccountReports(19)
			for _, r := range reports {
				r.Notices = nil
			}
			return reports, accounts[:len(accounts)-1] // no skipped account
		}, []string{"coffer.sarif"}, []int{20}},
	}
	opts := Options{Category: "nightly"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reports, accounts := tc.reports()
			dir := t.TempDir()
			names, notice := streamFiles(t, dir, opts, reports, accounts)
			if !slices.Equal(names, tc.wantFiles) {
				t.Fatalf("files %v, want %v", names, tc.wantFiles)
			}
			wantNotice := ""
			if len(names) > 1 {
				wantNotice = orgSplitNotice(filepath.Join(dir, "coffer.part-1.sarif"), len(names))
			}
			if notice != wantNotice {
				t.Errorf("notice %q, want %q", notice, wantNotice)
			}

			// The runs of the whole report's split, by automation id.
			wantRuns := map[string]any{}
			for _, f := range OutputFiles(FormatSARIF, filepath.Join(dir, "coffer.sarif"), checks.MergeReports(reports, accounts), opts) {
				ids, runs := runsByID(t, render(t, FormatSARIF, f.Options, f.Report))
				for _, id := range ids {
					wantRuns[id] = runs[id]
				}
			}

			gotRuns := map[string]any{}
			fileOf := map[string]string{} // account (or "organisation") → file
			var runsPerFile []int
			for _, name := range names {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				ids, runs := runsByID(t, b)
				runsPerFile = append(runsPerFile, len(ids))
				if len(ids) > MaxSARIFRuns {
					t.Errorf("%s has %d runs; GitHub takes %d", name, len(ids), MaxSARIFRuns)
				}
				for _, id := range ids {
					if _, dup := gotRuns[id]; dup {
						t.Errorf("run %s in two files", id)
					}
					gotRuns[id] = runs[id]
					acct := accountOfRun(id)
					if other, ok := fileOf[acct]; ok && other != name {
						t.Errorf("account %s has runs in %s and %s", acct, other, name)
					}
					fileOf[acct] = name
				}
				if len(names) == 1 {
					// What the stream wrote into one log before it could split.
					if want := stream(t, FormatSARIF, opts, reports, accounts); string(b) != string(want) {
						t.Errorf("a log that fits differs from the stream's log:\n%s", cmp.Diff(string(want), string(b)))
					}
				}
			}
			if org, ok := fileOf["organisation"]; ok && org != names[len(names)-1] {
				t.Errorf("the organisation run is in %s, not in the last file", org)
			}
			if !slices.Equal(runsPerFile, tc.wantRuns) {
				t.Errorf("runs per file %v, want %v", runsPerFile, tc.wantRuns)
			}
			if diff := cmp.Diff(wantRuns, gotRuns); diff != "" {
				t.Errorf("runs differ from the whole report's split (-whole +streamed):\n%s", diff)
			}
			// Every scanned account with findings has its runs somewhere.
			for _, r := range reports {
				if _, ok := fileOf[r.AccountID]; !ok {
					t.Errorf("account %s has no run in the files", r.AccountID)
				}
			}
		})
	}
}

// TestSARIFFilesSingleAccount: the log of one account is that account's report, split by results
// beyond what GitHub shows into the very files OutputFiles names for it, byte for byte.
func TestSARIFFilesSingleAccount(t *testing.T) {
	tests := []struct {
		name      string
		report    *checks.Report
		wantFiles []string
	}{
		{"fits", goldenReport(), []string{"coffer.sarif"}},
		{"beyond what GitHub shows", bigReport(SARIFResultsPerFile + 1), []string{"coffer.part-1.sarif", "coffer.part-2.sarif"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			accounts := []checks.AccountInfo{{ID: tc.report.AccountID, Status: checks.AccountScanned}}
			names, notice := streamFiles(t, dir, Options{}, []*checks.Report{tc.report}, accounts)
			files := OutputFiles(FormatSARIF, filepath.Join(dir, "coffer.sarif"), checks.MergeReports([]*checks.Report{tc.report}, accounts), Options{})
			if !slices.Equal(names, tc.wantFiles) || len(files) != len(names) {
				t.Fatalf("files %v, want %v (%d from OutputFiles)", names, tc.wantFiles, len(files))
			}
			for _, f := range files {
				got, err := os.ReadFile(f.Path)
				if err != nil {
					t.Fatal(err)
				}
				if want := render(t, FormatSARIF, f.Options, f.Report); string(got) != string(want) {
					t.Errorf("%s differs from the whole report's file", f.Path)
				}
			}
			if want := SplitNotice(files); notice != want {
				t.Errorf("notice %q, want %q", notice, want)
			}
		})
	}
}

// TestSARIFFilesAbort: a log that fails midway (a part that cannot be created), or that is
// abandoned, leaves no file, neither a part already complete nor a temporary file; and files
// are committed only after Close.
func TestSARIFFilesAbort(t *testing.T) {
	reports, accounts := manyAccountReports(45)
	boom := errors.New("boom")
	tests := []struct {
		name    string
		failOn  int  // create fails for this file (from 1); 0 never
		close   bool // Close before Abort
		wantErr error
	}{
		{name: "second part cannot be created", failOn: 2, wantErr: boom},
		{name: "abandoned midway", failOn: 0},
		{name: "abandoned after Close", failOn: 0, close: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			created := 0
			sf, err := NewSARIFFiles(filepath.Join(dir, "coffer.sarif"), Options{}, func(path string) (PendingFile, error) {
				created++
				if created == tc.failOn {
					return nil, boom
				}
				return createFile(path)
			})
			if err != nil {
				t.Fatal(err)
			}
			var failed error
			for _, r := range reports[:30] {
				if failed = sf.Account(r); failed != nil {
					break
				}
			}
			if tc.close && failed == nil {
				failed = sf.Close(accounts)
			}
			if !errors.Is(failed, tc.wantErr) || (tc.wantErr == nil) != (failed == nil) {
				t.Fatalf("error %v, want %v", failed, tc.wantErr)
			}
			if !tc.close {
				if err := sf.Commit(); err == nil {
					t.Error("Commit of a log not closed (or failed) succeeded")
				}
			}
			if created < 2 {
				t.Fatalf("%d files created: the test does not reach a split", created)
			}
			sf.Abort()
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("Abort left %v", names)
			}
		})
	}
}
