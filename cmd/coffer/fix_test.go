package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/fix"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
	"github.com/coffer-audit/coffer/fixtures/seed"
)

// opProxy sits between coffer and moto and records the operation of every request, so CLI tests
// can prove which calls a whole `coffer scan --fix` run made without any hook in the code.
type opProxy struct {
	*httptest.Server
	mu  sync.Mutex
	ops []string
}

func newOpProxy(t *testing.T, target string) *opProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &opProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.record(r)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// record names the operation: X-Amz-Target for JSON services (KMS, CloudTrail), Action for query
// services (IAM, STS), the method and path for S3's REST API.
func (p *opProxy) record(r *http.Request) {
	op := ""
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		op = target[strings.LastIndex(target, ".")+1:]
	} else if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		op = form.Get("Action")
	}
	if op == "" {
		op = r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery
	}
	p.mu.Lock()
	p.ops = append(p.ops, op)
	p.mu.Unlock()
}

func (p *opProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ops = nil
}

// mutating lists the recorded operations that change something. GenerateCredentialReport is the
// one non-read a scan makes (it only refreshes the report; DESIGN allows it).
func (p *opProxy) mutating() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, op := range p.ops {
		switch {
		case strings.HasPrefix(op, "GET "), strings.HasPrefix(op, "HEAD "):
		case motoserver.ReadOnly(op):
		default:
			out = append(out, op)
		}
	}
	return out
}

// fixEnv points the SDK chain at dummy credentials and nothing else from the machine, with one
// attempt per call.
func fixEnv(t *testing.T) {
	t.Helper()
	useMotoCredentials(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
}

// fixWorld is one CLI test's moto account behind a recording proxy.
type fixWorld struct {
	srv   *motoserver.Server
	proxy *opProxy
	cfg   aws.Config
	dir   string
}

func newFixWorld(t *testing.T) *fixWorld {
	t.Helper()
	srv := motoserver.Shared(t)
	srv.Reset(t)
	fixEnv(t)
	return &fixWorld{srv: srv, proxy: newOpProxy(t, srv.URL), cfg: srv.AWSConfig(t, "us-east-1"), dir: t.TempDir()}
}

func (w *fixWorld) s3() *s3.Client {
	return awsclient.NewS3(w.cfg, "us-east-1", awsclient.Options{EndpointURL: w.srv.URL})
}

// flags are the AWS flags of a CLI run through the proxy.
func (w *fixWorld) flags(regions ...string) []string {
	if len(regions) == 0 {
		regions = []string{"us-east-1"}
	}
	return []string{"--endpoint-url", w.proxy.URL, "--region", regions[0], "--regions", strings.Join(regions, ","), "--quiet", "--call-timeout", motoCallTimeout}
}

func (w *fixWorld) writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(w.dir, "coffer.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type fixResult struct {
	code           int
	stdout, stderr string
}

// runFix runs the CLI with stdin (not a terminal) and returns the result.
func runFix(t *testing.T, stdin string, args ...string) fixResult {
	t.Helper()
	return runFixOn(t, false, stdin, args...)
}

// runFixOn runs the CLI with stdin playing a terminal or not.
func runFixOn(t *testing.T, terminal bool, stdin string, args ...string) fixResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := newApp(strings.NewReader(stdin), &stdout, &stderr)
	a.stdinIsTerminal = func(io.Reader) bool { return terminal }
	code := a.run(context.Background(), args)
	return fixResult{code, stdout.String(), stderr.String()}
}

func readReport(t *testing.T, path string) *checks.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no report: %v", err)
	}
	var r checks.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func reportStatus(r *checks.Report, check, arn string) checks.Status {
	for _, f := range r.Findings {
		if f.CheckID == check && f.Resource.ARN == arn {
			return f.Status
		}
	}
	return ""
}

// suspendedBucket makes a backup bucket holding two versions of an object, versioning suspended.
func (w *fixWorld) suspendedBucket(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	api := w.s3()
	steps := []func() error{
		func() error { _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); return err },
		func() error { return w.versioning(name, s3types.BucketVersioningStatusEnabled) },
		func() error {
			_, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: &name, Key: aws.String("a"), Body: strings.NewReader("1")})
			return err
		},
		func() error {
			_, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: &name, Key: aws.String("a"), Body: strings.NewReader("2")})
			return err
		},
		func() error { return w.versioning(name, s3types.BucketVersioningStatusSuspended) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("seed %s: %v", name, err)
		}
	}
}

func (w *fixWorld) versioning(name string, st s3types.BucketVersioningStatus) error {
	_, err := w.s3().PutBucketVersioning(context.Background(), &s3.PutBucketVersioningInput{
		Bucket: &name, VersioningConfiguration: &s3types.VersioningConfiguration{Status: st},
	})
	return err
}

