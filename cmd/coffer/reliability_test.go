package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/bench"
	"github.com/coffer-audit/coffer/fixtures/faultproxy"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
	"github.com/coffer-audit/coffer/fixtures/seed"
)

// Reliability and security of scan and collect (DESIGN §9): faults injected between coffer and
// moto, partial permissions, the read-only guarantee, secrets, timeouts and cancellation.

// runApp runs the CLI in-process like runCLI, with ctx and extra SDK middleware on every client.
func runApp(ctx context.Context, t *testing.T, apiOptions []func(*middleware.Stack) error, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, now: time.Now, apiOptions: apiOptions}
	code := a.run(ctx, args)
	return result{code, stdout.String(), stderr.String()}
}

// scanReport runs a JSON scan and returns the report (nil when none was written).
func scanReport(ctx context.Context, t *testing.T, apiOptions []func(*middleware.Stack) error, args ...string) (*checks.Report, result) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	r := runApp(ctx, t, apiOptions, append([]string{"scan", "--format", "json", "--output", out}, args...)...)
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, r
	}
	var report checks.Report
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatalf("report: %v", err)
	}
	return &report, r
}

// mustScan is scanReport for runs that must produce a report.
func mustScan(ctx context.Context, t *testing.T, apiOptions []func(*middleware.Stack) error, args ...string) (*checks.Report, result) {
	t.Helper()
	report, r := scanReport(ctx, t, apiOptions, args...)
	if report == nil {
		t.Fatalf("scan %v wrote no report: exit %d, stderr:\n%s", args, r.code, r.stderr)
	}
	return report, r
}

// withEndpoint replaces the --endpoint-url value in flags.
func withEndpoint(flags []string, url string) []string {
	out := append([]string(nil), flags...)
	for i := range out {
		if out[i] == "--endpoint-url" && i+1 < len(out) {
			out[i+1] = url
		}
	}
	return out
}

// stripEvidence strips what legitimately differs between two scans of the same account: evidence
// carries ages computed from the snapshot's collected_at.
func stripEvidence(fs []checks.Finding) []checks.Finding {
	out := append([]checks.Finding(nil), fs...)
	for i := range out {
		out[i].Evidence = nil
	}
	return out
}

// catalog returns the built-in rules, by id.
func catalog(t *testing.T) map[string]checks.Rule {
	t.Helper()
	r := runCLI(t, "checks", "--format", "json")
	if r.code != 0 {
		t.Fatalf("checks: exit %d: %s", r.code, r.stderr)
	}
	var rules []checks.Rule
	if err := json.Unmarshal([]byte(r.stdout), &rules); err != nil {
		t.Fatal(err)
	}
	out := map[string]checks.Rule{}
	for _, rule := range rules {
		out[rule.ID] = rule
	}
	return out
}

// requiring returns the ids of the checks that need a read of one of services ("kms",
// "cloudtrail", ...), per their METADATA requires.
func requiring(rules map[string]checks.Rule, services ...string) map[string]bool {
	out := map[string]bool{}
	for id, rule := range rules {
		for _, op := range rule.Requires {
			svc, _, _ := strings.Cut(op, ":")
			for _, s := range services {
				if svc == s {
					out[id] = true
				}
			}
		}
	}
	return out
}

// verdicts strips a finding down to its verdict: remediation commands are left out because
// commands that merge several checks' fixes (lifecycle rules, trail selectors) legitimately
// change when another check goes from FAIL to ERROR.
func verdicts(fs []checks.Finding) []checks.Finding {
	out := stripEvidence(fs)
	for i := range out {
		out[i].Remediation.Commands = nil
	}
	return out
}

// byCheck keeps the findings whose check and resource keep accepts.
func byCheck(fs []checks.Finding, keep func(f checks.Finding) bool) []checks.Finding {
	var out []checks.Finding
	for _, f := range fs {
		if keep(f) {
			out = append(out, f)
		}
	}
	return out
}

