package checks

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeDiffInputs writes a snapshot (collected at collected, zero for unknown) and a report of
// account into dir, and returns their paths.
func writeDiffInputs(t *testing.T, dir, account string, collected time.Time) (snapFile, reportFile string) {
	t.Helper()
	snap := &Snapshot{SchemaVersion: SnapshotSchemaVersion, CollectedAt: collected, Account: Account{ID: account}}
	snapFile = filepath.Join(dir, account+".snap.json")
	f, err := os.Create(snapFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteSnapshot(f, snap); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	finding := Finding{CheckID: "c", Severity: SeverityHigh, Status: StatusFail, Resource: Resource{ARN: "arn:aws:s3:::b", Name: "b"}}
	data, err := json.Marshal(&Report{SchemaVersion: ReportSchemaVersion, AccountID: account, Findings: []Finding{finding}})
	if err != nil {
		t.Fatal(err)
	}
	reportFile = filepath.Join(dir, account+".report.json")
	if err := os.WriteFile(reportFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return snapFile, reportFile
}

// TestDiffInputs: snapshots are evaluated as of their collection time (the clock when they have
// none), reports are not evaluated, and two accounts are refused before anything is evaluated.
func TestDiffInputs(t *testing.T) {
	dir := t.TempDir()
	collected := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	snapFile, reportFile := writeDiffInputs(t, dir, "111111111111", collected)
	undatedDir := t.TempDir()
	undated, _ := writeDiffInputs(t, undatedDir, "111111111111", time.Time{})
	otherSnap, _ := writeDiffInputs(t, dir, "222222222222", collected)

	for _, tc := range []struct {
		name            string
		old, new        string
		wantEvaluatedAt []time.Time
		wantKinds       [2]InputKind
	}{
		{"two reports", reportFile, reportFile, nil, [2]InputKind{InputReport, InputReport}},
		{"report and snapshot", reportFile, snapFile, []time.Time{collected}, [2]InputKind{InputReport, InputSnapshot}},
		{"snapshot without a time", undated, snapFile, []time.Time{clock, collected}, [2]InputKind{InputSnapshot, InputSnapshot}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, cur, err := LoadDiffInputs(tc.old, tc.new)
			if err != nil {
				t.Fatal(err)
			}
			var at []time.Time
			evaluate := func(_ context.Context, snap *Snapshot, now func() time.Time) (*Report, error) {
				at = append(at, now())
				return &Report{SchemaVersion: ReportSchemaVersion, AccountID: snap.Account.ID}, nil
			}
			d, err := DiffInputs(context.Background(), old, cur, evaluate, func() time.Time { return clock })
			if err != nil {
				t.Fatal(err)
			}
			if len(at) != len(tc.wantEvaluatedAt) {
				t.Fatalf("evaluated at %v, want %v", at, tc.wantEvaluatedAt)
			}
			for i := range at {
				if !at[i].Equal(tc.wantEvaluatedAt[i]) {
					t.Errorf("evaluation %d as of %v, want %v", i, at[i], tc.wantEvaluatedAt[i])
				}
			}
			if d.Old.Kind != tc.wantKinds[0] || d.New.Kind != tc.wantKinds[1] || d.Old.File != tc.old {
				t.Errorf("sides %+v %+v", d.Old, d.New)
			}
		})
	}

	// A snapshot needs an evaluator.
	old, cur, err := LoadDiffInputs(reportFile, snapFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DiffInputs(context.Background(), old, cur, nil, nil); err == nil {
		t.Error("a snapshot diffed without an evaluator")
	}

	// Two accounts: refused at loading, so nothing is evaluated.
	_, _, err = LoadDiffInputs(snapFile, otherSnap)
	var mismatch *AccountMismatchError
	if !errors.As(err, &mismatch) || mismatch.Old != "111111111111" || mismatch.New != "222222222222" {
		t.Errorf("two accounts: %v, want an *AccountMismatchError", err)
	}
	// A missing file names itself once, and keeps the cause.
	if _, err := LoadDiffInput(filepath.Join(dir, "nope.json")); !errors.Is(err, os.ErrNotExist) || err.Error() != "read "+filepath.Join(dir, "nope.json")+": no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
}
