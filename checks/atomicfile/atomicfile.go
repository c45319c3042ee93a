// Package atomicfile writes output files so that a reader never sees half of one: coffer's
// reports, diffs and snapshots are either the previous file or the complete new one, also when
// coffer is interrupted or a renderer fails midway (DESIGN §9, "nothing half-written").
//
// It lives under checks/ because the top level is fixed (DESIGN §2), like checks/shellcmd: a small
// utility the CLI (reports, diffs, snapshots) and the fixtures' regeneration share.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write writes a file through write into a temporary file in the same directory and renames it
// over path only when write and the close succeed, so path is either the old file or the complete
// new one, never half-written. Missing parent directories are created; the file gets mode 0644.
func Write(path string, write func(io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// File is an output file being written: nothing is at its path until Commit. A writer that must
// stay open while other work goes on (a report written account by account) uses it instead of
// Write.
type File struct {
	*os.File
	path   string
	closed bool // Close ended the writing; the temporary file waits for Commit
	done   bool
}

// Create starts writing path (in a temporary file beside it).
func Create(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// CI recipes write into a fresh output folder (--format sarif=out/coffer.sarif).
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &File{File: f, path: path}, nil
}

// Close ends the writing: the data is on disk and the descriptor released, but nothing is at the
// path until Commit or CommitAs, and Abort still drops it. A writer of many files (a SARIF log
// split into parts) closes each once it is complete, so that it holds one descriptor, not one
// per file, until it commits them all.
func (f *File) Close() error {
	if f.done || f.closed {
		return nil
	}
	if err := f.finish(); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	f.closed = true
	return nil
}

// finish gives the temporary file its mode, syncs and closes it.
func (f *File) finish() error {
	// CreateTemp makes the file 0600; a report or snapshot is not a secret, so give it the usual mode.
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.File.Close()
}

// Commit puts the complete file at its path.
func (f *File) Commit() error {
	return f.CommitAs(f.path)
}

// CommitAs puts the complete file at path instead of the path it was created with: a writer that
// learns only at the end what a file is called (NAME.sarif, or NAME.part-1.sarif once a second
// part is needed) starts it under one name and commits it under the other. path must be in the
// same folder, so that the rename stays within one file system and is atomic.
func (f *File) CommitAs(path string) (err error) {
	if f.done {
		return fmt.Errorf("write %s: already finished", path)
	}
	if filepath.Dir(path) != filepath.Dir(f.path) {
		return fmt.Errorf("write %s: not in the folder of %s, where it was written", path, f.path)
	}
	f.done = true
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.File.Close()
			_ = os.Remove(tmp)
		}
	}()
	if !f.closed {
		if err = f.finish(); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Abort drops what was written; the path keeps its old file. It does nothing after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	_ = f.File.Close()
	_ = os.Remove(f.Name())
}
