package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/reporters"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
	k8syaml "sigs.k8s.io/yaml"
)

// The organisation recipes (docs/ci/github-actions-org.yml, docs/k8s/*.yaml) cannot run GitHub or
// Kubernetes here, so the tests check what those would: the workflow passes actionlint, the
// manifests decode strictly into the Kubernetes API types, the shards cover the organisation
// (matrix 1..N with --shard I/N, completions N with --shard-count N), each shard's result reaches
// the merge, every coffer command is a valid invocation, and `coffer merge` runs for real on shard
// results made from the sample accounts, where the recipe puts them.

// actionlintVersion is the actionlint the workflow recipes are checked with. `go run` fetches it
// through the Go module proxy the first time and builds it from the module cache afterwards, so
// it stays out of go.mod.
const actionlintVersion = "v1.7.12"

// pendingOrgFlags are the organisation flags of DESIGN §5 that scan and collect may not have yet
// (issue #15), with whether each takes a value. A recipe line that uses one is checked for
// everything else and the value by checkOrgFlagValue; once the command has the flag, cobra parses
// it like any other.
var pendingOrgFlags = map[string]bool{
	"org": false, "accounts": true, "role-name": true, "external-id": true,
	"account-concurrency": true, "shard": true, "shard-count": true,
}

var roleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// checkOrgFlagValue checks the value of an organisation flag as scan and collect will take it.
func checkOrgFlagValue(name, value string, env func(string) string) error {
	switch name {
	case "shard":
		_, err := checks.ParseShard(value)
		return err
	case "shard-count":
		n, err := strconv.Atoi(value)
		if err != nil {
			return err
		}
		_, err = checks.ShardFromEnv(n, env)
		return err
	case "account-concurrency":
		if n, err := strconv.Atoi(value); err != nil || n < 1 {
			return fmt.Errorf("%q is not a number of accounts at once", value)
		}
	case "role-name":
		if !roleNameRE.MatchString(value) {
			return fmt.Errorf("%q is not an IAM role name", value)
		}
	case "external-id", "accounts":
		if value == "" {
			return errors.New("empty")
		}
	}
	return nil
}

// checkInvocation parses one coffer command line with coffer's own commands, as `run` would: the
// subcommand must exist and its flags and arguments parse. It returns the organisation flags it
// could only check by their values (pendingOrgFlags the command does not have yet).
func checkInvocation(t *testing.T, where string, args []string, env func(string) string) (pending []string) {
	t.Helper()
	root := newApp(strings.NewReader(""), io.Discard, io.Discard).rootCmd()
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Errorf("%s: `coffer %s` is not a coffer command: %v", where, strings.Join(args, " "), err)
		return nil
	}
	var kept []string
	for i := 0; i < len(rest); i++ {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(rest[i], "--"), "=")
		takesValue, isOrg := pendingOrgFlags[name]
		if !strings.HasPrefix(rest[i], "--") || !isOrg {
			kept = append(kept, rest[i])
			continue
		}
		if takesValue && !hasValue && i+1 < len(rest) {
			value = rest[i+1]
		}
		// Shard values are checked whether the flag exists yet or not: a wrong one splits the
		// organisation wrongly without any error.
		if takesValue {
			if err := checkOrgFlagValue(name, value, env); err != nil {
				t.Errorf("%s: --%s %s: %v", where, name, value, err)
			}
		}
		if cmd.Flags().Lookup(name) != nil {
			kept = append(kept, rest[i])
			continue
		}
		if takesValue && !hasValue {
			i++
		}
		pending = append(pending, "--"+name)
	}
	if err := cmd.ParseFlags(kept); err != nil {
		t.Errorf("%s: `coffer %s`: %v", where, strings.Join(args, " "), err)
		return pending
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		t.Errorf("%s: `coffer %s`: %v", where, strings.Join(args, " "), err)
	}
	if f := cmd.Flags().Lookup("format"); f != nil && cmd.Name() == "scan" {
		formats, _ := cmd.Flags().GetStringArray("format")
		for _, spec := range formats {
			name, _, _ := strings.Cut(spec, "=")
			if _, err := reporters.New(name, reporters.Options{}); err != nil {
				t.Errorf("%s: --format %s: %v", where, spec, err)
			}
		}
	}
	return pending
}

