package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// action.yml is a composite action, which only GitHub runs. The tests check what can be checked
// here: the file decodes strictly into the action metadata schema; every input reaches the
// scripts through env: (no expression inside run:); the scripts parse (bash -n); dependencies
// are pinned; actionlint, which does not lint action metadata itself, checks the steps as a
// workflow job and the docs/ci workflows against the action's inputs; and a small runner plays
// the steps in order — the scripts with bash as GitHub runs them, the expressions evaluated, the
// uses: steps checked for what they would receive — with a real coffer on sample snapshots.

// repoRoot is the repository, the action's folder: resolved when the tests start, before any
// test changes folder.
var repoRoot = func() string {
	dir, err := filepath.Abs("../..")
	if err != nil {
		panic(err)
	}
	return dir
}()

var actionFile = filepath.Join(repoRoot, "action.yml")

// actionMetadata is GitHub's metadata syntax for a composite action, with only the keys GitHub
// accepts: decoding with KnownFields refuses any other.
type actionMetadata struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Author      string `yaml:"author"`
	Branding    struct {
		Icon  string `yaml:"icon"`
		Color string `yaml:"color"`
	} `yaml:"branding"`
	Inputs  map[string]actionInput `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string          `yaml:"using"`
		Steps []compositeStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionInput struct {
	Description        string  `yaml:"description"`
	Required           bool    `yaml:"required"`
	Default            *string `yaml:"default"`
	DeprecationMessage string  `yaml:"deprecationMessage"`
}

type compositeStep struct {
	ID               string            `yaml:"id,omitempty"`
	Name             string            `yaml:"name,omitempty"`
	If               string            `yaml:"if,omitempty"`
	Uses             string            `yaml:"uses,omitempty"`
	With             map[string]string `yaml:"with,omitempty"`
	Run              string            `yaml:"run,omitempty"`
	Shell            string            `yaml:"shell,omitempty"`
	WorkingDirectory string            `yaml:"working-directory,omitempty"`
	Env              map[string]string `yaml:"env,omitempty"`
	ContinueOnError  string            `yaml:"continue-on-error,omitempty"`
}

// what names a step in messages.
func (s compositeStep) what(i int) string {
	return fmt.Sprintf("step %d (%s)", i+1, cmpOr(s.ID, s.Name, s.Uses))
}

func cmpOr(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// readAction decodes action.yml strictly, and returns its node tree too (for comments).
func readAction(t *testing.T) (actionMetadata, *yaml.Node) {
	t.Helper()
	data, err := os.ReadFile(actionFile)
	if err != nil {
		t.Fatal(err)
	}
	var meta actionMetadata
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&meta); err != nil {
		t.Fatalf("action.yml is not action metadata: %v", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	return meta, &root
}

var (
	inputRef = regexp.MustCompile(`\binputs\.([A-Za-z0-9_-]+)`)
	stepRef  = regexp.MustCompile(`\bsteps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)`)
	shaPin   = regexp.MustCompile(`^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$`)
	pinNote  = regexp.MustCompile(`^# (v\d+)\.\d+\.\d+$`)
)