// TestFaultsDoNotChangeFindings: with throttling (and a mix of faults) on a fraction of all
// requests, the retries absorb them and the findings are exactly those of a clean run.
func TestFaultsDoNotChangeFindings(t *testing.T) {
	srv := motoserver.Shared(t)
	flags, _ := seedScenario(t, srv, seed.Drifted)
	t.Setenv("AWS_MAX_ATTEMPTS", "") // the collector's own budget (5 attempts)
	ctx := context.Background()
	start := time.Now()
	clean, cleanRun := mustScan(ctx, t, nil, flags...)
	cleanTook := time.Since(start)

	tests := []struct {
		name  string
		rules []faultproxy.Rule
		kinds []faultproxy.Kind // must each have been injected at least once
	}{
		{"20% throttling", []faultproxy.Rule{{Kind: faultproxy.Throttle, Rate: 0.2}}, []faultproxy.Kind{faultproxy.Throttle}},
		{"mixed faults", []faultproxy.Rule{
			{Kind: faultproxy.Throttle, Rate: 0.1},
			{Kind: faultproxy.ServerError, Rate: 0.05},
			{Kind: faultproxy.Drop, Rate: 0.05},
			{Kind: faultproxy.Latency, Rate: 0.1, Delay: 50 * time.Millisecond},
		}, []faultproxy.Kind{faultproxy.Throttle, faultproxy.ServerError, faultproxy.Drop, faultproxy.Latency}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Sparing the last attempt keeps the test from failing on an unlucky streak of
			// faults; every earlier attempt of every call is exposed to them.
			p := faultproxy.Start(t, srv.URL, faultproxy.Options{Seed: 20, Rules: tc.rules, SpareLastAttempt: true})
			start := time.Now()
			got, r := mustScan(ctx, t, nil, withEndpoint(flags, p.URL)...)
			t.Logf("%s: %s (clean %s); %s", tc.name, time.Since(start).Round(time.Millisecond), cleanTook.Round(time.Millisecond), p)
			for _, k := range tc.kinds {
				if p.Faults(k) == 0 {
					t.Errorf("no %s fault was injected: the test proves nothing", k)
				}
			}
			// Requests run concurrently, so which ones draw a fault varies from run to run; a
			// service with a handful of calls may escape. S3 (about a hundred calls) and at least one
			// other service must not.
			hit := 0
			for svc, st := range p.Stats() {
				faults := 0
				for _, n := range st.Faults {
					faults += n
				}
				if faults > 0 {
					hit++
				} else if svc == "s3" {
					t.Errorf("no fault hit s3 (%+v)", st)
				}
			}
			if hit < 2 {
				t.Errorf("faults hit %d services, want at least 2: %s", hit, p)
			}
			if r.code != cleanRun.code {
				t.Errorf("exit %d, clean run %d; stderr:\n%s", r.code, cleanRun.code, r.stderr)
			}
			if diff := cmp.Diff(stripEvidence(clean.Findings), stripEvidence(got.Findings)); diff != "" {
				t.Errorf("findings differ from the clean run (-clean +faulty):\n%s", diff)
			}
		})
	}
}

