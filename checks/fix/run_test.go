package fix_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/fix"
)

// The fix.Run tests drive the control flow with injected fakes: a hand-made report with one
// versioning failure, a fake S3 and fake re-collection and evaluation. The moto tests of
// cmd/coffer cover the same flow against an emulated account.

const runBucketARN = "arn:aws:s3:::vault"

func runFinding(status checks.Status) checks.Finding {
	return checks.Finding{
		CheckID: "s3-bucket-versioning", Title: "Backup buckets have versioning enabled", Severity: checks.SeverityHigh, Status: status,
		Resource:    checks.Resource{ARN: runBucketARN, Type: "AWS::S3::Bucket", Name: "vault", Region: "us-east-1", Role: "primary"},
		Message:     "Bucket vault does not have versioning enabled.",
		Remediation: checks.Remediation{Summary: "Enable versioning.", Fix: checks.FixAuto, Commands: []string{"aws s3api put-bucket-versioning --bucket vault --versioning-configuration Status=Enabled"}},
	}
}

func runReport(fs ...checks.Finding) *checks.Report {
	r := &checks.Report{SchemaVersion: checks.ReportSchemaVersion, AccountID: account,
		Rules:    []checks.Rule{{ID: "s3-bucket-versioning", Severity: checks.SeverityHigh, Remediation: checks.RuleRemediation{Fix: checks.FixAuto}}},
		Findings: fs}
	r.Summarize()
	return r
}

func runSnapshot(acct string) *checks.Snapshot {
	return &checks.Snapshot{
		SchemaVersion: checks.SnapshotSchemaVersion,
		Account:       checks.Account{ID: acct, Partition: "aws", HomeRegion: "us-east-1"},
		S3: checks.S3{Buckets: []checks.Bucket{{Name: "vault", ARN: runBucketARN, Region: "us-east-1",
			Versioning: &checks.Versioning{Status: "Suspended"}}}},
	}
}

// versioningS3 is a bucket with versioning suspended; PutBucketVersioning fails with putErr, or
// calls onPut.
type versioningS3 struct {
	fix.S3API
	puts   int
	putErr error
	onPut  func()
}

func (f *versioningS3) GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	return &s3.GetBucketVersioningOutput{Status: s3types.BucketVersioningStatusSuspended}, nil
}

func (f *versioningS3) PutBucketVersioning(context.Context, *s3.PutBucketVersioningInput, ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error) {
	f.puts++
	if f.onPut != nil {
		f.onPut()
	}
	return &s3.PutBucketVersioningOutput{}, f.putErr
}

// runWorld records what a fix run asked of its dependencies.
type runWorld struct {
	s3                                *versioningS3
	confirmed, built, collected, eval int
	journal                           string
	answer                            bool
	confirmErr, clientsErr            error
	recollectErr, evalErr             error
	after                             *checks.Report
	afterAccount                      string
}

func newRunWorld(t *testing.T) *runWorld {
	return &runWorld{
		s3: &versioningS3{}, answer: true, afterAccount: account,
		journal: filepath.Join(t.TempDir(), "journal.json"),
		after:   runReport(runFinding(checks.StatusPass)),
	}
}

func (w *runWorld) options(out *bytes.Buffer) fix.RunOptions {
	return fix.RunOptions{
		Confirm:     func(context.Context, *fix.Plan) (bool, error) { w.confirmed++; return w.answer, w.confirmErr },
		JournalPath: w.journal,
		Now:         func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) },
		Out:         out,
		Clients: func(context.Context) (*fix.Clients, error) {
			w.built++
			return &fix.Clients{S3: func(string) fix.S3API { return w.s3 }, HomeRegion: "us-east-1"}, w.clientsErr
		},
		Recollect: func(context.Context) (*checks.Snapshot, error) {
			w.collected++
			if w.recollectErr != nil {
				return nil, w.recollectErr
			}
			return runSnapshot(w.afterAccount), nil
		},
		Evaluate: func(_ context.Context, snap *checks.Snapshot) (*checks.Report, error) {
			w.eval++
			if snap.Account.ID != w.afterAccount {
				return nil, errors.New("evaluated a snapshot that is not the re-collected one")
			}
			return w.after, w.evalErr
		},
	}
}

