package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/bench"
	"github.com/google/go-cmp/cmp"
)

// actionWorkspace is a workspace holding the sample coffer.yaml, and the absolute path of the
// drifted sample snapshot.
func actionWorkspace(t *testing.T) (dir, drifted string) {
	t.Helper()
	dir = t.TempDir()
	copyFile(t, "../../fixtures/coffer.yaml", filepath.Join(dir, "coffer.yaml"))
	drifted, err := filepath.Abs("../../fixtures/drifted.json")
	if err != nil {
		t.Fatal(err)
	}
	return dir, drifted
}

// TestActionScan runs the action with the coffer its build step made on sample snapshots: what
// it uploads, what it keeps, its outputs, and the gate at the end.
func TestActionScan(t *testing.T) {
	meta, _ := readAction(t)
	coffer := actionCoffer(t, meta)
	large := filepath.Join(t.TempDir(), "large.json")
	var buf bytes.Buffer
	// About 3.8 failures per bucket: more results than the 5,000 of one SARIF file.
	if err := checks.WriteSnapshot(&buf, bench.VariedSnapshot(1500)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, large, buf.Bytes())

	type want struct {
		code      string   // outputs.exit-code
		failed    bool     // the action fails the job
		failCode  int      // with this exit code
		uploads   []string // SARIF files uploaded, in order
		artifacts []string // the artifact's files
		summary   bool     // the job summary has the Markdown report
	}
	tests := []struct {
		name   string
		inputs func(drifted string) map[string]string
		want   want
	}{
		{"a drifted account fails the job after the uploads",
			func(drifted string) map[string]string {
				return map[string]string{"config": "coffer.yaml", "extra-args": "--snapshot " + drifted}
			},
			want{code: "1", failed: true, failCode: 1, uploads: []string{"coffer-out/coffer.sarif"},
				artifacts: []string{"coffer-out/coffer.sarif", "coffer-out/coffer.json", "coffer-out/coffer.html"}, summary: true}},
		{"gate false passes on failures",
			func(drifted string) map[string]string {
				return map[string]string{"extra-args": "--snapshot " + drifted, "gate": "false", "html": ""}
			},
			want{code: "1", uploads: []string{"coffer-out/coffer.sarif"},
				artifacts: []string{"coffer-out/coffer.sarif", "coffer-out/coffer.json"}, summary: true}},
		{"coffer could not run: the job fails even with gate false",
			func(drifted string) map[string]string {
				return map[string]string{"config": "missing.yaml", "extra-args": "--snapshot " + drifted, "gate": "false"}
			},
			want{code: "2", failed: true, failCode: 2}},
		{"nothing uploaded or kept when asked so",
			func(drifted string) map[string]string {
				return map[string]string{"extra-args": "--snapshot " + drifted, "upload-sarif": "false", "artifact-name": "", "job-summary": "false"}
			},
			want{code: "1", failed: true, failCode: 1}},
		{"a split SARIF is uploaded part by part",
			func(string) map[string]string {
				return map[string]string{"extra-args": "--snapshot " + large, "html": "", "job-summary": "false", "sarif": "out/big.sarif"}
			},
			want{code: "1", failed: true, failCode: 1, uploads: []string{"out/big.part-1.sarif", "out/big.part-2.sarif"},
				artifacts: []string{"out/big.part-1.sarif", "out/big.part-2.sarif", "coffer-out/coffer.json"}}},
		{"an input that is not a boolean stops the scan before coffer runs",
			func(drifted string) map[string]string {
				return map[string]string{"extra-args": "--snapshot " + drifted, "org": "yes"}
			},
			want{code: "2", failed: true, failCode: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, drifted := actionWorkspace(t)
			// A SARIF part an earlier scan left must not be uploaded as this scan's.
			writeFile(t, filepath.Join(dir, "coffer-out", "coffer.part-7.sarif"), []byte("{}"))
			run := runAction(t, meta, actionOpts{inputs: tc.inputs(drifted), dir: dir, coffer: coffer})
			got := want{code: run.outputs["exit-code"], failed: run.failed, failCode: run.code, uploads: run.sarifUploads,
				artifacts: run.artifacts["coffer-report"], summary: strings.Contains(run.summary, "coffer")}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("(-want +got)\n%s\nlog:\n%s", diff, run.log)
			}
			if run.outputs["sarif-files"] != strings.Join(tc.want.uploads, "\n") && tc.inputs(drifted)["upload-sarif"] != "false" {
				t.Errorf("outputs.sarif-files = %q, want %q", run.outputs["sarif-files"], tc.want.uploads)
			}
			if tc.want.code != "2" {
				// coffer's output (names from the audited account) is never read as a workflow
				// command: it runs between ::stop-commands::TOKEN and ::TOKEN::.
				_, after, found := strings.Cut(run.log, "::stop-commands::")
				token, _, _ := strings.Cut(after, "\n")
				if !found || len(token) < 32 || !strings.Contains(run.log, "\n::"+token+"::\ncoffer exited with "+tc.want.code) {
					t.Errorf("coffer's output is not fenced by ::stop-commands::\n%s", run.log)
				}
			}
		})
	}
}