// TestServiceDownOnlyItsChecksError: when every request to one service fails, the checks that
// need that service are ERROR naming the operation and the error code, and every other check gives
// exactly the clean run's findings.
func TestServiceDownOnlyItsChecksError(t *testing.T) {
	srv := motoserver.Shared(t)
	flags, _ := seedScenario(t, srv, seed.Drifted)
	t.Setenv("AWS_MAX_ATTEMPTS", "2") // keep the doomed retries short
	ctx := context.Background()
	clean, _ := mustScan(ctx, t, nil, flags...)
	rules := catalog(t)

	tests := []struct {
		service string // proxy service and requires prefix
		rule    faultproxy.Rule
		code    string
		extra   []string
		// roleLost are buckets whose role is inferred from the failing service (DESIGN §3: a trail
		// destination is trail-logs). Without it they are judged as primary, so their findings
		// in other checks change; coffer.yaml cannot pin the trail-logs role (known gap).
		roleLost []string
		// hungID, for a service that never answers, is its SDK service id: only its calls keep
		// their deadlines.
		hungID string
	}{
		{"kms", faultproxy.Rule{Kind: faultproxy.Throttle}, "ThrottlingException", nil, nil, ""},
		{"cloudtrail", faultproxy.Rule{Kind: faultproxy.ServerError}, "InternalFailure", nil, []string{"arn:aws:s3:::vault-trail-logs"}, ""},
		{"iam", faultproxy.Rule{Kind: faultproxy.Throttle}, "Throttling", nil, nil, ""},
		{"s3control", faultproxy.Rule{Kind: faultproxy.ServerError}, "InternalError", nil, nil, ""},
		{"s3", faultproxy.Rule{Kind: faultproxy.Throttle}, "SlowDown", nil, nil, ""},
		// A service that never answers: the proxy holds every KMS request until coffer gives up,
		// so each KMS call ends at --call-timeout whatever the machine's speed. coffer gives every
		// call that timeout; a healthy call reaches 1s too on a loaded machine (IAM's 5 MB answer
		// takes over 10 s under -race there), so the other services' calls are lifted from their
		// deadlines and KMS is the only service whose calls can time out.
		{"kms", faultproxy.Rule{Kind: faultproxy.Latency, Delay: time.Hour}, "Timeout", []string{"--call-timeout", "1s"}, nil, "KMS"},
	}
	for _, tc := range tests {
		t.Run(tc.service+"/"+tc.code, func(t *testing.T) {
			tc.rule.Service, tc.rule.Rate = tc.service, 1
			p := faultproxy.Start(t, srv.URL, faultproxy.Options{Seed: 1, Rules: []faultproxy.Rule{tc.rule}})
			var apiOptions []func(*middleware.Stack) error
			if tc.hungID != "" {
				// Minutes: only a healthy call that really hangs gets there, and then it fails the
				// test as an ERROR it should not have.
				root, cancel := context.WithTimeout(ctx, 5*time.Minute)
				defer cancel()
				apiOptions = append(apiOptions, faultproxy.LiftDeadlines(root, func(id string) bool { return id != tc.hungID }))
			}
			start := time.Now()
			got, r := mustScan(ctx, t, apiOptions, append(withEndpoint(flags, p.URL), tc.extra...)...)
			t.Logf("%s down: exit %d in %s; %s", tc.service, r.code, time.Since(start).Round(time.Millisecond), p)
			if r.code != exitFindings {
				t.Errorf("exit %d, want 1 (the drifted account still fails elsewhere)", r.code)
			}
			affected := requiring(rules, tc.service)
			if len(affected) == 0 {
				t.Fatalf("no check requires %s", tc.service)
			}
			opRE := regexp.MustCompile(regexp.QuoteMeta(tc.service) + `:[A-Z][A-Za-z]+ failed.*\(` + tc.code + `: `)
			errored := map[string]bool{}
			for _, f := range got.Findings {
				if f.Status != checks.StatusError {
					continue
				}
				if !affected[f.CheckID] {
					t.Errorf("%s is ERROR although it needs no %s read: %s", f.CheckID, tc.service, f.Message)
				}
				if !opRE.MatchString(f.Message) {
					t.Errorf("%s ERROR message does not name the %s operation and %s: %s", f.CheckID, tc.service, tc.code, f.Message)
				}
				errored[f.CheckID] = true
			}
			for id := range affected {
				if !errored[id] {
					t.Errorf("%s needs %s but has no ERROR finding", id, tc.service)
				}
			}
			unaffected := func(f checks.Finding) bool { return !affected[f.CheckID] && !contains(tc.roleLost, f.Resource.ARN) }
			if diff := cmp.Diff(verdicts(byCheck(clean.Findings, unaffected)), verdicts(byCheck(got.Findings, unaffected))); diff != "" {
				t.Errorf("checks that do not need %s changed (-clean +%s down):\n%s", tc.service, tc.service, diff)
			}
		})
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// firstCall returns SDK middleware that records when the first AWS call of a run starts, and a
// function returning that time (zero before). The --timeout clock starts just before that call;
// everything before it (policy compilation takes seconds under -race on a loaded machine) is not
// the collection's time.
func firstCall() (func(*middleware.Stack) error, func() time.Time) {
	var at atomic.Pointer[time.Time]
	option := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("TestFirstCall",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				now := time.Now()
				at.CompareAndSwap(nil, &now)
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
	return option, func() time.Time {
		if p := at.Load(); p != nil {
			return *p
		}
		return time.Time{}
	}
}

// TestDeadEndpointExits2WithinTimeout: an endpoint that refuses connections, one that never
// answers, and one that answers STS and then hangs all end in exit 2 within --timeout, writing
// nothing.
func TestDeadEndpointExits2WithinTimeout(t *testing.T) {
	srv := motoserver.Shared(t)
	flags, _ := seedScenario(t, srv, seed.Compliant)
	var hangAfterIdentity []faultproxy.Rule
	for _, svc := range []string{"s3", "s3control", "iam", "kms", "cloudtrail"} {
		hangAfterIdentity = append(hangAfterIdentity, faultproxy.Rule{Service: svc, Kind: faultproxy.Latency, Rate: 1, Delay: time.Hour})
	}
	tests := []struct {
		name     string
		endpoint func(t *testing.T) string
		want     string
	}{
		{"connection refused", func(t *testing.T) string { return "http://" + closedPort(t) }, "get caller identity"},
		{"never answers", func(t *testing.T) string {
			return faultproxy.Start(t, srv.URL, faultproxy.Options{Rules: faultproxy.Blackhole()}).URL
		}, "did not finish within --timeout 3s"},
		{"hangs after identity", func(t *testing.T) string {
			return faultproxy.Start(t, srv.URL, faultproxy.Options{Rules: hangAfterIdentity}).URL
		}, "did not finish within --timeout 3s"},
	}
	const timeout = 3 * time.Second
	// giveUpBy separates "stopped by --timeout" from the next thing that could stop the run: the
	// identity probe's own deadline (15 s, collect.identityProbeTimeout), then --call-timeout
	// (minutes) or nothing. A run stopped by any of those takes at least 15 s on any machine; one
	// stopped by --timeout takes 3 s plus the time to unwind, which is milliseconds.
	const giveUpBy = 12 * time.Second
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "report.json")
			started, startedAt := firstCall()
			r := runApp(context.Background(), t, []func(*middleware.Stack) error{started},
				append([]string{"scan", "--format", "json", "--output", out, "--timeout", timeout.String()}, withEndpoint(flags, tc.endpoint(t))...)...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			// The refused endpoint's message also proves that it ended before --timeout: the run
			// would otherwise say it did not finish within --timeout.
			if at := startedAt(); at.IsZero() {
				t.Error("no AWS call was made")
			} else if took := time.Since(at); took >= giveUpBy {
				t.Errorf("took %s from the first call with --timeout %s: something other than --timeout stopped the run", took, timeout)
			} else {
				t.Logf("stopped %s after the first call", took.Round(time.Millisecond))
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, r.stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a failed run left files: %v", entries)
			}
		})
	}
}