func TestActionMetadata(t *testing.T) {
	meta, root := readAction(t)
	if meta.Name == "" || meta.Description == "" || meta.Runs.Using != "composite" {
		t.Fatalf("name %q, description %q, runs.using %q: want a named, described composite action", meta.Name, meta.Description, meta.Runs.Using)
	}
	if !strings.Contains(meta.Description, "aws-actions/configure-aws-credentials") {
		t.Error("the description does not say where AWS credentials come from (aws-actions/configure-aws-credentials)")
	}
	for name, in := range meta.Inputs {
		if in.Description == "" || in.Default == nil {
			t.Errorf("input %s: every input needs a description and a default", name)
		}
	}
	for _, want := range []string{"sarif", "json", "html", "formats", "fail-on", "config", "regions", "region", "policy-dir",
		"baseline", "org", "accounts", "role-name", "external-id", "account-concurrency", "shard", "category", "extra-args"} {
		if _, ok := meta.Inputs[want]; !ok {
			t.Errorf("no input %s", want)
		}
	}

	used := map[string]bool{}
	ids := map[string]int{}
	exprs := func(i int, s compositeStep) []string {
		out := []string{s.If, s.WorkingDirectory}
		for _, m := range []map[string]string{s.With, s.Env} {
			for _, v := range m {
				out = append(out, v)
			}
		}
		return out
	}
	for i, s := range meta.Runs.Steps {
		where := s.what(i)
		if s.ID != "" {
			if _, dup := ids[s.ID]; dup {
				t.Errorf("%s: id %s twice", where, s.ID)
			}
			ids[s.ID] = i
		}
		if (s.Run == "") == (s.Uses == "") {
			t.Errorf("%s: a step either runs a script or uses an action", where)
		}
		for _, e := range append(exprs(i, s), s.Run) {
			for _, m := range inputRef.FindAllStringSubmatch(e, -1) {
				used[m[1]] = true
				if _, ok := meta.Inputs[m[1]]; !ok {
					t.Errorf("%s reads inputs.%s, which action.yml does not declare", where, m[1])
				}
			}
			for _, m := range stepRef.FindAllStringSubmatch(e, -1) {
				if j, ok := ids[m[1]]; !ok || j >= i {
					t.Errorf("%s reads steps.%s, not an earlier step", where, m[1])
				}
			}
		}
		if s.Run != "" {
			// GitHub substitutes expressions into the script's text before bash reads it: a value
			// there is code. Through env: it stays a value.
			if strings.Contains(s.Run, "${{") {
				t.Errorf("%s: an expression inside run: (script injection); pass it through env:", where)
			}
			if s.Shell != "bash" {
				t.Errorf("%s: shell %q, want bash (composite run steps must name one; the scripts are bash)", where, s.Shell)
			}
			cmd := exec.Command("bash", "-n")
			cmd.Stdin = strings.NewReader(s.Run)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s: bash -n: %v\n%s", where, err, out)
			}
		}
	}
	for _, o := range meta.Outputs {
		for _, m := range stepRef.FindAllStringSubmatch(o.Value, -1) {
			if _, ok := ids[m[1]]; !ok {
				t.Errorf("output %q reads steps.%s, which does not exist", o.Value, m[1])
			}
		}
	}
	for name := range meta.Inputs {
		if !used[name] {
			t.Errorf("input %s is declared but no step reads it", name)
		}
	}

	// Every action is pinned to a commit, with its version in a comment, one commit per action.
	pins := map[string]string{}
	walkUses(root, func(uses, comment string) {
		if !shaPin.MatchString(uses) || !pinNote.MatchString(comment) {
			t.Errorf("uses: %s %s: want OWNER/REPO@<40-hex commit> # vX.Y.Z", uses, comment)
			return
		}
		action, sha, _ := strings.Cut(uses, "@")
		if prev, ok := pins[action]; ok && prev != sha {
			t.Errorf("%s is pinned to %s and %s", action, prev, sha)
		}
		pins[action] = sha
	})

	// The SARIF upload slots: as many as the scan step fills, the Nth reading the Nth output.
	slots, err := strconv.Atoi(meta.Runs.Steps[ids["scan"]].Env["SARIF_SLOTS"])
	if err != nil {
		t.Fatalf("the scan step's SARIF_SLOTS: %v", err)
	}
	n := 0
	for _, s := range meta.Runs.Steps {
		if !strings.HasPrefix(s.Uses, "github/codeql-action/upload-sarif@") {
			continue
		}
		n++
		out := fmt.Sprintf("steps.scan.outputs.upload-sarif-%d", n)
		if s.With["sarif_file"] != "${{ "+out+" }}" || !strings.Contains(s.If, out+" != ''") || !strings.Contains(s.If, "!cancelled()") {
			t.Errorf("upload-sarif step %d: if %q, sarif_file %q: want it to upload %s, also after a failure", n, s.If, s.With["sarif_file"], out)
		}
	}
	if n != slots {
		t.Errorf("%d upload-sarif steps, but the scan step fills %d", n, slots)
	}
}

// walkUses calls f with every uses: value of the tree and its line comment.
func walkUses(n *yaml.Node, f func(uses, comment string)) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "uses" {
				f(n.Content[i+1].Value, n.Content[i+1].LineComment)
			}
		}
	}
	for _, c := range n.Content {
		walkUses(c, f)
	}
}

