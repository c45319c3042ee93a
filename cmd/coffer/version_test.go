package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	testCommit = "0123456789abcdef0123456789abcdef01234567"
	testDate   = "2026-12-07T12:00:00Z"
	testEpoch  = "1796644800" // testDate
)

// goPlatform is what every version line ends with on this machine.
var goPlatform = runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH

func TestDescribeBuild(t *testing.T) {
	vcs := func(revision, time string, modified bool) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: revision},
			{Key: "vcs.time", Value: time}, {Key: "vcs.modified", Value: fmt.Sprint(modified)}}
	}
	tests := []struct {
		name                 string
		version, commit, day string // the -ldflags stamps
		bi                   *debug.BuildInfo
		want                 string
	}{
		{"make release", "v1.2.0", testCommit, testDate, nil,
			"coffer v1.2.0 (commit 0123456789ab, built 2026-12-07T12:00:00Z, " + goPlatform + ")"},
		{"make release of a checkout with changes", "v1.2.0-3-g0123456-dirty", testCommit, testDate,
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(testCommit, "2026-12-01T08:00:00Z", true)},
			"coffer v1.2.0-3-g0123456-dirty (commit 0123456789ab-dirty, built 2026-12-07T12:00:00Z, " + goPlatform + ")"},
		{"stamped commit other than the recorded one", "v1.2.0", testCommit, testDate,
			&debug.BuildInfo{Settings: vcs("fedcba9876543210fedcba9876543210fedcba98", "2026-12-01T08:00:00Z", true)},
			"coffer v1.2.0 (commit 0123456789ab, built 2026-12-07T12:00:00Z, " + goPlatform + ")"},
		{"go install …@v1.2.0", "", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}},
			"coffer v1.2.0 (" + goPlatform + ")"},
		{"go build in a git checkout", "", "", "",
			&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201080000-0123456789ab+dirty"}, Settings: vcs(testCommit, "2026-12-01T08:00:00Z", true)},
			"coffer v0.0.0-20261201080000-0123456789ab+dirty (commit 0123456789ab-dirty, committed 2026-12-01T08:00:00Z, " + goPlatform + ")"},
		{"the action: only the ref", "v1", "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			"coffer v1 (" + goPlatform + ")"},
		{"nothing known", "", "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			"coffer dev (" + goPlatform + ")"},
		{"no build info", "", "", "", nil, "coffer dev (" + goPlatform + ")"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := describeBuild(tc.version, tc.commit, tc.day, tc.bi).String(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// setStamps sets the build stamps for one test.
func setStamps(t *testing.T, v, c, d string) {
	t.Helper()
	old := [3]string{version, commit, date}
	version, commit, date = v, c, d
	t.Cleanup(func() { version, commit, date = old[0], old[1], old[2] })
}

func TestVersionCommand(t *testing.T) {
	setStamps(t, "v1.2.0", testCommit, testDate)
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"version"}, exitOK, "coffer v1.2.0 (commit 0123456789ab, built 2026-12-07T12:00:00Z, " + goPlatform + ")\n", ""},
		{[]string{"version", "--format", "json"}, exitOK, `{
  "version": "v1.2.0",
  "commit": "` + testCommit + `",
  "built": "2026-12-07T12:00:00Z",
  "go_version": "` + runtime.Version() + `",
  "platform": "` + runtime.GOOS + "/" + runtime.GOARCH + `"
}
`, ""},
		{[]string{"version", "--format", "yaml"}, exitUsage, "", `unknown format "yaml" (known: json, text)`},
		{[]string{"version", "extra"}, exitUsage, "", "unknown command"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCLI(t, tc.args...)
			if r.code != tc.code || r.stdout != tc.stdout || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("code %d, stdout %q, stderr %q\nwant code %d, stdout %q, stderr with %q", r.code, r.stdout, r.stderr, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
	// Reports and snapshots name the same version.
	if toolVersion() != "v1.2.0" {
		t.Errorf("toolVersion() = %q, want the stamped v1.2.0", toolVersion())
	}
}

// goBuild builds coffer from dir into out with args (flags), CGO off and -trimpath as the
// release and the action build it: the tests' builds then share the compiled packages.
func goBuild(t *testing.T, dir, out string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", append(append([]string{"build", "-trimpath", "-o", out}, args...), "./cmd/coffer")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", args, err, msg)
	}
}

// versionOf runs `coffer version` and `coffer version --format json` of a built coffer.
func versionOf(t *testing.T, coffer string) (string, buildInfo) {
	t.Helper()
	text, err := exec.Command(coffer, "version").Output()
	if err != nil {
		t.Fatalf("%s version: %v", coffer, err)
	}
	data, err := exec.Command(coffer, "version", "--format", "json").Output()
	if err != nil {
		t.Fatalf("%s version --format json: %v", coffer, err)
	}
	var b buildInfo
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(text)), b
}

func TestVersionStampedWithLdflags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "coffer")
	goBuild(t, repoRoot, out, "-buildvcs=false",
		"-ldflags", "-X main.version=v1.2.0 -X main.commit="+testCommit+" -X main.date="+testDate)
	text, b := versionOf(t, out)
	if want := "coffer v1.2.0 (commit 0123456789ab, built " + testDate + ", " + goPlatform + ")"; text != want {
		t.Errorf("got  %s\nwant %s", text, want)
	}
	want := buildInfo{Version: "v1.2.0", Commit: testCommit, Built: testDate, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if diff := cmp.Diff(want, b); diff != "" {
		t.Errorf("--format json (-want +got)\n%s", diff)
	}
}