func TestFixRefusals(t *testing.T) {
	w := newFixWorld(t)
	w.suspendedBucket(t, "vault")
	otherAccount := w.writeConfig(t, "account:\n  expected_id: \"111111111111\"\n")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"wrong account", []string{"--config", otherAccount, "--yes"}, exitUsage, "111111111111"},
		{"no terminal and no --yes", nil, exitUsage, "--yes"},
		{"unknown --fix-include", []string{"--fix-include", "no-such-check", "--yes"}, exitUsage, "no such check"},
		{"auto check in --fix-include", []string{"--fix-include", "s3-bucket-versioning", "--yes"}, exitUsage, "not opt-in"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.proxy.reset()
			journal := filepath.Join(t.TempDir(), "journal.json")
			args := append([]string{"scan", "--fix", "--journal", journal, "--format", "json"}, w.flags()...)
			r := runFix(t, "", append(args, tc.args...)...)
			if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", r.code, r.stderr, tc.wantCode, tc.wantErr)
			}
			if m := w.proxy.mutating(); len(m) > 0 {
				t.Errorf("mutating calls: %v", m)
			}
			if _, err := os.Stat(journal); err == nil {
				t.Error("a journal was written though nothing was applied")
			}
		})
	}
}

func TestFixDryRunAndDeclinedPromptChangeNothing(t *testing.T) {
	w := newFixWorld(t)
	w.suspendedBucket(t, "vault")
	tests := []struct {
		name     string
		terminal bool
		stdin    string
		args     []string
		want     string
	}{
		{"dry run", false, "", []string{"--dry-run", "--fix-include", fix.IncludeAllOptIn}, "Dry run: nothing was changed"},
		{"declined on a terminal", true, "n\n", nil, "Not applied"},
		{"no answer on a terminal", true, "", nil, "Not applied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.proxy.reset()
			out := filepath.Join(t.TempDir(), "report.json")
			args := append([]string{"scan", "--fix", "--format", "json", "--output", out}, w.flags()...)
			r := runFixOn(t, tc.terminal, tc.stdin, append(args, tc.args...)...)
			if r.code != exitFindings {
				t.Errorf("exit %d, want the scan's 1 (stderr %s)", r.code, r.stderr)
			}
			// The report goes to a file, so the plan is on stdout.
			if !strings.Contains(r.stdout, "Fix plan for account "+motoserver.AccountID) || !strings.Contains(r.stdout, tc.want) {
				t.Errorf("stdout lacks the plan or %q:\n%s", tc.want, r.stdout)
			}
			if m := w.proxy.mutating(); len(m) > 0 {
				t.Errorf("mutating calls: %v", m)
			}
			if reportStatus(readReport(t, out), "s3-bucket-versioning", "arn:aws:s3:::vault") != checks.StatusFail {
				t.Error("the report is not the scan's")
			}
		})
	}
}

// TestFixAppliesOnYesAndVerifies: a confirmed fix on a terminal applies, writes the journal under
// its default name, re-scans, and reports the state after; the object lock precondition failure
// (moto refuses Object Lock on a bucket holding objects) makes the exit 1, with the other changes
// applied and the versions untouched.
func TestFixAppliesOnYesAndVerifies(t *testing.T) {
	w := newFixWorld(t)
	w.suspendedBucket(t, "vault")
	ctx := context.Background()
	if _, err := w.s3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("empty-vault")}); err != nil {
		t.Fatal(err)
	}
	before := versionsOf(t, w, "vault")
	t.Chdir(t.TempDir())

	r := runFixOn(t, true, "y\n", append([]string{"scan", "--fix", "--fix-include", "s3-bucket-object-lock", "--format", "json"}, w.flags()...)...)
	if r.code != exitFindings {
		t.Fatalf("exit %d, want 1 (a change failed); stderr:\n%s", r.code, r.stderr)
	}
	// The JSON report is on stdout, so the plan and the outcome are on stderr.
	for _, want := range []string{"Apply these", "Applying", "failed", "Re-scanning", "Fixed:", "Still failing:"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	var after checks.Report
	if err := json.Unmarshal([]byte(r.stdout), &after); err != nil {
		t.Fatalf("stdout is not the JSON report of the state after: %v", err)
	}
	for _, want := range []struct {
		check, arn string
		status     checks.Status
	}{
		{"s3-bucket-versioning", "arn:aws:s3:::vault", checks.StatusPass},
		{"s3-bucket-object-lock", "arn:aws:s3:::vault", checks.StatusFail},
		{"s3-bucket-object-lock", "arn:aws:s3:::empty-vault", checks.StatusPass},
		{"s3-bucket-public-access-block", "arn:aws:s3:::vault", checks.StatusPass},
		{"s3-account-public-access-block", "arn:aws:iam::123456789012:root", checks.StatusPass},
	} {
		if got := reportStatus(&after, want.check, want.arn); got != want.status {
			t.Errorf("after: %s on %s is %s, want %s", want.check, want.arn, got, want.status)
		}
	}
	journals, _ := filepath.Glob("coffer-fix-*.json")
	if len(journals) != 1 {
		t.Fatalf("journals in the working directory: %v", journals)
	}
	var doc struct {
		Entries []struct{ Check, Outcome, Error string } `json:"entries"`
	}
	data, _ := os.ReadFile(journals[0])
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, e := range doc.Entries {
		if e.Outcome == fix.OutcomeFailed {
			failed++
			if e.Check != "s3-bucket-object-lock" || e.Error == "" {
				t.Errorf("unexpected failure in the journal: %+v", e)
			}
		}
	}
	if failed != 1 || len(doc.Entries) < 5 {
		t.Errorf("journal: %d entries, %d failed:\n%s", len(doc.Entries), failed, data)
	}
	if got := versionsOf(t, w, "vault"); !slices.Equal(before, got) {
		t.Errorf("object versions changed: %v -> %v", before, got)
	}
}