// TestActionlint runs actionlint on the workflows of docs/ci as they are, on the same workflows
// using the action of this checkout (uses: ./), so that actionlint checks their with: against
// action.yml's inputs and its metadata (name, description, runs), and on the action's steps as
// the job of a reusable workflow whose inputs are the action's, so that it checks their
// expressions (inputs, steps and github contexts), if: conditions, shells, and the with: of the
// actions it knows — pinned commits are given back their major version tag for that.
func TestActionlint(t *testing.T) {
	meta, _ := readAction(t)
	project := t.TempDir()
	workflows := filepath.Join(project, ".github", "workflows")
	for _, d := range []string{workflows, filepath.Join(project, ".git")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, actionFile, filepath.Join(project, "action.yml"))
	files := []string{}
	remote := regexp.MustCompile(`(?m)(uses:\s*)coffer-audit/coffer@\S+`)
	for _, name := range []string{"github-actions.yml", "github-actions-org.yml"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, "docs", "ci", name))
		if err != nil {
			t.Fatal(err)
		}
		if !remote.Match(data) {
			t.Errorf("docs/ci/%s does not use the action (uses: coffer-audit/coffer@…)", name)
		}
		local := remote.ReplaceAll(data, []byte("${1}./"))
		writeFile(t, filepath.Join(workflows, name), data)
		writeFile(t, filepath.Join(workflows, "local-"+name), local)
		files = append(files, filepath.Join(".github", "workflows", name), filepath.Join(".github", "workflows", "local-"+name))
	}
	writeFile(t, filepath.Join(workflows, "action-steps.yml"), actionAsWorkflow(t, meta))
	files = append(files, filepath.Join(".github", "workflows", "action-steps.yml"))
	runActionlint(t, project, files...)
}

// actionAsWorkflow is a reusable workflow whose inputs are the action's and whose one job runs
// the action's steps and has its outputs.
func actionAsWorkflow(t *testing.T, meta actionMetadata) []byte {
	t.Helper()
	inputs := map[string]any{}
	for name := range meta.Inputs {
		inputs[name] = map[string]any{"type": "string", "required": false}
	}
	outputs := map[string]string{}
	for name, o := range meta.Outputs {
		outputs[name] = o.Value
	}
	_, root := readAction(t)
	notes := map[string]string{}
	walkUses(root, func(uses, comment string) {
		if m := pinNote.FindStringSubmatch(comment); m != nil {
			action, _, _ := strings.Cut(uses, "@")
			notes[uses] = action + "@" + m[1]
		}
	})
	steps := slices.Clone(meta.Runs.Steps)
	for i := range steps {
		if tag, ok := notes[steps[i].Uses]; ok {
			steps[i].Uses = tag
		}
	}
	wf := map[string]any{
		"name": "steps of action.yml",
		"on":   map[string]any{"workflow_call": map[string]any{"inputs": inputs}},
		"jobs": map[string]any{"action": map[string]any{"runs-on": "ubuntu-latest", "outputs": outputs, "steps": steps}},
	}
	data, err := yaml.Marshal(wf)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, data)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ---- A runner for the action's steps ----

// actionOpts is one use of the action.
type actionOpts struct {
	inputs map[string]string // over the defaults
	dir    string            // the workspace, where the steps run
	// coffer is a coffer the build step made before (actionCoffer): the step is not run again.
	coffer     string
	runnerTemp string // default a temporary folder
}

// actionRun is what a use of the action did.
type actionRun struct {
	ran          []string // the steps that ran, by id or uses
	outputs      map[string]string
	steps        map[string]map[string]string // outputs of each step
	setupGo      map[string]string            // the with: of setup-go, when it ran
	sarifUploads []string                     // each upload-sarif's file
	artifacts    map[string][]string          // upload-artifact: name → paths
	failed       bool                         // the action's result
	code         int                          // exit code of the last failing script
	log          string                       // what the scripts printed
	summary      string                       // $GITHUB_STEP_SUMMARY
	path         string                       // $GITHUB_PATH
}