// TestInterruptExits130AndWritesNothing cancels the context (what Ctrl-C does through
// signal.NotifyContext) while calls are in flight: coffer must stop promptly with exit 130 and
// leave no snapshot, report or temporary file behind.
func TestInterruptExits130AndWritesNothing(t *testing.T) {
	srv := motoserver.Shared(t)
	flags, _ := seedScenario(t, srv, seed.Drifted)
	tests := []struct {
		name string
		args func(dir string) []string
	}{
		{"collect", func(dir string) []string { return []string{"collect", "-o", filepath.Join(dir, "snap.json")} }},
		{"scan", func(dir string) []string {
			return []string{"scan", "--format", "json", "--output", filepath.Join(dir, "report.json"), "--format", "sarif=" + filepath.Join(dir, "r.sarif")}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var seen atomic.Int32
			var proxy atomic.Pointer[faultproxy.Proxy]
			var interruptedAt atomic.Pointer[time.Time]
			p := faultproxy.Start(t, srv.URL, faultproxy.Options{
				Rules: []faultproxy.Rule{{Kind: faultproxy.Latency, Rate: 1, Delay: 200 * time.Millisecond}},
				// Interrupt once the collection is well under way (identity done, S3 and IAM
				// calls in flight). From then on the endpoint answers nothing: a coffer that
				// kept working after the interrupt would wait for --call-timeout (minutes)
				// instead of stopping, which no machine is slow enough to mistake for prompt.
				OnRequest: func(string) {
					if seen.Add(1) == 12 {
						if err := proxy.Load().SetRules(faultproxy.Blackhole()); err != nil {
							t.Error(err)
						}
						now := time.Now()
						interruptedAt.Store(&now)
						cancel()
					}
				},
			})
			proxy.Store(p)
			dir := t.TempDir()
			r := runApp(ctx, t, nil, append(tc.args(dir), withEndpoint(flags, p.URL)...)...)
			if r.code != exitInterrupted {
				t.Errorf("exit %d, want 130; stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "interrupted; nothing was written") {
				t.Errorf("stderr:\n%s", r.stderr)
			}
			if n := seen.Load(); n < 12 {
				t.Errorf("only %d requests before the end: the interrupt did not happen mid-collection", n)
			}
			// Measured from the interrupt, not from the start: the policy compilation before the
			// collection takes seconds on a loaded machine. Stopping takes milliseconds; the
			// bound only has to stay below --call-timeout.
			if at := interruptedAt.Load(); at != nil {
				if took := time.Since(*at); took > time.Minute {
					t.Errorf("took %s to stop after the interrupt", took)
				} else {
					t.Logf("stopped %s after the interrupt", took.Round(time.Millisecond))
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("an interrupted run left files: %v", entries)
			}
			if r.stdout != "" {
				t.Errorf("an interrupted run wrote to stdout: %q", r.stdout)
			}
		})
	}
}

// largeSnapshotBuckets makes bench.LargeSnapshot about 50 MB of JSON (about 3.8 KB a bucket).
const largeSnapshotBuckets = 13200

// BenchmarkScanLargeSnapshot evaluates a 50 MB snapshot through the CLI, as
// `coffer scan --snapshot big.json --format json` does: parsing, role and input conversion, every
// check, the JSON report. MB-sys is the memory the Go runtime obtained from the OS, an upper bound
// of the peak heap; the process's peak RSS is measured with /usr/bin/time -v on the binary.
func BenchmarkScanLargeSnapshot(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "big.json")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := checks.WriteSnapshot(f, bench.LargeSnapshot(largeSnapshotBuckets)); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	if st.Size() < 45<<20 {
		b.Fatalf("snapshot is %d bytes, want about 50 MB", st.Size())
	}
	runtime.GC()
	out := filepath.Join(dir, "report.json")
	for b.Loop() {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"scan", "--snapshot", path, "--format", "json", "--output", out}, strings.NewReader(""), &stdout, &stderr)
		if code == exitUsage {
			b.Fatalf("scan: exit 2: %s", stderr.String())
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(st.Size())/(1<<20), "MB-snapshot")
	b.ReportMetric(float64(ms.Sys)/(1<<20), "MB-sys")
}

