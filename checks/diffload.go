package checks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// DiffInput is one side of `coffer diff` as read from its file: a JSON report, or a snapshot whose
// findings come from evaluating it (DiffInputs does).
type DiffInput struct {
	File string
	Kind InputKind
	// Report is the report read, or the snapshot's evaluation once DiffInputs made it.
	Report *Report
	// Snapshot is the snapshot read; nil for a report.
	Snapshot *Snapshot
}

// AccountID is the account the input is of.
func (in *DiffInput) AccountID() string {
	if in.Snapshot != nil {
		return in.Snapshot.Account.ID
	}
	return in.Report.AccountID
}

// Side describes the input in the diff: its file, kind and when it was made.
func (in *DiffInput) Side() DiffSide {
	s := DiffSide{File: in.File, Kind: in.Kind}
	if in.Snapshot != nil {
		s.Time = in.Snapshot.CollectedAt
	} else {
		s.Time = in.Report.FinishedAt
	}
	return s
}

// LoadDiffInput reads a JSON report or a snapshot, telling them apart by content (DetectInput).
// Errors name the file, and the line when it is known.
func LoadDiffInput(file string) (*DiffInput, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err // the message names the file once
		}
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	kind, err := DetectInput(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	in := &DiffInput{File: file, Kind: kind}
	switch kind {
	case InputReport:
		in.Report, err = ParseReport(file, data)
	default:
		in.Snapshot, err = ParseSnapshot(file, data)
	}
	if err != nil {
		return nil, err // both parsers name the file (and the line when they know it)
	}
	return in, nil
}

// LoadDiffInputs reads the two inputs of a diff and refuses, with an *AccountMismatchError, two
// different accounts before anything is evaluated: comparing them would call everything new.
func LoadDiffInputs(oldFile, newFile string) (old, new *DiffInput, err error) {
	if old, err = LoadDiffInput(oldFile); err != nil {
		return nil, nil, err
	}
	if new, err = LoadDiffInput(newFile); err != nil {
		return nil, nil, err
	}
	if old.AccountID() != new.AccountID() {
		return nil, nil, &AccountMismatchError{Old: old.AccountID(), New: new.AccountID()}
	}
	return old, new, nil
}

// SnapshotEvaluator evaluates a snapshot with the clock now.
type SnapshotEvaluator func(ctx context.Context, snap *Snapshot, now func() time.Time) (*Report, error)

// DiffInputs compares two inputs of one account. Snapshots are evaluated first with evaluate
// (needed only then), each as of its collection time — now when it has none — so that the diff of
// two saved snapshots is the same whenever it runs (waiver expiry and key ages are judged at that
// time). The findings are compared with DiffReports and, between two snapshots, the configuration
// with DiffSnapshots.
func DiffInputs(ctx context.Context, old, new *DiffInput, evaluate SnapshotEvaluator, now func() time.Time) (*Diff, error) {
	if now == nil {
		now = time.Now
	}
	for _, in := range []*DiffInput{old, new} {
		if in.Snapshot == nil {
			continue
		}
		if evaluate == nil {
			return nil, fmt.Errorf("%s is a snapshot and there is no evaluator for it", in.File)
		}
		at := in.Snapshot.CollectedAt
		if at.IsZero() {
			at = now()
		}
		report, err := evaluate(ctx, in.Snapshot, func() time.Time { return at })
		if err != nil {
			return nil, fmt.Errorf("evaluate %s: %w", in.File, err)
		}
		in.Report = report
	}
	d, err := DiffReports(old.Report, new.Report)
	if err != nil {
		return nil, err
	}
	d.Old, d.New = old.Side(), new.Side()
	if old.Snapshot != nil && new.Snapshot != nil {
		changes, err := DiffSnapshots(old.Snapshot, new.Snapshot)
		if err != nil {
			return nil, err
		}
		d.SetConfig(changes)
	}
	return d, nil
}