// gitCopy is a git repository holding what building coffer takes (go.mod, go.sum, the files of
// every package of the module cmd/coffer imports, and the Makefile), committed on testDate and
// tagged v1.2.3. A copy, because the toolchain records no VCS information in a git worktree
// (its .git is a file) or outside git, and it gives the tests a known commit and tag.
func gitCopy(t *testing.T) (dir, head string) {
	t.Helper()
	dir = t.TempDir()
	cmd := exec.Command("go", "list", "-deps", "-json", "./cmd/coffer")
	cmd.Dir = repoRoot
	data, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	files := []string{"go.mod", "go.sum", "Makefile"}
	for dec := json.NewDecoder(bytes.NewReader(data)); dec.More(); {
		var p struct {
			Dir        string
			Module     *struct{ Main bool }
			GoFiles    []string
			EmbedFiles []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || !p.Module.Main {
			continue
		}
		rel, err := filepath.Rel(repoRoot, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range append(p.GoFiles, p.EmbedFiles...) {
			files = append(files, filepath.Join(rel, f))
		}
	}
	for _, f := range files {
		copyFile(t, filepath.Join(repoRoot, f), filepath.Join(dir, f))
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"commit", "-q", "-m", "coffer"}, {"tag", "v1.2.3"}} {
		git(t, dir, args...)
	}
	return dir, git(t, dir, "rev-parse", "HEAD")
}

// git runs git in dir with a fixed identity and dates and no user or system configuration.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=coffer", "-c", "user.email=coffer@example.com",
		"-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_DATE="+testDate, "GIT_COMMITTER_DATE="+testDate)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestVersionFromBuildInfo: a coffer built without stamps (go build, go install) reports what
// the toolchain recorded from git: the tag, the commit and its time, and uncommitted changes.
func TestVersionFromBuildInfo(t *testing.T) {
	dir, head := gitCopy(t)
	tests := []struct {
		name    string
		change  func()
		version string
		line    string
	}{
		{"a clean checkout at a tag", func() {}, "v1.2.3",
			"coffer v1.2.3 (commit " + head[:12] + ", committed " + testDate + ", " + goPlatform + ")"},
		{"a checkout with changes", func() { writeFile(t, filepath.Join(dir, "NOTES"), []byte("x")) }, "+dirty",
			"(commit " + head[:12] + "-dirty, committed " + testDate + ", " + goPlatform + ")"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.change()
			out := filepath.Join(t.TempDir(), "coffer")
			// GOFLAGS may say -buildvcs=false; go build and go install record VCS by default.
			goBuild(t, dir, out, "-buildvcs=true")
			text, b := versionOf(t, out)
			if !strings.HasSuffix(text, tc.line) || !strings.Contains(b.Version, tc.version) || b.Commit != head {
				t.Errorf("got %s (%+v)\nwant …%s, version with %s, commit %s", text, b, tc.line, tc.version, head)
			}
		})
	}
}

// TestMakeRelease runs the release recipe for this machine's platform only (the six targets
// differ in GOOS and GOARCH only): the file name, the SHA256SUMS line, and the stamps the binary
// reports; and its refusal of a version that is not a plain tag name.
func TestMakeRelease(t *testing.T) {
	dir, head := gitCopy(t)
	target := runtime.GOOS + "/" + runtime.GOARCH
	dist := filepath.Join(t.TempDir(), "dist")
	release := func(args ...string) (string, error) {
		cmd := exec.Command("make", append([]string{"--no-print-directory", "release", "TARGETS=" + target, "DIST=" + dist}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+testEpoch)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := release(); err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	name := "coffer_v1.2.3_" + runtime.GOOS + "_" + runtime.GOARCH
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	binary, err := os.ReadFile(filepath.Join(dist, name))
	if err != nil {
		t.Fatalf("no %s: %v", name, err)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(binary)
	// sha256sum's format, which `sha256sum -c SHA256SUMS` reads: the hash, two spaces, the name.
	if want := hex.EncodeToString(sum[:]) + "  " + name + "\n"; string(sums) != want {
		t.Errorf("SHA256SUMS:\n%s\nwant\n%s", sums, want)
	}
	text, b := versionOf(t, filepath.Join(dist, name))
	if want := "coffer v1.2.3 (commit " + head[:12] + ", built " + testDate + ", " + goPlatform + ")"; text != want {
		t.Errorf("got  %s\nwant %s", text, want)
	}
	if b.Commit != head || b.Modified {
		t.Errorf("commit %s (modified %v), want %s", b.Commit, b.Modified, head)
	}

	// Stamps are passed to the shell as values: a version with quotes or $( ) is refused, and
	// nothing runs or is built.
	for _, bad := range []string{"v1'$(touch pwned)'", "v1 2", "v1;touch pwned"} {
		out, err := release("VERSION=" + bad)
		if err == nil || !strings.Contains(out, "is not a plain tag name") {
			t.Errorf("VERSION=%s: %v\n%s", bad, err, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
			t.Errorf("VERSION=%s ran a command", bad)
		}
	}
	if entries, _ := os.ReadDir(dist); len(entries) != 2 {
		t.Errorf("%s holds %d files after the refused runs, want the first run's 2", dist, len(entries))
	}
}