const testActionRef = "v9.9.9-action"

// runAction plays the action's steps as GitHub would: an if: without a status function means
// success() && (it); a script runs as `bash --noprofile --norc -eo pipefail FILE` with its env:,
// after GitHub's substitution of ${{ }} (in run: too, as GitHub does); outputs are read from
// $GITHUB_OUTPUT. The uses: steps are not run but checked: setup-go reads coffer's go.mod,
// upload-sarif gets a SARIF file of at most 20 runs, upload-artifact gets files that exist.
func runAction(t *testing.T, meta actionMetadata, o actionOpts) actionRun {
	t.Helper()
	actionPath := repoRoot
	if o.runnerTemp == "" {
		o.runnerTemp = t.TempDir()
	}
	inputs := map[string]string{}
	for name, in := range meta.Inputs {
		inputs[name] = *in.Default
	}
	for name, v := range o.inputs {
		if _, ok := meta.Inputs[name]; !ok {
			t.Fatalf("the action has no input %q", name)
		}
		inputs[name] = v
	}
	run := actionRun{steps: map[string]map[string]string{}, artifacts: map[string][]string{}}
	env := &exprEnv{t: t, inputs: inputs, steps: run.steps, github: map[string]string{
		"action_path": actionPath, "action_ref": testActionRef, "server_url": "https://github.com",
		"repository": "example/backups", "run_id": "42", "workspace": o.dir,
	}}
	summary := filepath.Join(o.runnerTemp, "step-summary.md")
	ghPath := filepath.Join(o.runnerTemp, "github-path")
	var log strings.Builder
	for i, s := range meta.Runs.Steps {
		env.failed = run.failed
		if !truthy(env.eval(condition(s.If))) {
			continue
		}
		name := cmpOr(s.ID, s.Uses)
		run.ran = append(run.ran, name)
		with := map[string]string{}
		for k, v := range s.With {
			with[k] = env.interpolate(v)
		}
		switch {
		case s.ID == "build" && o.coffer != "":
			run.steps["build"] = map[string]string{"coffer": o.coffer, "version": "(built before)"}
		case s.Run != "":
			outputs, code := runScript(t, i, s, env, o, summary, ghPath, &log)
			if s.ID != "" {
				run.steps[s.ID] = outputs
			}
			if code != 0 {
				run.failed, run.code = true, code
			}
		case strings.HasPrefix(s.Uses, "actions/setup-go@"):
			run.setupGo = with
			if with["go-version-file"] != filepath.Join(actionPath, "go.mod") {
				t.Errorf("setup-go reads %q, not coffer's go.mod", with["go-version-file"])
			}
		case strings.HasPrefix(s.Uses, "github/codeql-action/upload-sarif@"):
			file := with["sarif_file"]
			run.sarifUploads = append(run.sarifUploads, file)
			checkSARIFUpload(t, filepath.Join(o.dir, file))
		case strings.HasPrefix(s.Uses, "actions/upload-artifact@"):
			var paths []string
			for _, p := range strings.Split(strings.TrimSpace(with["path"]), "\n") {
				if _, err := os.Stat(filepath.Join(o.dir, p)); err != nil {
					t.Errorf("upload-artifact %s: %v", with["name"], err)
				}
				paths = append(paths, p)
			}
			if with["name"] == "" {
				t.Error("upload-artifact without a name")
			}
			run.artifacts[with["name"]] = paths
		default:
			t.Fatalf("%s: the test runner does not know %s", s.what(i), s.Uses)
		}
	}
	run.outputs = map[string]string{}
	for name, out := range meta.Outputs {
		run.outputs[name] = env.interpolate(out.Value)
	}
	run.log = log.String()
	data, _ := os.ReadFile(summary)
	run.summary = string(data)
	data, _ = os.ReadFile(ghPath)
	run.path = string(data)
	return run
}

// condition is an if: as GitHub evaluates it.
func condition(cond string) string {
	cond = strings.TrimSpace(cond)
	if m := ghExpr.FindStringSubmatch(cond); m != nil && m[0] == cond {
		cond = m[1]
	}
	if cond == "" {
		return "success()"
	}
	for _, f := range []string{"always(", "success(", "failure(", "cancelled("} {
		if strings.Contains(cond, f) {
			return cond
		}
	}
	return "success() && (" + cond + ")"
}

