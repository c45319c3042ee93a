package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.sarif")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}

	// A failing renderer leaves the old file and no temporary file.
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		_, _ = io.WriteString(w, "half")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error = %v, want boom", err)
	}
	assertFile(t, path, "old")
	assertOnlyFile(t, dir, "report.sarif")

	// A complete write replaces it, with the usual mode.
	if err := Write(path, func(w io.Writer) error { _, err := io.WriteString(w, "new\n"); return err }); err != nil {
		t.Fatal(err)
	}
	assertFile(t, path, "new\n")
	assertOnlyFile(t, dir, "report.sarif")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, %v; want 0644", fi.Mode().Perm(), err)
	}

	// A missing folder is created (CI recipes write into a fresh output folder)...
	nested := filepath.Join(dir, "out", "x.json")
	if err := Write(nested, func(w io.Writer) error { _, err := io.WriteString(w, "{}"); return err }); err != nil {
		t.Errorf("write into a missing folder: %v", err)
	}
	assertFile(t, nested, "{}")
	// ...but a parent that is a file is an error, and nothing is written.
	if err := Write(filepath.Join(dir, "report.sarif", "x.json"), func(io.Writer) error { return nil }); err == nil {
		t.Error("write below a regular file: want error")
	}
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s = %.40q…, want %.40q…", path, got, want)
	}
}

func assertOnlyFile(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{name}) {
		t.Errorf("directory holds %v, want only %s (temp file left behind?)", names, name)
	}
}

// TestCreateCommitAbort: a file being written is not at its path until Commit; Abort leaves the
// old file and no temporary file behind.
func TestCreateCommitAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "new")
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("before Commit the path holds %q", got)
	}
	f.Abort()
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("after Abort the path holds %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("Abort left %d files", len(entries))
	}
	f, err = Create(path)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "new")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "new" {
		t.Fatalf("after Commit the path holds %q", got)
	}
	if err := f.Commit(); err == nil {
		t.Error("a second Commit succeeded")
	}
}
