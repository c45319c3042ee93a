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
	path string
	done bool
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

// Commit puts the complete file at its path.
func (f *File) Commit() (err error) {
	if f.done {
		return fmt.Errorf("write %s: already finished", f.path)
	}
	f.done = true
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.File.Close()
			_ = os.Remove(tmp)
		}
	}()
	// CreateTemp makes the file 0600; a report or snapshot is not a secret, so give it the usual mode.
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	if err = f.File.Close(); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	if err = os.Rename(tmp, f.path); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
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
