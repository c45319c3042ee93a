package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
	"github.com/coffer-audit/coffer/fixtures/seed"
	"github.com/google/go-cmp/cmp"
)

// End-to-end: seed a sample account into a real moto server through the SDK, run the real CLI
// against it, and compare with what the scenario says must be found.

// motoCallTimeout is the --call-timeout of every run against moto: a safety net for a hung call,
// not a margin a healthy call has to beat. Under -race on a loaded 2-core machine moto takes over
// 10 s to send IAM's GetAccountAuthorizationDetails (5 MB with its managed policies), and a
// throttled call adds up to 16 s of backoff, too close to the default 30 s. Tests that want a call
// to time out pass their own --call-timeout after these flags.
const motoCallTimeout = "5m"

// seedScenario resets moto, applies the scenario and returns the CLI's AWS flags for it and the
// violations it must produce (KMS aliases resolved to key ARNs).
func seedScenario(t *testing.T, srv *motoserver.Server, s seed.Scenario) ([]string, []seed.Violation) {
	t.Helper()
	srv.Reset(t)
	regions := seed.Regions(s)
	ctx := context.Background()
	cfg := srv.AWSConfig(t, regions[0])
	if err := seed.Apply(ctx, cfg, s); err != nil {
		t.Fatalf("seed %s: %v", s, err)
	}
	want, err := seed.Resolve(ctx, cfg, seed.Expected(s))
	if err != nil {
		t.Fatal(err)
	}
	useMotoCredentials(t)
	flags := []string{"--endpoint-url", srv.URL, "--region", regions[0], "--regions", strings.Join(regions, ","), "--quiet", "--call-timeout", motoCallTimeout}
	return flags, want
}

func scanJSON(t *testing.T, args ...string) (*checks.Report, int) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	r := runCLI(t, append([]string{"scan", "--format", "json", "--output", out}, args...)...)
	if r.code == exitUsage {
		t.Fatalf("scan %v: exit 2: %s", args, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("scan wrote no report (exit %d, stderr %s): %v", r.code, r.stderr, err)
	}
	var report checks.Report
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatal(err)
	}
	return &report, r.code
}

type verdictKey struct{ Check, ARN string }

func failing(r *checks.Report) []verdictKey {
	var out []verdictKey
	for _, f := range r.Findings {
		if f.Status == checks.StatusFail || f.Status == checks.StatusError {
			out = append(out, verdictKey{f.CheckID, f.Resource.ARN})
		}
	}
	sortKeys(out)
	return out
}

func sortKeys(k []verdictKey) {
	sort.Slice(k, func(i, j int) bool {
		if k[i].Check != k[j].Check {
			return k[i].Check < k[j].Check
		}
		return k[i].ARN < k[j].ARN
	})
}

func TestScenariosFindExactlyTheirViolations(t *testing.T) {
	srv := motoserver.Shared(t)
	for _, s := range seed.Scenarios() {
		t.Run(string(s), func(t *testing.T) {
			flags, want := seedScenario(t, srv, s)
			report, code := scanJSON(t, flags...)
			var wantKeys []verdictKey
			for _, v := range want {
				wantKeys = append(wantKeys, verdictKey{v.CheckID, v.ResourceARN})
			}
			sortKeys(wantKeys)
			if diff := cmp.Diff(wantKeys, failing(report)); diff != "" {
				t.Errorf("FAIL/ERROR findings (-expected by the scenario +found):\n%s", diff)
			}
			if code != exitFindings {
				t.Errorf("exit %d, want 1: every scenario has at least moto's root-MFA failure", code)
			}
			for _, n := range report.Notices {
				if strings.Contains(n, "could not be rendered") {
					t.Errorf("notice: %s", n)
				}
			}
			for _, f := range report.Findings {
				if f.Status == checks.StatusFail && len(f.Remediation.Commands) == 0 {
					t.Errorf("%s on %s has no remediation command", f.CheckID, f.Resource.ARN)
				}
			}
		})
	}
}

