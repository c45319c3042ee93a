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

// TestCloseAndCommitAs: a file closed early is still not at any path until committed, and can be
// committed under another name in its folder (a SARIF log that turns out to be part 1 of a
// split) or aborted; a name in another folder is refused, leaving the file to abort.
func TestCloseAndCommitAs(t *testing.T) {
	tests := []struct {
		name    string
		close   bool   // Close before finishing
		as      string // CommitAs this name ("" = Commit); "abort" = Abort
		wantErr bool
		want    []string // the folder afterwards
	}{
		{name: "commit", want: []string{"x.sarif"}},
		{name: "close, commit", close: true, want: []string{"x.sarif"}},
		{name: "commit as", as: "x.part-1.sarif", want: []string{"x.part-1.sarif"}},
		{name: "close, commit as", close: true, as: "x.part-1.sarif", want: []string{"x.part-1.sarif"}},
		{name: "close, abort", close: true, as: "abort", want: nil},
		{name: "commit as in another folder", as: filepath.Join("sub", "x.sarif"), wantErr: true, want: nil},
		{name: "close, commit as in another folder", close: true, as: filepath.Join("sub", "x.sarif"), wantErr: true, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f, err := Create(filepath.Join(dir, "x.sarif"))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprint(f, "log")
			if tc.close {
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				if err := f.Close(); err != nil {
					t.Errorf("a second Close: %v", err)
				}
				if _, err := os.Stat(filepath.Join(dir, "x.sarif")); !os.IsNotExist(err) {
					t.Fatalf("after Close the path exists (%v)", err)
				}
			}
			switch tc.as {
			case "":
				err = f.Commit()
			case "abort":
				f.Abort()
			default:
				err = f.CommitAs(filepath.Join(dir, tc.as))
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				f.Abort() // what a caller does with a file it could not commit
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if !slices.Equal(names, tc.want) {
				t.Fatalf("folder holds %v, want %v", names, tc.want)
			}
			for _, name := range names {
				assertFile(t, filepath.Join(dir, name), "log")
				if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != 0o644 {
					t.Errorf("%s: mode %v, %v; want 0644", name, fi.Mode().Perm(), err)
				}
			}
		})
	}
}