func versionsOf(t *testing.T, w *fixWorld, bucket string) []string {
	t.Helper()
	out, err := w.s3().ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	var v []string
	for _, x := range out.Versions {
		v = append(v, aws.ToString(x.Key)+"@"+aws.ToString(x.VersionId))
	}
	slices.Sort(v)
	return v
}

// TestFixDriftedAccount is the "done when": on the drifted fixture account
// `scan --fix --yes` (every opt-in included) leaves no FAIL it could fix, keeps what was there,
// says what it could not fix, and a second run makes no mutating call at all.
func TestFixDriftedAccount(t *testing.T) {
	w := newFixWorld(t)
	ctx := context.Background()
	if err := seed.Apply(ctx, w.srv.AWSConfig(t, "us-east-1"), seed.Drifted); err != nil {
		t.Fatalf("seed drifted: %v", err)
	}
	cfg := w.writeConfig(t, "fix:\n  kms_key: alias/vault-primary\n  log_bucket: vault-access-logs\n")
	flags := w.flags("us-east-1", "eu-west-1")
	out := filepath.Join(w.dir, "after.json")
	args := append([]string{"scan", "--fix", "--yes", "--fix-include", fix.IncludeAllOptIn, "--config", cfg,
		"--journal", filepath.Join(w.dir, "journal.json"), "--format", "json", "--output", out}, flags...)

	trailBefore := selectorsOf(t, w, "vault-trail")
	w.proxy.reset()
	first := runFix(t, "", args...)
	if first.code != exitFindings {
		t.Fatalf("first run: exit %d, want 1 (manual findings remain); stderr:\n%s", first.code, first.stderr)
	}
	t.Logf("first run: %d mutating calls\n%s", len(w.proxy.mutating()), first.stdout)
	after := readReport(t, out)

	// Every FAIL left that --fix could have applied must be one the plan said it would not fix.
	notFixed := notFixedIn(first.stdout)
	for _, f := range after.Findings {
		if f.Status != checks.StatusFail || f.Remediation.Fix == checks.FixManual {
			continue
		}
		if !notFixed[f.CheckID+" "+f.Resource.ARN] {
			t.Errorf("still failing and not reported as unfixable: %s on %s: %s", f.CheckID, f.Resource.ARN, f.Message)
		}
	}
	// What was there is still there: vault-trail's existing advanced selectors lead its new list.
	trailAfter := selectorsOf(t, w, "vault-trail")
	if len(trailAfter) <= len(trailBefore) || !slices.Equal(trailBefore, trailAfter[:len(trailBefore)]) {
		t.Errorf("vault-trail selectors not merged:\nbefore %v\nafter  %v", trailBefore, trailAfter)
	}

	w.proxy.reset()
	second := runFix(t, "", args...)
	if m := w.proxy.mutating(); len(m) > 0 {
		t.Errorf("second run made mutating calls: %v\n%s", m, second.stdout)
	}
	if !strings.Contains(second.stdout, "Nothing to fix automatically") {
		t.Errorf("second run planned changes:\n%s", second.stdout)
	}
}

// notFixedIn reads "check arn" pairs from the printed plan's "Not fixed" section.
func notFixedIn(plan string) map[string]bool {
	out := map[string]bool{}
	_, section, _ := strings.Cut(plan, "Not fixed")
	for _, line := range strings.Split(section, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 4 && fields[0] == "-" {
			out[fields[2]+" "+fields[3]] = true
		}
	}
	return out
}

func selectorsOf(t *testing.T, w *fixWorld, trail string) []string {
	t.Helper()
	api := awsclient.NewCloudTrail(w.cfg, "us-east-1", awsclient.Options{EndpointURL: w.srv.URL})
	out, err := api.GetEventSelectors(context.Background(), &cloudtrail.GetEventSelectorsInput{TrailName: &trail})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, a := range out.AdvancedEventSelectors {
		b, _ := json.Marshal(a)
		s = append(s, string(b))
	}
	for _, e := range out.EventSelectors {
		b, _ := json.Marshal(e)
		s = append(s, string(b))
	}
	return s
}
