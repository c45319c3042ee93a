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
func Write(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// CI recipes write into a fresh output folder (--format sarif=out/coffer.sarif).
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; a report or snapshot is not a secret, so give it the usual mode.
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