// TestScanAndCollectOnlyRead records every operation `coffer collect` and `coffer scan` make on an
// account with every kind of resource, in two regions, and fails on anything but a read.
func TestScanAndCollectOnlyRead(t *testing.T) {
	srv := motoserver.Shared(t)
	flags, _ := seedScenario(t, srv, seed.Drifted)
	ctx := context.Background()
	for _, cmd := range [][]string{
		{"collect", "-o", filepath.Join(t.TempDir(), "snap.json")},
		{"scan", "--format", "json", "--output", filepath.Join(t.TempDir(), "report.json")},
	} {
		t.Run(cmd[0], func(t *testing.T) {
			rec := &motoserver.Recorder{}
			r := runApp(ctx, t, []func(*middleware.Stack) error{rec.Option}, append(cmd, flags...)...)
			if r.code == exitUsage {
				t.Fatalf("exit 2: %s", r.stderr)
			}
			ops := rec.Operations()
			for _, must := range []string{"STS:GetCallerIdentity", "S3:ListBuckets", "S3:GetBucketPolicy", "S3 Control:GetPublicAccessBlock",
				"IAM:GetAccountAuthorizationDetails", "KMS:GetKeyPolicy", "CloudTrail:GetEventSelectors"} {
				if !contains(ops, must) {
					t.Errorf("%s not recorded: the recorder does not see every client (%v)", must, ops)
				}
			}
			for _, op := range ops {
				if !motoserver.ReadOnly(op) {
					t.Errorf("%s called a mutating operation: %s", cmd[0], op)
				}
			}
			t.Logf("%s: %d operations: %v", cmd[0], len(ops), ops)
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// partialConfig waives moto's two unavoidable FAILs in the compliant account, so that the only
// thing between the scan and exit 0 is what the scanner may not read. The trail bucket is ignored:
// its trail-logs role is inferred from CloudTrail (DESIGN §3), which the scanner cannot read, and
// coffer.yaml cannot pin that role, so it would be judged as a primary backup bucket.
const partialConfig = `buckets:
  ignore: [vault-trail-logs]
waivers:
  - check: iam-root-mfa
    resource: "arn:aws:iam::123456789012:root"
    reason: moto always reports AccountMFAEnabled=0
    expires: "2099-01-01"
  - check: s3-bucket-replication
    resource: "*"
    reason: moto drops SourceSelectionCriteria from GetBucketReplication
    expires: "2099-01-01"
`

// scannerPolicy lets the scanner read S3 and IAM but not KMS or CloudTrail. It uses wildcards, not
// docs/iam/coffer-scan-policy.json: moto authorizes some S3 calls under other action names than
// AWS does (GetBucketEncryption as s3:GetBucketEncryption, not s3:GetEncryptionConfiguration).
const scannerPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*",` +
	`"s3control:Get*","iam:Get*","iam:List*","iam:GenerateCredentialReport","sts:GetCallerIdentity"],"Resource":"*"}]}`

// TestPartialPermissions scans as a read-only user denied KMS and CloudTrail, with moto enforcing
// IAM: exactly the checks that need a KMS or CloudTrail read are ERROR, naming the operation and
// AccessDenied; every other check gives what a fully permitted scan gives; nothing FAILs, so the
// exit code is 3.
func TestPartialPermissions(t *testing.T) {
	srv := motoserver.Shared(t)
	flags, _ := seedScenario(t, srv, seed.Compliant)
	ctx := context.Background()
	cfg := srv.AWSConfig(t, "us-east-1")
	ic := iam.NewFromConfig(cfg)

	// The scanner gets its policy through a group (users with direct policies fail
	// iam-no-user-policies) and an MFA device (iam-user-mfa), so it adds no FAIL of its own.
	steps := []func() error{
		func() error {
			_, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("coffer-scan-no-kms-trail"), PolicyDocument: aws.String(scannerPolicy)})
			return err
		},
		func() error {
			_, err := ic.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("auditors")})
			return err
		},
		func() error {
			_, err := ic.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("auditors"),
				PolicyArn: aws.String("arn:aws:iam::123456789012:policy/coffer-scan-no-kms-trail")})
			return err
		},
		func() error {
			_, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("scanner")})
			return err
		},
		func() error {
			_, err := ic.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("auditors"), UserName: aws.String("scanner")})
			return err
		},
		func() error {
			dev, err := ic.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("scanner")})
			if err != nil {
				return err
			}
			_, err = ic.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("scanner"), SerialNumber: dev.VirtualMFADevice.SerialNumber,
				AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("set up the scanner (step %d): %v", i, err)
		}
	}
	key, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("scanner")})
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "coffer.yaml")
	if err := os.WriteFile(cfgFile, []byte(partialConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	flags = append(flags, "--config", cfgFile)

	full, fullRun := mustScan(ctx, t, nil, flags...)
	if fullRun.code != exitOK {
		t.Fatalf("the fully permitted scan exits %d, want 0; failing: %v", fullRun.code, failing(full))
	}

	srv.EnforceAuth(t)
	t.Setenv("AWS_ACCESS_KEY_ID", *key.AccessKey.AccessKeyId)
	t.Setenv("AWS_SECRET_ACCESS_KEY", *key.AccessKey.SecretAccessKey)
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	got, r := mustScan(ctx, t, nil, flags...)
	if r.code != exitIncomplete {
		t.Errorf("exit %d, want 3 (ERROR findings, no FAIL); stderr:\n%s", r.code, r.stderr)
	}

	affected := requiring(catalog(t), "kms", "cloudtrail")
	for _, id := range catalogIDs {
		if (strings.HasPrefix(id, "kms-") || strings.HasPrefix(id, "cloudtrail-")) && !affected[id] {
			t.Errorf("%s does not list a kms or cloudtrail read in requires", id)
		}
	}
	opRE := regexp.MustCompile(`(kms|cloudtrail):[A-Z][A-Za-z]+ failed.*\(AccessDenied: `)
	errored := map[string]bool{}
	for _, f := range got.Findings {
		switch {
		case f.Status == checks.StatusError && !affected[f.CheckID]:
			t.Errorf("%s is ERROR although it needs no KMS or CloudTrail read: %s", f.CheckID, f.Message)
		case f.Status == checks.StatusError:
			errored[f.CheckID] = true
			if !opRE.MatchString(f.Message) {
				t.Errorf("%s ERROR does not name the denied operation and AccessDenied: %s", f.CheckID, f.Message)
			}
		case f.Status == checks.StatusFail:
			t.Errorf("%s FAILs on %s: %s", f.CheckID, f.Resource.ARN, f.Message)
		}
	}
	var missing []string
	for id := range affected {
		if !errored[id] {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("checks needing KMS or CloudTrail without an ERROR finding: %v", missing)
	}
	unaffected := func(f checks.Finding) bool { return !affected[f.CheckID] }
	if diff := cmp.Diff(verdicts(byCheck(full.Findings, unaffected)), verdicts(byCheck(got.Findings, unaffected))); diff != "" {
		t.Errorf("checks not needing KMS or CloudTrail differ from the fully permitted scan (-full +partial):\n%s", diff)
	}
}

// TestFailedListingMakesEveryVerdictError: when an account-wide read fails (here the trail
// listing), no check that needs it may PASS or FAIL on what little it saw: "no trail found" is not
// "no trail".
func TestFailedListingMakesEveryVerdictError(t *testing.T) {
	snap := writeSnapshot(t, func(s *checks.Snapshot) {
		s.Errors = append(s.Errors, checks.CollectError{Service: "cloudtrail", Operation: "DescribeTrails", Region: "us-east-1", Code: "AccessDenied", Message: "not allowed"})
	})
	report, r := mustScan(context.Background(), t, nil, "--snapshot", snap)
	if r.code != exitFindings {
		t.Errorf("exit %d, want 1 (versioning still fails)", r.code)
	}
	needsTrails := requiring(catalog(t), "cloudtrail")
	seen := map[string]bool{}
	for _, f := range report.Findings {
		if !needsTrails[f.CheckID] {
			continue
		}
		seen[f.CheckID] = true
		if f.Status != checks.StatusError || !strings.Contains(f.Message, "cloudtrail:DescribeTrails failed in us-east-1 (AccessDenied: not allowed)") {
			t.Errorf("%s on %s: %s %q, want ERROR naming the failed listing", f.CheckID, f.Resource.ARN, f.Status, f.Message)
		}
	}
	for id := range needsTrails {
		if !seen[id] {
			t.Errorf("%s has no finding", id)
		}
	}
}

// TestMalformedInputNamesFileAndPosition complements TestScanBadInputExit2AndWriteNothing with the
// exact position and a clean message for each kind of hostile input, and checks that nothing is
// written anywhere (no report, no temporary file, nothing on stdout).
func TestMalformedInputNamesFileAndPosition(t *testing.T) {
	in := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(in, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := writeSnapshot(t, nil)
	syntax := write("syntax.json", "{\n  \"schema_version\": \"1\",\n  \"account\": {\"id\": \"1\",,}\n}\n")
	trailing := write("trailing.json", `{"schema_version":"1","account":{"id":"123456789012"}}`+"\n{}\n")
	badType := write("types.yaml", "params:\n  archive_after_days: 14\n  object_lock_min_days: [30]\n")
	badYAML := write("syntax.yaml", "buckets:\n  primary: [vault\nparams: {}\n")
	regoDir := filepath.Join(in, "rego")
	if err := os.Mkdir(regoDir, 0o700); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join("rego", "mine.rego"), "package mine\n\nimport rego.v1\n\ndeny contains msg if {\n\tmsg := input.x +\n}\n")

	tests := []struct {
		name string
		args []string
		want *regexp.Regexp
	}{
		{"snapshot syntax", []string{"--snapshot", syntax}, regexp.MustCompile(`syntax\.json:3:\d+: invalid character ','`)},
		{"snapshot trailing data", []string{"--snapshot", trailing}, regexp.MustCompile(`trailing\.json:2:\d+: `)},
		{"config type", []string{"--snapshot", good, "--config", badType}, regexp.MustCompile(`types\.yaml:3: cannot unmarshal !!seq into int\n`)},
		{"config syntax", []string{"--snapshot", good, "--config", badYAML}, regexp.MustCompile(`syntax\.yaml:\d+: [a-z]`)},
		{"rego syntax", []string{"--snapshot", good, "--policy-dir", regoDir}, regexp.MustCompile(`mine\.rego:[67]`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			r := runCLI(t, append([]string{"scan", "--format", "json", "--output", filepath.Join(out, "r.json"), "--format", "sarif=" + filepath.Join(out, "r.sarif")}, tc.args...)...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want 2", r.code)
			}
			if !tc.want.MatchString(r.stderr) {
				t.Errorf("stderr does not match %s:\n%s", tc.want, r.stderr)
			}
			if strings.Contains(r.stderr, ": :") {
				t.Errorf("garbled message: %s", r.stderr)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 || r.stdout != "" {
				t.Errorf("a failed run wrote %v and stdout %q", entries, r.stdout)
			}
		})
	}
}

// Distinctive fake credentials: moto accepts any when auth is not enforced, so a leak of any of
// them anywhere is unmistakable.
const (
	leakKeyID  = "AKIACOFFERLEAKTEST42"
	leakSecret = "cofferLeakSecret/0123456789abcdefghijABCDEFGHIJ+xyz"
	leakToken  = "cofferLeakSessionToken/IQoJb3JpZ2luX2VjEXAMPLEsessionTOKEN+zzz"
)

// TestSecretsNeverLeak runs collect and scan (with --debug, in every format) with distinctive
// credentials and looks for them in stdout, stderr and every file written. The access key id may
// appear only redacted.
func TestSecretsNeverLeak(t *testing.T) {
	srv := motoserver.Shared(t)
	flags, _ := seedScenario(t, srv, seed.Drifted)
	t.Setenv("AWS_ACCESS_KEY_ID", leakKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", leakSecret)
	t.Setenv("AWS_SESSION_TOKEN", leakToken)
	dir := t.TempDir()
	snap := filepath.Join(dir, "snap.json")
	runs := [][]string{
		append([]string{"collect", "--debug", "-o", snap}, flags...),
		append([]string{"collect", "--debug"}, flags...), // snapshot on stdout
		append([]string{"scan", "--debug", "--format", "json=" + filepath.Join(dir, "r.json"), "--format", "sarif=" + filepath.Join(dir, "r.sarif"),
			"--format", "markdown=" + filepath.Join(dir, "r.md"), "--format", "table"}, flags...),
		{"scan", "--snapshot", snap, "--format", "json"},
	}
	var outputs []string
	for _, args := range runs {
		r := runApp(context.Background(), t, nil, args...)
		if r.code == exitUsage {
			t.Fatalf("%v: exit 2: %s", args, r.stderr)
		}
		outputs = append(outputs, r.stdout, r.stderr)
		if contains(args, "--debug") {
			if !strings.Contains(r.stderr, "key=AKIA****") || !strings.Contains(r.stderr, "GetCallerIdentity region=us-east-1 status=200") {
				t.Errorf("%s --debug logged no redacted calls:\n%.2000s", args[0], r.stderr)
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) < 4 {
		t.Fatalf("only %d files written: %v", len(entries), entries)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(data))
	}
	for i, out := range outputs {
		for name, secret := range map[string]string{"access key id": leakKeyID, "secret access key": leakSecret, "session token": leakToken,
			"part of the secret": leakSecret[:20], "part of the token": leakToken[:20]} {
			if strings.Contains(out, secret) {
				t.Errorf("output %d contains the %s", i, name)
			}
		}
	}
}

func TestRedactAccessKeyIDs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"key=AKIAIOSFODNN7EXAMPLE", "key=AKIA****"},
		{"temporary ASIAY34FZKBOKMUTVV7A used", "temporary ASIA**** used"},
		{"The Access Key with id AKIAIOSFODNN7EXAMPLE cannot be found; nor ASIAXXXXXXXXXXXXXXXX.", "The Access Key with id AKIA**** cannot be found; nor ASIA****."},
		{"arn:aws:iam::123456789012:user/AKIA", "arn:aws:iam::123456789012:user/AKIA"}, // too short to be a key id
		{"AIDAEXAMPLEUSERID1234 is a user id, not a secret", "AIDAEXAMPLEUSERID1234 is a user id, not a secret"},
	}
	for _, tc := range tests {
		if got := awsclient.RedactAccessKeyIDs(tc.in); got != tc.want {
			t.Errorf("RedactAccessKeyIDs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDebugLogsCallsRedacted: --debug logs one line per call with service, operation, region,
// status, attempts and duration, failed calls with their error code, and never a full key id.
func TestDebugLogsCallsRedacted(t *testing.T) {
	srv := motoserver.Shared(t)
	flags, _ := seedScenario(t, srv, seed.Compliant)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
	p := faultproxy.Start(t, srv.URL, faultproxy.Options{Rules: []faultproxy.Rule{{Service: "kms", Kind: faultproxy.Throttle, Rate: 1}}})
	r := runCLI(t, append([]string{"collect", "--debug", "-o", filepath.Join(t.TempDir(), "s.json")}, withEndpoint(flags, p.URL)...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lineRE := regexp.MustCompile(`(?m)^coffer: debug: (S3|S3 Control|IAM|STS|KMS|CloudTrail) [A-Z][A-Za-z]+ region=[a-z0-9-]+ status=(\d{3}|-) attempts=\d+ duration=\S+ key=AKIA\*\*\*\*( error=.*)?$`)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) < 20 {
		t.Fatalf("only %d debug lines:\n%s", len(lines), r.stderr)
	}
	for _, l := range lines {
		if !lineRE.MatchString(l) {
			t.Errorf("unexpected debug line: %s", l)
		}
	}
	for _, want := range []string{
		"S3 GetBucketVersioning region=us-east-1 status=200 attempts=1",
		"S3 Control GetPublicAccessBlock region=us-east-1 status=",
		"KMS ListKeys region=eu-west-1 status=400 attempts=2",
		"error=ThrottlingException: Rate exceeded",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("debug log lacks %q", want)
		}
	}
	if strings.Contains(r.stderr, "AKIAIOSFODNN7EXAMPLE") {
		t.Error("the debug log shows the full access key id")
	}
	quiet := runCLI(t, append([]string{"collect", "-o", filepath.Join(t.TempDir(), "s.json")}, flags...)...)
	if quiet.code != 0 || quiet.stderr != "" {
		t.Errorf("without --debug: exit %d, stderr %q", quiet.code, quiet.stderr)
	}
}

// TestSDKLoggerSilentUnlessDebug: with no credentials the SDK falls back to IMDS and its default
// logger warns on stderr ("SDK … WARN falling back to IMDSv1"). coffer's stderr must carry only
// its own message, unless --debug asks for the SDK's.
func TestSDKLoggerSilentUnlessDebug(t *testing.T) {
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden) // token and metadata refused: IMDSv1 fallback, then no role
	}))
	defer imds.Close()
	empty := filepath.Join(t.TempDir(), "none")
	for name, value := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_WEB_IDENTITY_TOKEN_FILE": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.URL, "AWS_ENDPOINT_URL": "",
		"AWS_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1",
	} {
		t.Setenv(name, value)
	}
	tests := []struct {
		debug bool
		want  *regexp.Regexp
	}{
		{false, regexp.MustCompile(`^coffer: collect: get caller identity from AWS [^\n]*\n$`)},
		{true, regexp.MustCompile(`(?m)^coffer: debug: SDK WARN falling back to IMDSv1`)},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("debug=%v", tc.debug), func(t *testing.T) {
			args := []string{"collect", "--timeout", "20s"}
			if tc.debug {
				args = append(args, "--debug")
			}
			// The SDK's default logger writes to os.Stderr, not to the writer coffer is given:
			// capture the process's stderr to catch it.
			r, captured := captureStderr(t, func() result { return runCLI(t, args...) })
			if r.code != exitUsage {
				t.Errorf("exit %d, want 2", r.code)
			}
			if !tc.want.MatchString(r.stderr) {
				t.Errorf("stderr does not match %s:\n%s", tc.want, r.stderr)
			}
			if captured != "" {
				t.Errorf("something wrote to the process's stderr: %q", captured)
			}
		})
	}
}

// captureStderr runs fn with os.Stderr redirected to a pipe and returns what was written there.
func captureStderr(t *testing.T, fn func() result) (result, string) {
	t.Helper()
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	orig := os.Stderr
	os.Stderr = wr
	done := make(chan string)
	go func() {
		var b bytes.Buffer
		_, _ = b.ReadFrom(rd)
		done <- b.String()
	}()
	defer func() { os.Stderr = orig }()
	r := fn()
	os.Stderr = orig
	wr.Close()
	return r, <-done
}