// TestSnapshotScanEqualsLiveScan: the snapshot is the only input of evaluation, so a scan of a saved
// snapshot must give the live scan's findings.
func TestSnapshotScanEqualsLiveScan(t *testing.T) {
	srv := motoserver.Shared(t)
	flags, _ := seedScenario(t, srv, seed.Drifted)
	snap := filepath.Join(t.TempDir(), "snap.json")
	if r := runCLI(t, append([]string{"collect", "-o", snap}, flags...)...); r.code != 0 {
		t.Fatalf("collect: exit %d: %s", r.code, r.stderr)
	}
	live, liveCode := scanJSON(t, flags...)
	saved, savedCode := scanJSON(t, "--snapshot", snap)
	if liveCode != savedCode {
		t.Errorf("exit codes differ: live %d, snapshot %d", liveCode, savedCode)
	}
	strip := func(r *checks.Report) []checks.Finding {
		fs := append([]checks.Finding(nil), r.Findings...)
		for i := range fs {
			// Ages are computed from the snapshot's collected_at, which differs by seconds.
			fs[i].Evidence = nil
		}
		return fs
	}
	if diff := cmp.Diff(strip(live), strip(saved)); diff != "" {
		t.Errorf("findings differ (-live +snapshot):\n%s", diff)
	}
}

// fixConfig supplies the values the printed commands cannot discover, so they carry no placeholder.
const fixConfig = `account:
  expected_id: "123456789012"
fix:
  log_bucket: vault-access-logs
`

// TestRemediationCommandsWorkWithTheRealCLI runs every printed command of every automatically
// fixable FAIL in the drifted account with the real aws CLI against moto, rescans, and expects each
// of those findings to PASS.
func TestRemediationCommandsWorkWithTheRealCLI(t *testing.T) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the aws CLI is not on PATH: run `make test` (it installs it into .venv): %v", err)
	}
	srv := motoserver.Shared(t)
	flags, _ := seedScenario(t, srv, seed.Drifted)
	cfgFile := filepath.Join(t.TempDir(), "coffer.yaml")
	if err := os.WriteFile(cfgFile, []byte(fixConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	flags = append(flags, "--config", cfgFile)
	before, _ := scanJSON(t, flags...)

	var fixed []verdictKey
	for _, f := range before.Findings {
		if f.Status != checks.StatusFail || f.Remediation.Fix == checks.FixManual {
			continue
		}
		for _, cmd := range f.Remediation.Commands {
			c := exec.Command("bash", "-c", cmd)
			c.Env = srv.CLIEnv()
			out, err := c.CombinedOutput()
			if err != nil {
				t.Errorf("%s on %s: `%s` failed: %v\n%s", f.CheckID, f.Resource.Name, cmd, err, out)
			}
		}
		fixed = append(fixed, verdictKey{f.CheckID, f.Resource.ARN})
	}
	if len(fixed) < 10 {
		t.Fatalf("only %d auto-fixable findings in the drifted account; the test proves too little", len(fixed))
	}
	t.Logf("ran the commands of %d findings with %s", len(fixed), aws)

	after, _ := scanJSON(t, flags...)
	status := map[verdictKey]checks.Status{}
	for _, f := range after.Findings {
		status[verdictKey{f.CheckID, f.Resource.ARN}] = f.Status
	}
	for _, k := range fixed {
		if got := status[k]; got != checks.StatusPass {
			t.Errorf("%s on %s is %s after running its commands, want PASS", k.Check, k.ARN, orMissing(got))
		}
	}
}

func orMissing(s checks.Status) string {
	if s == "" {
		return "missing"
	}
	return fmt.Sprint(s)
}

// useMotoCredentials makes the SDK's default chain, as coffer loads it, find moto's dummy keys
// and nothing of the machine's own AWS setup (profiles, region, endpoint), for the test.
func useMotoCredentials(t testing.TB) {
	t.Helper()
	for _, kv := range []string{"AWS_ACCESS_KEY_ID=" + motoserver.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + motoserver.SecretAccessKey,
		"AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none"),
		"AWS_PROFILE=", "AWS_SESSION_TOKEN=", "AWS_ENDPOINT_URL=", "AWS_REGION=", "AWS_DEFAULT_REGION="} {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
}