func runScript(t *testing.T, i int, s compositeStep, env *exprEnv, o actionOpts, summary, ghPath string, log *strings.Builder) (map[string]string, int) {
	t.Helper()
	script := filepath.Join(o.runnerTemp, fmt.Sprintf("step-%d.sh", i+1))
	writeFile(t, script, []byte(env.interpolate(s.Run)))
	outFile := filepath.Join(o.runnerTemp, "github-output")
	writeFile(t, outFile, nil)
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	cmd.Dir = o.dir
	if s.WorkingDirectory != "" {
		cmd.Dir = env.interpolate(s.WorkingDirectory)
	}
	runnerOS := map[string]string{"linux": "Linux", "darwin": "macOS", "windows": "Windows"}[runtime.GOOS]
	cmd.Env = append(os.Environ(), "RUNNER_TEMP="+o.runnerTemp, "RUNNER_OS="+runnerOS, "GITHUB_OUTPUT="+outFile,
		"GITHUB_PATH="+ghPath, "GITHUB_STEP_SUMMARY="+summary, "GITHUB_WORKSPACE="+o.dir)
	for k, v := range s.Env {
		cmd.Env = append(cmd.Env, k+"="+env.interpolate(v))
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	log.WriteString(out.String())
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("bash: %v", err)
		}
		code = ee.ExitCode()
	}
	data, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	return parseGitHubOutput(t, string(data)), code
}

// parseGitHubOutput reads $GITHUB_OUTPUT: NAME=VALUE lines and NAME<<DELIMITER blocks.
func parseGitHubOutput(t *testing.T, data string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var lines []string
			closed := false
			for sc.Scan() {
				if sc.Text() == delim {
					closed = true
					break
				}
				lines = append(lines, sc.Text())
			}
			if !closed {
				t.Errorf("$GITHUB_OUTPUT: %s<<%s is not closed", name, delim)
			}
			out[name] = strings.Join(lines, "\n")
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("$GITHUB_OUTPUT: %q is neither NAME=VALUE nor NAME<<DELIMITER", line)
			continue
		}
		out[name] = value
	}
	return out
}

// checkSARIFUpload checks what upload-sarif would send: a SARIF 2.1.0 log of at most the 20 runs
// GitHub takes in one upload, each with its own category.
func checkSARIFUpload(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Errorf("upload-sarif: %v", err)
		return
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			AutomationDetails struct {
				ID string `json:"id"`
			} `json:"automationDetails"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &log); err != nil || log.Version != "2.1.0" {
		t.Errorf("upload-sarif %s: not a SARIF 2.1.0 log (%v)", file, err)
		return
	}
	if len(log.Runs) > 20 {
		t.Errorf("upload-sarif %s: %d runs, GitHub takes 20 per upload", file, len(log.Runs))
	}
	seen := map[string]bool{}
	for _, r := range log.Runs {
		if seen[r.AutomationDetails.ID] {
			t.Errorf("upload-sarif %s: two runs of category %q", file, r.AutomationDetails.ID)
		}
		seen[r.AutomationDetails.ID] = true
	}
}

// ---- GitHub expressions, as much of them as action.yml uses ----

type exprEnv struct {
	t      *testing.T
	inputs map[string]string
	steps  map[string]map[string]string
	github map[string]string
	failed bool
}

// interpolate substitutes every ${{ }} of s.
func (e *exprEnv) interpolate(s string) string {
	return ghExpr.ReplaceAllStringFunc(s, func(m string) string {
		return str(e.eval(ghExpr.FindStringSubmatch(m)[1]))
	})
}

var exprToken = regexp.MustCompile(`^\s*('(?:[^']|'')*'|==|!=|&&|\|\||[!()]|[A-Za-z_][A-Za-z0-9_.-]*)`)

