package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The CI recipes in docs/ci cannot run GitHub or GitLab here, so the test checks what it can: the
// files parse, they keep what a nightly audit needs (schedule, OIDC, SARIF upload, JUnit report),
// and every coffer command in them (or the action's, for GitHub) is a valid invocation that writes
// the files the later steps read — run against a sample snapshot in place of the live account.

type githubWorkflow struct {
	On          map[string]any    `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		Steps []struct {
			ID   string         `yaml:"id"`
			Uses string         `yaml:"uses"`
			Run  string         `yaml:"run"`
			With map[string]any `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

type gitlabJob struct {
	Script    []string          `yaml:"script"`
	IDTokens  map[string]any    `yaml:"id_tokens"`
	Variables map[string]string `yaml:"variables"`
	Artifacts struct {
		Reports map[string]string `yaml:"reports"`
	} `yaml:"artifacts"`
}

// TestGitHubActionsRecipe runs the workflow's use of the coffer action with the coffer the
// action builds, on the drifted sample account in place of the live one (--snapshot added to its
// extra-args): the inputs make a valid scan, SARIF is uploaded, the JSON and HTML reports are kept,
// and the job fails with the scan's exit code after that.
func TestGitHubActionsRecipe(t *testing.T) {
	var wf githubWorkflow
	readYAML(t, "../../docs/ci/github-actions.yml", &wf)
	if _, ok := wf.On["schedule"]; !ok {
		t.Error("the workflow has no schedule: it is meant to run nightly")
	}
	if wf.Permissions["id-token"] != "write" || wf.Permissions["security-events"] != "write" {
		t.Errorf("permissions %v: need id-token and security-events write for OIDC and SARIF upload", wf.Permissions)
	}
	var oidc, action int
	var with map[string]any
	for _, job := range wf.Jobs {
		for i, s := range job.Steps {
			if strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials") && s.With["role-to-assume"] != nil {
				oidc = i + 1
			}
			if strings.HasPrefix(s.Uses, "coffer-audit/coffer@") {
				action, with = i+1, s.With
			}
		}
	}
	if oidc == 0 || action == 0 || oidc > action {
		t.Fatalf("want OIDC credentials (aws-actions/configure-aws-credentials, step %d) before the coffer action (step %d)", oidc, action)
	}

	meta, _ := readAction(t)
	coffer := actionCoffer(t, meta)
	dir, drifted := actionWorkspace(t)
	inputs := map[string]string{}
	for k, v := range with {
		inputs[k] = fmt.Sprint(v)
	}
	inputs["extra-args"] = strings.TrimSpace(inputs["extra-args"] + " --snapshot " + drifted)
	run := runAction(t, meta, actionOpts{inputs: inputs, dir: dir, coffer: coffer})
	code := run.outputs["exit-code"]
	if code != "0" && code != "1" && code != "3" {
		t.Fatalf("the scan exited %q, not a gate's answer:\n%s", code, run.log)
	}
	if len(run.sarifUploads) == 0 {
		t.Error("no SARIF uploaded to code scanning")
	}
	kept := run.artifacts["coffer-report"]
	for _, f := range []string{run.outputs["json"], run.outputs["html"]} {
		if f == "" || !slices.Contains(kept, f) {
			t.Errorf("the JSON and HTML reports (%q, %q) are not kept in the artifact %v", run.outputs["json"], run.outputs["html"], kept)
		}
	}
	if n, _ := strconv.Atoi(code); run.failed != (n != 0) || run.code != n {
		t.Errorf("exit code %s: the job failed %v with %d", code, run.failed, run.code)
	}
}

func TestGitLabRecipe(t *testing.T) {
	var jobs map[string]gitlabJob
	readYAML(t, "../../docs/ci/gitlab-ci.yml", &jobs)
	job, ok := jobs["coffer-audit"]
	if !ok {
		t.Fatal("no coffer-audit job")
	}
	if job.IDTokens["AWS_ID_TOKEN"] == nil || job.Variables["AWS_ROLE_ARN"] == "" || job.Variables["AWS_WEB_IDENTITY_TOKEN_FILE"] == "" {
		t.Error("the job does not assume a role with GitLab's OIDC token")
	}
	var commands []string
	for _, line := range job.Script {
		if strings.HasPrefix(line, "coffer ") {
			commands = append(commands, line)
		}
	}
	dir := runRecipeCommands(t, commands)
	junit := job.Artifacts.Reports["junit"]
	if data, err := os.ReadFile(filepath.Join(dir, junit)); err != nil || !strings.Contains(string(data), "<testsuites") {
		t.Errorf("the JUnit report %s the job publishes was not written as JUnit: %v", junit, err)
	}
}

func readYAML(t *testing.T, path string, out any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, out); err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
}

// runRecipeCommands runs each coffer command of a recipe in a fresh folder holding the sample
// coffer.yaml, against the drifted sample snapshot, and returns the folder. A usage error (exit 2)
// fails the test; 0, 1 and 3 are the gate's answers.
func runRecipeCommands(t *testing.T, commands []string) string {
	t.Helper()
	if len(commands) == 0 {
		t.Fatal("the recipe runs no coffer command")
	}
	snapshot, err := filepath.Abs("../../fixtures/drifted.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile("../../fixtures/coffer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("coffer.yaml", cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, command := range commands {
		args := strings.Fields(command)[1:]
		r := runCLI(t, append(args, "--snapshot", snapshot)...)
		if r.code == exitUsage {
			t.Errorf("`%s` is not a valid invocation: %s", command, r.stderr)
			continue
		}
		for _, a := range args {
			if _, file, ok := strings.Cut(a, "="); ok && strings.Contains(a, "=") && !strings.HasPrefix(a, "-") {
				if _, err := os.Stat(file); err != nil {
					t.Errorf("`%s` did not write %s: %v", command, file, err)
				}
			}
		}
	}
	return dir
}