// shellCommands parses script as a POSIX shell script and returns its simple commands named name,
// each as its words after expansion with env (variables, quotes; globs against the files under
// env's PWD).
func shellCommands(t *testing.T, where, script, name string, env map[string]string) [][]string {
	t.Helper()
	file, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(script), where)
	if err != nil {
		t.Fatalf("%s: the script is not POSIX shell: %v", where, err)
	}
	var pairs []string
	for k, v := range env {
		pairs = append(pairs, k+"="+v)
	}
	cfg := &expand.Config{Env: expand.ListEnviron(pairs...), ReadDir2: os.ReadDir}
	var out [][]string
	syntax.Walk(file, func(node syntax.Node) bool {
		call, ok := node.(*syntax.CallExpr)
		if !ok || len(call.Args) == 0 || call.Args[0].Lit() != name {
			return true
		}
		fields, err := expand.Fields(cfg, call.Args...)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return true
		}
		out = append(out, fields)
		return true
	})
	return out
}

// flagValue is the value of --name (or -short) in args, "" when absent.
func flagValue(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// formatFile is the file of --format kind=FILE in args.
func formatFile(args []string, kind string) string {
	for i, a := range args {
		if a == "--format" && i+1 < len(args) {
			if k, file, ok := strings.Cut(args[i+1], "="); ok && k == kind {
				return file
			}
		}
	}
	return ""
}

// runActionlint runs actionlint in dir on files (relative to dir) and fails the test on any error.
func runActionlint(t *testing.T, dir string, files ...string) {
	t.Helper()
	// No shellcheck or pyflakes: the result must not depend on what the machine has installed
	// (shellCommands parses the scripts instead).
	args := append([]string{"run", "github.com/rhysd/actionlint/cmd/actionlint@" + actionlintVersion, "-no-color", "-shellcheck=", "-pyflakes="}, files...)
	lint := func(env ...string) (string, error) {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	// The module cache first, as a proxy: offline once actionlint was fetched (go run pkg@version
	// asks its proxy about the module even when the module is in the cache).
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	cached := "file://" + filepath.ToSlash(filepath.Join(strings.TrimSpace(string(modcache)), "cache", "download"))
	out, err := lint("GOPROXY=" + cached)
	if err != nil && !strings.Contains(out, ".yml:") {
		// Not fetched yet: through the configured proxy.
		out, err = lint()
	}
	if err != nil {
		t.Fatalf("actionlint %s: %v\n%s", actionlintVersion, err, out)
	}
}

type workflowStep struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	If   string            `yaml:"if"`
	With map[string]any    `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

type workflowJob struct {
	Needs    any    `yaml:"needs"`
	If       string `yaml:"if"`
	Strategy struct {
		FailFast *bool          `yaml:"fail-fast"`
		Matrix   map[string]any `yaml:"matrix"`
	} `yaml:"strategy"`
	Steps []workflowStep `yaml:"steps"`
}

// ghExpr is a GitHub expression, substituted before the shell sees the script.
var ghExpr = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// substitute replaces GitHub expressions: matrix.shard by shard, secrets by a placeholder.
func substitute(t *testing.T, s, shard string) string {
	t.Helper()
	return ghExpr.ReplaceAllStringFunc(s, func(m string) string {
		expr := ghExpr.FindStringSubmatch(m)[1]
		switch {
		case expr == "matrix.shard":
			return shard
		case strings.HasPrefix(expr, "secrets."):
			return "secret-" + strings.TrimPrefix(expr, "secrets.")
		case expr == "!cancelled()" || strings.HasPrefix(expr, "steps."):
			return m
		}
		t.Errorf("unexpected expression %s in a recipe line", m)
		return m
	})
}

func TestGitHubActionsOrgRecipe(t *testing.T) {
	const file = "../../docs/ci/github-actions-org.yml"
	var wf struct {
		Permissions map[string]string      `yaml:"permissions"`
		Jobs        map[string]workflowJob `yaml:"jobs"`
	}
	readYAML(t, file, &wf)
	if wf.Permissions["id-token"] != "write" {
		t.Error("permissions: id-token: write is needed to assume the audit role with OIDC")
	}
	scan, merge := wf.Jobs["scan"], wf.Jobs["merge"]
	if needs, _ := merge.Needs.(string); needs != "scan" {
		t.Errorf("the merge job needs %v, want scan (it must wait for every shard)", merge.Needs)
	}
	if !strings.Contains(merge.If, "!cancelled()") {
		t.Errorf("the merge job runs if %q: it must run when a shard failed too, to name it", merge.If)
	}
	if scan.Strategy.FailFast == nil || *scan.Strategy.FailFast {
		t.Error("fail-fast must be false: one failing shard must not cancel the others")
	}
	var shardValues []string
	values, _ := scan.Strategy.Matrix["shard"].([]any)
	for i, v := range values {
		if fmt.Sprint(v) != strconv.Itoa(i+1) {
			t.Errorf("matrix.shard = %v, want 1..N", values)
		}
		shardValues = append(shardValues, fmt.Sprint(v))
	}
	n := len(shardValues)
	if n < 2 {
		t.Fatalf("matrix.shard = %v: no shards", values)
	}
	if !slices.ContainsFunc(scan.Steps, func(s workflowStep) bool {
		return strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@") && s.With["role-to-assume"] != nil
	}) {
		t.Error("the scan job gets no AWS credentials with OIDC (aws-actions/configure-aws-credentials)")
	}

	// The shards, each as the matrix makes it: the action runs with the shard's inputs and a
	// stand-in for coffer that records the command line and writes the reports it names, and
	// exits 1 (a check failed), which must not fail the shard: the merged report judges.
	meta, _ := readAction(t)
	stub, argsFile := cofferStub(t)
	t.Setenv("COFFER_STUB_EXIT", "1")
	org := fixtureOrg(t, vaultSameShard)
	var pending []string
	var artifacts []string
	var jsonInArtifact string // where the JSON report is inside a shard's artifact
	var actionRef string
	for _, v := range shardValues {
		where := "scan shard " + v
		i := slices.IndexFunc(scan.Steps, func(s workflowStep) bool { return strings.HasPrefix(s.Uses, "coffer-audit/coffer@") })
		if i < 0 {
			t.Fatalf("%s does not use the coffer action", where)
		}
		actionRef = scan.Steps[i].Uses
		inputs := map[string]string{}
		for k, val := range scan.Steps[i].With {
			inputs[k] = substitute(t, fmt.Sprint(val), v)
		}
		run := runAction(t, meta, actionOpts{inputs: inputs, dir: t.TempDir(), coffer: stub})
		if run.failed {
			t.Errorf("%s fails on exit code 1: the shards must leave the gate to the merge\n%s", where, run.log)
		}
		args := stubArgs(t, argsFile)
		pending = append(pending, checkInvocation(t, where, args, os.Getenv)...)
		if got, want := flagValue(args, "--shard"), v+"/"+strconv.Itoa(n); got != want {
			t.Errorf("%s scans --shard %s, want %s (the matrix has %d shards)", where, got, want, n)
		}
		jsonFile := formatFile(args, "json")
		if jsonFile == "" {
			t.Fatalf("%s writes no JSON report to merge", where)
		}
		if len(run.artifacts) != 1 {
			t.Fatalf("%s keeps the artifacts %v, want one", where, run.artifacts)
		}
		for name, paths := range run.artifacts {
			artifacts = append(artifacts, name)
			if !slices.Contains(paths, jsonFile) {
				t.Errorf("%s keeps %v, not its JSON report %s", where, paths, jsonFile)
			}
			// upload-artifact roots the artifact at the paths' deepest common folder.
			rel, err := filepath.Rel(commonDir(paths), jsonFile)
			if err != nil || (jsonInArtifact != "" && rel != jsonInArtifact) {
				t.Errorf("%s: the JSON report is %s in the artifact (%v), %s in another shard's", where, rel, err, jsonInArtifact)
			}
			jsonInArtifact = rel
		}
		if len(run.sarifUploads) == 0 {
			t.Errorf("%s uploads no SARIF", where)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(artifacts)))) != n {
		t.Fatalf("artifacts %v: want one per shard, each its own name", artifacts)
	}
	dir := t.TempDir()
	t.Chdir(dir)

	// The merge job: its download puts every shard's artifact where its merge reads, and coffer
	// merge runs on what the shards of the sample organisation would have uploaded.
	var merged string
	installed := false
	for i, s := range merge.Steps {
		if strings.HasPrefix(s.Uses, "coffer-audit/coffer@") {
			// The coffer that wrote the shards: merge refuses reports of other versions.
			installed = s.Uses == actionRef && fmt.Sprint(s.With["scan"]) == "false"
			if !installed {
				t.Errorf("the merge job uses %s with %v, want %s with scan: false (the coffer of the shards)", s.Uses, s.With, actionRef)
			}
		}
		if strings.HasPrefix(s.Uses, "actions/download-artifact@") {
			pattern, into := fmt.Sprint(s.With["pattern"]), fmt.Sprint(s.With["path"])
			for k, name := range artifacts {
				if ok, _ := path.Match(pattern, name); !ok {
					t.Errorf("the merge downloads %s, not the artifact %s", pattern, name)
				}
				report := filepath.Join(into, name, jsonInArtifact)
				if err := os.MkdirAll(filepath.Dir(report), 0o755); err != nil {
					t.Fatal(err)
				}
				scanToJSON(t, shardOf(org, checks.Shard{Index: k + 1, Count: n}, true), report)
			}
		}
		for _, args := range shellCommands(t, "merge job", substitute(t, s.Run, ""), "coffer", map[string]string{"PWD": dir}) {
			pending = append(pending, checkInvocation(t, "merge job", args[1:], os.Getenv)...)
			r := runCLI(t, args[1:]...)
			if r.code == exitUsage {
				t.Errorf("merge job: `%s` exit 2: %s", strings.Join(args, " "), r.stderr)
			}
			merged = flagValue(args, "-o")
			if _, err := os.Stat(merged); err != nil {
				t.Errorf("merge job: `%s` wrote no %s", strings.Join(args, " "), merged)
			}
			if len(args) < 4+n {
				t.Errorf("merge job: `%s` merges fewer files than the %d shards", strings.Join(args, " "), n)
			}
			upload := slices.IndexFunc(merge.Steps[i:], func(s workflowStep) bool { return strings.HasPrefix(s.Uses, "actions/upload-artifact@") })
			if upload < 0 || filepath.Clean(fmt.Sprint(merge.Steps[i+upload].With["path"])) != filepath.Dir(merged) {
				t.Errorf("the merged report %s is not uploaded", merged)
			}
		}
	}
	if merged == "" || !installed {
		t.Fatalf("the merge job runs no coffer merge (%q), or not with the coffer of the shards (%v)", merged, installed)
	}
	rep, err := checks.LoadReport(merged)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Accounts) != len(org.Snapshot.Accounts) {
		t.Errorf("the merged report has %d accounts, want %d", len(rep.Accounts), len(org.Snapshot.Accounts))
	}
	logPending(t, pending)
}

// commonDir is the deepest folder holding every path (relative, slash-separated).
func commonDir(paths []string) string {
	dir := filepath.Dir(paths[0])
	for _, p := range paths[1:] {
		for dir != "." && !strings.HasPrefix(filepath.Dir(p)+"/", dir+"/") {
			dir = filepath.Dir(dir)
		}
	}
	return dir
}

// logPending says which organisation flags the recipes use that scan and collect do not have
// yet: those lines were checked for their other flags, and these flags for their values only.
func logPending(t *testing.T, pending []string) {
	if pending = slices.Compact(slices.Sorted(slices.Values(pending))); len(pending) > 0 {
		t.Logf("not parsed by coffer yet (the flags of issue #15 that scan and collect do not have; values checked): %s", strings.Join(pending, " "))
	}
}

// k8sObject is one manifest of a recipe, decoded strictly into its API type.
type k8sObject struct {
	kind string
	job  *batchv1.Job
	cm   *corev1.ConfigMap
	sa   *corev1.ServiceAccount
}

// readManifests decodes every document of a manifest file strictly: a field the API type does
// not have, or a duplicate key, is an error, as `kubectl apply --validate=strict` makes it.
func readManifests(t *testing.T, file string) []k8sObject {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []k8sObject
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := k8syaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("%s document %d: %v", file, i+1, err)
		}
		o := k8sObject{kind: meta.APIVersion + " " + meta.Kind}
		var target any
		switch o.kind {
		case "batch/v1 Job":
			o.job = &batchv1.Job{}
			target = o.job
		case "v1 ConfigMap":
			o.cm = &corev1.ConfigMap{}
			target = o.cm
		case "v1 ServiceAccount":
			o.sa = &corev1.ServiceAccount{}
			target = o.sa
		default:
			t.Fatalf("%s document %d: unexpected %q", file, i+1, o.kind)
		}
		if err := k8syaml.UnmarshalStrict([]byte(doc), target); err != nil {
			t.Fatalf("%s document %d (%s): %v", file, i+1, meta.Kind, err)
		}
		out = append(out, o)
	}
	return out
}

// containerScript is the shell script of a container run as /bin/sh -c SCRIPT, and its env.
func containerScript(t *testing.T, where string, c corev1.Container) (string, map[string]string) {
	t.Helper()
	if !slices.Equal(c.Command, []string{"/bin/sh", "-c"}) || len(c.Args) != 1 {
		t.Fatalf("%s: command %v args %d: want /bin/sh -c SCRIPT", where, c.Command, len(c.Args))
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return c.Args[0], env
}

func TestKubernetesIndexedJobRecipe(t *testing.T) {
	shardsFile, mergeFile := "../../docs/k8s/coffer-shards.yaml", "../../docs/k8s/coffer-merge.yaml"
	var indexed, mergeJob *batchv1.Job
	configMaps := map[string]*corev1.ConfigMap{}
	serviceAccounts := map[string]bool{}
	for _, o := range append(readManifests(t, shardsFile), readManifests(t, mergeFile)...) {
		switch {
		case o.job != nil && o.job.Spec.CompletionMode != nil && *o.job.Spec.CompletionMode == batchv1.IndexedCompletion:
			indexed = o.job
		case o.job != nil:
			mergeJob = o.job
		case o.cm != nil:
			configMaps[o.cm.Name] = o.cm
		case o.sa != nil:
			serviceAccounts[o.sa.Name] = true
		}
	}
	if indexed == nil || mergeJob == nil {
		t.Fatal("want an Indexed Job (completionMode: Indexed) for the shards and a Job for the merge")
	}
	spec := indexed.Spec
	if spec.Completions == nil || *spec.Completions < 2 {
		t.Fatalf("completions %v: no shards", spec.Completions)
	}
	n := int(*spec.Completions)
	if spec.Parallelism != nil && int(*spec.Parallelism) > n {
		t.Errorf("parallelism %d is more than the %d shards", *spec.Parallelism, n)
	}
	for _, job := range []*batchv1.Job{indexed, mergeJob} {
		pod := job.Spec.Template.Spec
		if pod.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("job %s: restartPolicy %q, want Never (a pod's exit code is its result)", job.Name, pod.RestartPolicy)
		}
		if !serviceAccounts[pod.ServiceAccountName] {
			t.Errorf("job %s runs as service account %q, which the recipe does not define", job.Name, pod.ServiceAccountName)
		}
		if len(pod.Containers) != 1 {
			t.Fatalf("job %s: %d containers, want 1", job.Name, len(pod.Containers))
		}
	}
	if p := spec.PodFailurePolicy; p != nil {
		for _, r := range p.Rules {
			if r.OnExitCodes != nil && r.OnExitCodes.ContainerName != nil && *r.OnExitCodes.ContainerName != spec.Template.Spec.Containers[0].Name {
				t.Errorf("podFailurePolicy names container %q, which the pod does not have", *r.OnExitCodes.ContainerName)
			}
		}
	}

	org := fixtureOrg(t, vaultElsewhere)
	dir := t.TempDir()
	t.Chdir(dir)
	var pending []string

	// Every pod: its index makes its shard, and its snapshot goes to its own key.
	script, env := containerScript(t, "shards job", spec.Template.Spec.Containers[0])
	keys := map[string]bool{}
	var shardKeys []string
	for i := 0; i < n; i++ {
		env := mergedEnv(env, map[string]string{checks.JobCompletionIndexEnv: strconv.Itoa(i), "PWD": dir})
		where := fmt.Sprintf("shards job, pod %d", i)
		lookup := func(name string) string { return env[name] }
		collects := shellCommands(t, where, script, "coffer", env)
		if len(collects) != 1 || collects[0][1] != "collect" {
			t.Fatalf("%s runs %v, want one coffer collect", where, collects)
		}
		args := collects[0]
		pending = append(pending, checkInvocation(t, where, args[1:], lookup)...)
		count, _ := strconv.Atoi(flagValue(args, "--shard-count"))
		if count != n {
			t.Errorf("%s: --shard-count %d, but the Job has %d completions", where, count, n)
		}
		if s, err := checks.ShardFromFlags("", count, lookup); err != nil || s != (checks.Shard{Index: i + 1, Count: n}) {
			t.Errorf("%s scans shard %v (%v), want %d/%d", where, s, err, i+1, n)
		}
		out := flagValue(args, "-o")
		uploaded := false
		for _, cp := range shellCommands(t, where, script, "aws", env) {
			if len(cp) == 5 && cp[1] == "s3" && cp[2] == "cp" && cp[3] == out {
				uploaded = true
				if keys[cp[4]] {
					t.Errorf("%s uploads to %s like another pod", where, cp[4])
				}
				keys[cp[4]] = true
				shardKeys = append(shardKeys, cp[4])
			}
		}
		if !uploaded {
			t.Errorf("%s does not copy its snapshot %s to S3", where, out)
		}
	}

	// The merge: it downloads the folder every shard uploaded to, merges what is there, and scans
	// the result with the configuration of the ConfigMap.
	script, mergeEnv := containerScript(t, "merge job", mergeJob.Spec.Template.Spec.Containers[0])
	for _, name := range []string{"RESULTS", "COFFER_RUN"} {
		if mergeEnv[name] != env[name] {
			t.Errorf("%s is %q in the merge job and %q in the shards job", name, mergeEnv[name], env[name])
		}
	}
	mergeEnv["PWD"] = dir
	downloaded := false
	for _, cp := range shellCommands(t, "merge job", script, "aws", mergeEnv) {
		if len(cp) == 6 && cp[1] == "s3" && cp[2] == "cp" && cp[3] == "--recursive" && strings.HasPrefix(cp[4], "s3://") && !strings.HasPrefix(cp[5], "s3://") {
			for i, key := range shardKeys {
				rel, ok := strings.CutPrefix(key, cp[4])
				if !ok || strings.Contains(rel, "/") {
					t.Errorf("the merge downloads %s, which does not hold shard %d's %s", cp[4], i, key)
					continue
				}
				downloaded = true
				local := filepath.Join(cp[5], rel)
				if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
					t.Fatal(err)
				}
				writeShardSnapshot(t, shardOf(org, checks.Shard{Index: i + 1, Count: n}, true), local)
			}
		}
	}
	if !downloaded {
		t.Fatal("the merge job downloads no shard")
	}
	config := t.TempDir()
	for _, args := range shellCommands(t, "merge job", script, "coffer", mergeEnv) {
		pending = append(pending, checkInvocation(t, "merge job", args[1:], os.Getenv)...)
		switch args[1] {
		case "merge":
			if r := runCLI(t, args[1:]...); r.code != exitOK {
				t.Errorf("merge job: `%s` exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
			}
		case "scan":
			file := flagValue(args, "--config")
			cfg := configFromVolume(t, mergeJob, configMaps, file)
			local := filepath.Join(config, filepath.Base(file))
			if err := os.WriteFile(local, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := checks.ParseConfig(file, []byte(cfg)); err != nil {
				t.Errorf("the ConfigMap's coffer.yaml: %v", err)
			}
			args = slices.Clone(args)
			args[slices.Index(args, file)] = local
			r := runCLI(t, args[1:]...)
			switch {
			case r.code == exitUsage && strings.Contains(r.stderr, `schema_version "2"`):
				pending = append(pending, "scan --snapshot of an organisation snapshot")
			case r.code == exitUsage:
				t.Errorf("merge job: `%s` exit 2: %s", strings.Join(args, " "), r.stderr)
			}
		default:
			t.Errorf("merge job runs coffer %s", args[1])
		}
	}
	logPending(t, pending)
}

// configFromVolume is the content of file as the pod sees it: a key of the ConfigMap mounted at
// its folder.
func configFromVolume(t *testing.T, job *batchv1.Job, configMaps map[string]*corev1.ConfigMap, file string) string {
	t.Helper()
	pod := job.Spec.Template.Spec
	for _, m := range pod.Containers[0].VolumeMounts {
		if m.MountPath != filepath.Dir(file) {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				cm := configMaps[v.ConfigMap.Name]
				if cm == nil {
					t.Fatalf("volume %s mounts ConfigMap %s, which the recipe does not define", v.Name, v.ConfigMap.Name)
				}
				data, ok := cm.Data[filepath.Base(file)]
				if !ok {
					t.Fatalf("ConfigMap %s has no %s", cm.Name, filepath.Base(file))
				}
				return data
			}
		}
	}
	t.Fatalf("%s is on no ConfigMap volume of job %s", file, job.Name)
	return ""
}

// mergedEnv is a copy of a with b's entries over it.
func mergedEnv(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