// eval evaluates an expression: literals, context paths, == and != (case-insensitive, as GitHub
// compares strings), !, && and || (which yield an operand, as in GitHub), parentheses and the
// status functions. Anything else fails the test.
func (e *exprEnv) eval(expr string) any {
	var toks []string
	for rest := expr; strings.TrimSpace(rest) != ""; {
		m := exprToken.FindStringSubmatch(rest)
		if m == nil {
			e.t.Fatalf("expression %q: cannot read %q", expr, rest)
		}
		toks = append(toks, m[1])
		rest = rest[len(m[0]):]
	}
	p := &exprParser{env: e, toks: toks, expr: expr}
	v := p.or()
	if p.pos != len(toks) {
		e.t.Fatalf("expression %q: unexpected %q", expr, toks[p.pos])
	}
	return v
}

type exprParser struct {
	env  *exprEnv
	toks []string
	pos  int
	expr string
}

func (p *exprParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *exprParser) next() string { tok := p.peek(); p.pos++; return tok }

func (p *exprParser) or() any {
	v := p.and()
	for p.peek() == "||" {
		p.next()
		r := p.and()
		if !truthy(v) {
			v = r
		}
	}
	return v
}

func (p *exprParser) and() any {
	v := p.cmp()
	for p.peek() == "&&" {
		p.next()
		r := p.cmp()
		if truthy(v) {
			v = r
		}
	}
	return v
}

func (p *exprParser) cmp() any {
	v := p.unary()
	if op := p.peek(); op == "==" || op == "!=" {
		p.next()
		eq := strings.EqualFold(str(v), str(p.unary()))
		return eq == (op == "==")
	}
	return v
}

func (p *exprParser) unary() any {
	if p.peek() == "!" {
		p.next()
		return !truthy(p.unary())
	}
	return p.primary()
}

func (p *exprParser) primary() any {
	tok := p.next()
	switch {
	case tok == "(":
		v := p.or()
		if p.next() != ")" {
			p.env.t.Fatalf("expression %q: missing )", p.expr)
		}
		return v
	case strings.HasPrefix(tok, "'"):
		return strings.ReplaceAll(tok[1:len(tok)-1], "''", "'")
	case p.peek() == "(":
		p.next()
		if p.next() != ")" {
			p.env.t.Fatalf("expression %q: %s takes no arguments here", p.expr, tok)
		}
		switch tok {
		case "always":
			return true
		case "success":
			return !p.env.failed
		case "failure":
			return p.env.failed
		case "cancelled":
			return false
		}
		p.env.t.Fatalf("expression %q: unknown function %s", p.expr, tok)
	}
	return p.env.lookup(p.expr, tok)
}

func (e *exprEnv) lookup(expr, path string) string {
	parts := strings.Split(path, ".")
	switch {
	case len(parts) == 2 && parts[0] == "inputs":
		v, ok := e.inputs[parts[1]]
		if !ok {
			e.t.Errorf("expression %q: no input %s", expr, parts[1])
		}
		return v
	case len(parts) == 4 && parts[0] == "steps" && parts[2] == "outputs":
		return e.steps[parts[1]][parts[3]] // a step that did not run has no outputs: ""
	case len(parts) == 2 && parts[0] == "github":
		if v, ok := e.github[parts[1]]; ok {
			return v
		}
	}
	e.t.Errorf("expression %q: the test runner does not know %s", expr, path)
	return ""
}

func truthy(v any) bool {
	if b, ok := v.(bool); ok {
		return b
	}
	return v.(string) != ""
}

func str(v any) string {
	if b, ok := v.(bool); ok {
		return strconv.FormatBool(b)
	}
	return v.(string)
}

// ---- Running the action ----

// actionBuild is the coffer the action's build step made, once per test binary: every run of
// the action after the first uses it (actionOpts.coffer) rather than link coffer again.
var actionBuild struct {
	once    sync.Once
	dir     string
	run     actionRun
	message string
}

// actionCoffer runs the action with scan: false — setup-go (checked), then the build step for
// real — and returns the coffer it built.
func actionCoffer(t *testing.T, meta actionMetadata) string {
	t.Helper()
	actionBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "coffer-action-test-")
		if err != nil {
			actionBuild.message = err.Error()
			return
		}
		actionBuild.dir = dir
		workspace := filepath.Join(dir, "workspace")
		if err := os.MkdirAll(workspace, 0o755); err != nil {
			actionBuild.message = err.Error()
			return
		}
		actionBuild.run = runAction(t, meta, actionOpts{inputs: map[string]string{"scan": "false"}, dir: workspace, runnerTemp: dir})
		if actionBuild.run.failed {
			actionBuild.message = "the build step failed:\n" + actionBuild.run.log
		}
	})
	if actionBuild.message != "" {
		t.Fatal(actionBuild.message)
	}
	return actionBuild.run.outputs["coffer"]
}