// cofferStub is a stand-in for coffer that records its arguments (NUL-separated) in
// $COFFER_STUB_ARGS, writes every --format file (SARIF as $COFFER_STUB_SARIF_PARTS parts when
// set), and exits with $COFFER_STUB_EXIT.
func cofferStub(t *testing.T) (stub, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	stub, argsFile = filepath.Join(dir, "coffer"), filepath.Join(dir, "args")
	writeFile(t, stub, []byte(`#!/usr/bin/env bash
printf '%s\0' "$@" > "$COFFER_STUB_ARGS"
prev=
for a in "$@"; do
  if [[ "$prev" == --format && "$a" == *=* ]]; then
    f=${a#*=}
    mkdir -p "$(dirname "$f")"
    parts=${COFFER_STUB_SARIF_PARTS:-0}
    if [[ "${a%%=*}" == sarif ]] && ((parts > 0)); then
      for ((i = 1; i <= parts; i++)); do echo '{"version": "2.1.0", "runs": []}' > "${f%.sarif}.part-$i.sarif"; done
    elif [[ "${a%%=*}" == sarif ]]; then
      echo '{"version": "2.1.0", "runs": []}' > "$f"
    else
      echo '{}' > "$f"
    fi
  fi
  prev=$a
done
exit "${COFFER_STUB_EXIT:-0}"
`))
	if err := os.Chmod(stub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("COFFER_STUB_ARGS", argsFile)
	return stub, argsFile
}

func stubArgs(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("coffer did not run: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
}

// TestActionArguments: every input becomes exactly its coffer argument, values stay values
// (quotes, $( ), backticks, semicolons, spaces reach coffer as written and run nothing), the
// external id is not printed, and the command line is one coffer accepts.
func TestActionArguments(t *testing.T) {
	meta, _ := readAction(t)
	stub, argsFile := cofferStub(t)
	dir := t.TempDir()
	hostile := "coffer-out/$(touch pwned)`touch pwned2`;touch pwned3 'x\".json"
	run := runAction(t, meta, actionOpts{dir: dir, coffer: stub, inputs: map[string]string{
		"sarif": "out/s.sarif", "json": hostile, "html": "",
		"formats": "junit=out/j.xml\n  ocsf=out/o.json",
		"fail-on": "high", "config": "c.yaml", "regions": "us-east-1,eu-west-1", "region": "eu-west-1",
		"policy-dir": "p1\np 2\n", "baseline": "-b.json", "org": "true", "accounts": "", "role-name": "audit",
		"external-id": "s3cr3t-3xt3rnal", "account-concurrency": "8", "shard": "2/4", "category": "nightly",
		"extra-args": "--group-by resource\n --show-pass", "job-summary": "false",
	}})
	want := []string{"scan", "--format", "table", "--format", "sarif=out/s.sarif", "--format", "json=" + hostile,
		"--format", "junit=out/j.xml", "--format", "ocsf=out/o.json", "--fail-on=high", "--config=c.yaml",
		"--regions=us-east-1,eu-west-1", "--region=eu-west-1", "--policy-dir=p1", "--policy-dir=p 2", "--baseline=-b.json",
		"--org", "--role-name=audit", "--external-id=s3cr3t-3xt3rnal", "--account-concurrency=8", "--shard=2/4",
		"--sarif-category=nightly", "--group-by", "resource", "--show-pass"}
	got := stubArgs(t, argsFile)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("coffer arguments (-want +got)\n%s\nlog:\n%s", diff, run.log)
	}
	for _, f := range []string{"pwned", "pwned2", "pwned3", "coffer-out/pwned"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("an input ran as shell code: %s exists", f)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, hostile)); err != nil {
		t.Errorf("the JSON report was not written where the input says: %v", err)
	}
	if strings.Contains(run.log, "s3cr3t") || !strings.Contains(run.log, "--external-id=\\*\\*\\*") {
		t.Errorf("the log shows the external id, or not the command:\n%s", run.log)
	}
	if run.failed || run.outputs["exit-code"] != "0" {
		t.Errorf("failed %v, exit-code %q: want a passing run", run.failed, run.outputs["exit-code"])
	}
	wantArtifact := []string{"out/s.sarif", hostile, "out/j.xml", "out/o.json"}
	if diff := cmp.Diff(wantArtifact, run.artifacts["coffer-report"]); diff != "" {
		t.Errorf("artifact (-want +got)\n%s", diff)
	}
	pending := checkInvocation(t, "the action's command line", got, os.Getenv)
	logPending(t, pending)

	// More SARIF files than upload steps: the first are uploaded, all are kept, and a warning says so.
	t.Setenv("COFFER_STUB_SARIF_PARTS", "12")
	t.Setenv("COFFER_STUB_EXIT", "1")
	run = runAction(t, meta, actionOpts{dir: t.TempDir(), coffer: stub, inputs: map[string]string{"html": "", "job-summary": "false"}})
	if len(run.sarifUploads) != 10 || run.sarifUploads[9] != "coffer-out/coffer.part-10.sarif" {
		t.Errorf("uploaded %v: want parts 1 to 10", run.sarifUploads)
	}
	if n := len(run.artifacts["coffer-report"]); n != 13 || !strings.Contains(run.log, "::warning title=coffer action::12 SARIF files") {
		t.Errorf("the artifact has %d files (want 12 parts and the JSON), log:\n%s", n, run.log)
	}
	if !run.failed || run.code != 1 || !slices.Contains(run.ran, "scan") {
		t.Errorf("failed %v with %d: the gate must fail with the scan's 1", run.failed, run.code)
	}
}