func TestRunControlFlow(t *testing.T) {
	boom := errors.New("boom")
	failing := runReport(runFinding(checks.StatusFail))
	tests := []struct {
		name    string
		report  *checks.Report
		cfg     *checks.Config
		setup   func(w *runWorld, o *fix.RunOptions, cancel context.CancelFunc)
		outcome fix.RunOutcome // "" when the run ends in an error
		wantErr string
		errIs   error
		// what the run must have asked for: confirmation, clients, re-collection, evaluation, writes
		confirmed, built, collected, eval, puts int
		journal                                 bool
		code                                    int // ExitCode(LOW) of the result
		out                                     []string
	}{
		{name: "dry run", report: failing, setup: func(_ *runWorld, o *fix.RunOptions, _ context.CancelFunc) { o.DryRun = true },
			outcome: fix.RunDryRun, code: 1, out: []string{"Fix plan for account 123456789012: 1 change", "Dry run: nothing was changed."}},
		{name: "nothing to fix", report: runReport(runFinding(checks.StatusPass)),
			outcome: fix.RunNothingToFix, code: 0, out: []string{"0 changes", "Nothing to fix automatically."}},
		{name: "declined", report: failing, setup: func(w *runWorld, _ *fix.RunOptions, _ context.CancelFunc) { w.answer = false },
			outcome: fix.RunDeclined, confirmed: 1, code: 1, out: []string{"Not applied: nothing was changed."}},
		{name: "cannot ask", report: failing, setup: func(w *runWorld, _ *fix.RunOptions, _ context.CancelFunc) { w.confirmErr = boom },
			errIs: boom, confirmed: 1},
		{name: "wrong account", report: failing, cfg: &checks.Config{Account: checks.AccountConfig{ExpectedID: "111111111111"}, Source: "coffer.yaml"},
			wantErr: "refusing to fix: account 123456789012 is not the expected account 111111111111 (account.expected_id in coffer.yaml)"},
		{name: "unknown --fix-include", report: failing, setup: func(_ *runWorld, o *fix.RunOptions, _ context.CancelFunc) { o.Include = []string{"nope"} },
			wantErr: "--fix-include nope: no such check"},
		{name: "clients unavailable", report: failing, setup: func(w *runWorld, _ *fix.RunOptions, _ context.CancelFunc) { w.clientsErr = boom },
			errIs: boom, confirmed: 1, built: 1},
		{name: "confirmed", report: failing,
			outcome: fix.RunApplied, confirmed: 1, built: 1, collected: 1, eval: 1, puts: 1, journal: true, code: 0,
			out: []string{"Applying 1 changes (journal: ", "Applied 1 of 1 changes", "Re-scanning the account to verify...",
				"Fixed: 1 finding.\n  PASS  s3-bucket-versioning arn:aws:s3:::vault\nStill failing: 0.\n",
				"Exit code of the state after the fix (--fail-on LOW): 0."}},
		{name: "apply failure", report: failing, setup: func(w *runWorld, _ *fix.RunOptions, _ context.CancelFunc) {
			w.s3.putErr = boom
			w.after = failing
		},
			outcome: fix.RunApplied, confirmed: 1, built: 1, collected: 1, eval: 1, puts: 1, journal: true, code: 1,
			out: []string{"failed", "Still failing: 1.\n  FAIL  HIGH s3-bucket-versioning arn:aws:s3:::vault"}},
		{name: "apply failure fails the run even when the re-scan passes", report: failing, setup: func(w *runWorld, _ *fix.RunOptions, _ context.CancelFunc) {
			w.s3.putErr = boom
		},
			outcome: fix.RunApplied, confirmed: 1, built: 1, collected: 1, eval: 1, puts: 1, journal: true, code: 1},
		{name: "re-scan failure", report: failing, setup: func(w *runWorld, _ *fix.RunOptions, _ context.CancelFunc) { w.recollectErr = boom },
			wantErr: "but the re-scan failed, so the state after is unknown", errIs: boom, confirmed: 1, built: 1, collected: 1, puts: 1, journal: true},
		{name: "re-scan of another account", report: failing, setup: func(w *runWorld, _ *fix.RunOptions, _ context.CancelFunc) { w.afterAccount = "999999999999" },
			wantErr: "the re-scan reached account 999999999999, not 123456789012", confirmed: 1, built: 1, collected: 1, puts: 1, journal: true},
		{name: "evaluation failure", report: failing, setup: func(w *runWorld, _ *fix.RunOptions, _ context.CancelFunc) { w.evalErr = boom },
			wantErr: "evaluate after fixing", errIs: boom, confirmed: 1, built: 1, collected: 1, eval: 1, puts: 1, journal: true},
		{name: "interrupted while applying", report: failing, setup: func(w *runWorld, _ *fix.RunOptions, cancel context.CancelFunc) { w.s3.onPut = cancel },
			wantErr: "fix interrupted; the journal", errIs: context.Canceled, confirmed: 1, built: 1, puts: 1, journal: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w := newRunWorld(t)
			var out bytes.Buffer
			opts := w.options(&out)
			if tc.setup != nil {
				tc.setup(w, &opts, cancel)
			}
			res, err := fix.Run(ctx, runSnapshot(account), tc.report, tc.cfg, opts)

			wantFail := tc.wantErr != "" || tc.errIs != nil
			switch {
			case wantFail && err == nil:
				t.Fatalf("no error, outcome %s", res.Outcome)
			case !wantFail && err != nil:
				t.Fatalf("error: %v", err)
			case err != nil && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			case err != nil && tc.errIs != nil && !errors.Is(err, tc.errIs):
				t.Errorf("error %q does not wrap %v", err, tc.errIs)
			}
			if got := [5]int{w.confirmed, w.built, w.collected, w.eval, w.s3.puts}; got != [5]int{tc.confirmed, tc.built, tc.collected, tc.eval, tc.puts} {
				t.Errorf("confirmed, clients built, re-collected, evaluated, writes = %v, want %v", got, [5]int{tc.confirmed, tc.built, tc.collected, tc.eval, tc.puts})
			}
			if _, statErr := os.Stat(w.journal); (statErr == nil) != tc.journal {
				t.Errorf("journal written = %v, want %v", statErr == nil, tc.journal)
			}
			if err != nil {
				// After changes began, the result says what was done; before, there is none.
				if (res != nil && res.Applied != nil) != (tc.puts > 0) {
					t.Errorf("result after an error: %+v", res)
				}
				return
			}
			if res.Outcome != tc.outcome {
				t.Errorf("outcome %s, want %s", res.Outcome, tc.outcome)
			}
			if got := res.ExitCode(checks.SeverityLow); got != tc.code {
				t.Errorf("exit code %d, want %d", got, tc.code)
			}
			if want := tc.report; tc.outcome == fix.RunApplied {
				want = w.after
				if res.Report() != want {
					t.Error("the report to write is not the re-scan's")
				}
			} else if res.Report() != want {
				t.Error("the report to write is not the scan's")
			}
			if err := res.WriteSummary(&out, checks.SeverityLow); err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.out {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestRunDefaultJournalPath(t *testing.T) {
	t.Chdir(t.TempDir())
	w := newRunWorld(t)
	var out bytes.Buffer
	opts := w.options(&out)
	opts.JournalPath = ""
	res, err := fix.Run(context.Background(), runSnapshot(account), runReport(runFinding(checks.StatusFail)), nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := "coffer-fix-20261101T000000Z.json"; res.JournalPath != want {
		t.Errorf("journal %s, want %s", res.JournalPath, want)
	}
	if _, err := os.Stat(res.JournalPath); err != nil {
		t.Error(err)
	}
}

func TestPrompt(t *testing.T) {
	plan := &fix.Plan{AccountID: account, Changes: []*fix.Change{{N: 1}, {N: 2}}}
	for _, tc := range []struct {
		answer string
		want   bool
	}{
		{"y\n", true}, {"YES\n", true}, {" yes ", true},
		{"n\n", false}, {"\n", false}, {"", false}, {"yep\n", false},
	} {
		var out bytes.Buffer
		got, err := fix.Prompt(strings.NewReader(tc.answer), &out)(context.Background(), plan)
		if err != nil || got != tc.want {
			t.Errorf("answer %q: %v, %v; want %v", tc.answer, got, err, tc.want)
		}
		if want := "Apply these 2 changes to account 123456789012? [y/N] "; !strings.Contains(out.String(), want) {
			t.Errorf("prompt %q, want %q", out.String(), want)
		}
	}
}

// TestVerify: the verification is checks.DiffReports read for a fix — fixed, still failing, failing
// now but not before, and failing before but not evaluated after.
func TestVerify(t *testing.T) {
	f := func(check, name string, st checks.Status) checks.Finding {
		return checks.Finding{CheckID: check, Severity: checks.SeverityMedium, Status: st,
			Resource: checks.Resource{ARN: "arn:aws:s3:::" + name, Name: name}}
	}
	before := &checks.Report{AccountID: account, Findings: []checks.Finding{
		f("a", "fixed", checks.StatusFail), f("a", "still", checks.StatusFail), f("a", "regressed", checks.StatusPass),
		f("a", "unreadable", checks.StatusFail), f("a", "gone", checks.StatusFail), f("a", "fine", checks.StatusPass),
	}}
	after := &checks.Report{AccountID: account, Findings: []checks.Finding{
		f("a", "fixed", checks.StatusPass), f("a", "still", checks.StatusFail), f("a", "regressed", checks.StatusFail),
		f("a", "unreadable", checks.StatusError), f("a", "fine", checks.StatusPass),
	}}
	v, err := fix.Verify(before, after)
	if err != nil {
		t.Fatal(err)
	}
	names := func(arns ...string) string { return strings.Join(arns, " ") }
	var fixed, still, regressed, unverified []string
	for _, fc := range v.Fixed {
		fixed = append(fixed, fc.Resource.Name)
	}
	for _, x := range v.StillFailing {
		still = append(still, x.Resource.Name)
	}
	for _, fc := range v.NewFailures {
		regressed = append(regressed, fc.Resource.Name)
	}
	for _, fc := range v.Unverified {
		unverified = append(unverified, fc.Resource.Name)
	}
	for _, c := range []struct{ what, got, want string }{
		{"fixed", names(fixed...), "fixed gone"},
		{"still failing", names(still...), "still"},
		{"new failures", names(regressed...), "regressed"},
		{"unverified", names(unverified...), "unreadable"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
	var out bytes.Buffer
	if err := v.Write(&out); err != nil {
		t.Fatal(err)
	}
	want := `Fixed: 2 findings.
  PASS  a arn:aws:s3:::fixed
  gone  a arn:aws:s3:::gone
Still failing: 1.
  FAIL  MEDIUM a arn:aws:s3:::still
Failing now but not before: 1.
  FAIL  MEDIUM a arn:aws:s3:::regressed
Failing before, not evaluated after (ERROR): 1.
  ERROR MEDIUM a arn:aws:s3:::unreadable
`
	if out.String() != want {
		t.Errorf("verification:\n%s\nwant:\n%s", out.String(), want)
	}
	if _, err := fix.Verify(before, &checks.Report{AccountID: "999999999999"}); err == nil {
		t.Error("reports of two accounts verified")
	}
}