// removeActionBuild removes what actionCoffer built (from TestMain).
func removeActionBuild() {
	if actionBuild.dir != "" {
		os.RemoveAll(actionBuild.dir)
	}
}

func TestActionBuild(t *testing.T) {
	meta, _ := readAction(t)
	coffer := actionCoffer(t, meta)
	run := actionBuild.run
	if run.setupGo == nil || run.setupGo["cache"] != "false" {
		t.Errorf("setup-go ran with %v: want coffer's go.mod and no cache", run.setupGo)
	}
	if !slices.Equal(run.ran, []string{meta.Runs.Steps[0].Uses, "build"}) {
		t.Errorf("with scan: false the action ran %v, want setup-go and the build only", run.ran)
	}
	out, err := exec.Command(coffer, "version").Output()
	if err != nil {
		t.Fatalf("%s version: %v", coffer, err)
	}
	line := strings.TrimSpace(string(out))
	if want := "coffer " + testActionRef + " ("; !strings.HasPrefix(line, want) || run.outputs["version"] != line {
		t.Errorf("coffer version = %q, output version %q: want %q… (the action's ref)", line, run.outputs["version"], want)
	}
	if strings.TrimSpace(run.path) != filepath.Dir(coffer) {
		t.Errorf("$GITHUB_PATH = %q, want coffer's folder %s", run.path, filepath.Dir(coffer))
	}

	// Inputs the build step checks before building.
	for _, in := range []map[string]string{{"scan": "yes"}, {"setup-go": "1"}} {
		r := runAction(t, meta, actionOpts{inputs: in, dir: t.TempDir()})
		if !r.failed || !strings.Contains(r.log, "must be true or false") || slices.Contains(r.ran, "scan") {
			t.Errorf("inputs %v: failed %v, ran %v, log %q: want a refusal before anything runs", in, r.failed, r.ran, r.log)
		}
	}
}

// TestReadmeDocumentsTheAction: the README names every input and output of the action, and its
// snippet gives the action only inputs it has, after the OIDC credentials step.
func TestReadmeDocumentsTheAction(t *testing.T) {
	meta, _ := readAction(t)
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for name := range meta.Inputs {
		if !strings.Contains(readme, "`"+name+"`") {
			t.Errorf("the README does not name the input %s", name)
		}
	}
	for name := range meta.Outputs {
		if !strings.Contains(readme, "`"+name+"`") {
			t.Errorf("the README does not name the output %s", name)
		}
	}
	var snippet string
	for _, block := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(readme, -1) {
		if strings.Contains(block[1], "coffer-audit/coffer@") {
			snippet = block[1]
		}
	}
	var doc struct {
		Permissions map[string]string `yaml:"permissions"`
		Steps       []workflowStep    `yaml:"steps"`
	}
	if err := yaml.Unmarshal([]byte(snippet), &doc); err != nil || snippet == "" {
		t.Fatalf("the README's action snippet (%d bytes) does not parse: %v", len(snippet), err)
	}
	if doc.Permissions["id-token"] != "write" || doc.Permissions["security-events"] != "write" {
		t.Errorf("the snippet's permissions %v: OIDC and the SARIF upload need id-token and security-events write", doc.Permissions)
	}
	oidc := false
	for _, s := range doc.Steps {
		oidc = oidc || strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@")
		if !strings.HasPrefix(s.Uses, "coffer-audit/coffer@") {
			continue
		}
		if !oidc {
			t.Error("the snippet uses the action before aws-actions/configure-aws-credentials")
		}
		for name := range s.With {
			if _, ok := meta.Inputs[name]; !ok {
				t.Errorf("the snippet passes %s, which the action does not have", name)
			}
		}
	}
}
