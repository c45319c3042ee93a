package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sdk "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
	"github.com/coffer-audit/coffer/fixtures/ocsf"
	"github.com/coffer-audit/coffer/fixtures/seed"
)

// securityHubFindings reads every finding of the Security Hub of region back, by id, with its
// RecordState.
func securityHubFindings(t *testing.T, srv *motoserver.Server, region string) map[string]string {
	t.Helper()
	return hubFindings(t, srv, srv.AWSConfig(t, region), region)
}

// hubFindings reads the findings of the Security Hub of the account cfg acts in.
func hubFindings(t *testing.T, srv *motoserver.Server, cfg aws.Config, region string) map[string]string {
	t.Helper()
	c := awsclient.NewSecurityHub(cfg, region, srv.Options().Options)
	out := map[string]string{}
	p := sdk.NewGetFindingsPaginator(c, &sdk.GetFindingsInput{MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page.Findings {
			out[aws.ToString(f.Id)] = string(f.RecordState)
		}
	}
	return out
}

func enableSecurityHub(t *testing.T, srv *motoserver.Server, region string) {
	t.Helper()
	c := awsclient.NewSecurityHub(srv.AWSConfig(t, region), region, srv.Options().Options)
	if _, err := c.EnableSecurityHub(context.Background(), &sdk.EnableSecurityHubInput{}); err != nil {
		t.Fatal(err)
	}
}

// TestScanSecurityHub scans the drifted account with --security-hub and the asff and ocsf
// formats: the scan keeps its own exit code, Security Hub holds one finding per finding of the
// report with the ids of the ASFF file, a second scan updates them instead of adding more, and
// the import calls exactly the actions of docs/iam/coffer-securityhub-policy.json, while the
// scan's own calls stay read-only. The OCSF events of the real scan pass py-ocsf-models.
func TestScanSecurityHub(t *testing.T) {
	srv := motoserver.Shared(t)
	flags, _ := seedScenario(t, srv, seed.Drifted)
	home := flags[slices.Index(flags, "--region")+1]
	enableSecurityHub(t, srv, home)
	dir := t.TempDir()
	asffFile, ocsfFile, jsonFile := filepath.Join(dir, "coffer.asff.json"), filepath.Join(dir, "coffer.ocsf.json"), filepath.Join(dir, "report.json")

	rec := &motoserver.Recorder{}
	args := append([]string{"scan", "--security-hub", "--format", "json=" + jsonFile, "--format", "asff=" + asffFile, "--format", "ocsf=" + ocsfFile}, flags...)
	r := runApp(context.Background(), t, []func(*middleware.Stack) error{rec.Option}, args...)
	if r.code != exitFindings {
		t.Fatalf("scan --security-hub: exit %d, want the scan's own %d (the drifted account fails checks):\n%s", r.code, exitFindings, r.stderr)
	}
	report, err := checks.LoadReport(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	wantLine := "Security Hub (" + home + "): " + strconv.Itoa(len(report.Findings)) + " findings imported, 0 archived, 0 refused"
	if !strings.Contains(r.stderr, wantLine) {
		t.Errorf("stderr lacks %q:\n%s", wantLine, r.stderr)
	}

	// Security Hub holds the ASFF file's findings, all active.
	var file []struct{ Id, RecordState string }
	data, err := os.ReadFile(asffFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, f := range file {
		want[f.Id] = "ACTIVE"
	}
	if len(want) != len(report.Findings) {
		t.Fatalf("the ASFF file has %d distinct ids for %d findings", len(want), len(report.Findings))
	}
	if diff := cmp.Diff(want, securityHubFindings(t, srv, home)); diff != "" {
		t.Errorf("Security Hub after the scan (-the ASFF file +Security Hub):\n%s", diff)
	}

	// The calls: the scan's only read, and Security Hub's are the policy's.
	var hubActions []string
	for _, op := range rec.Operations() {
		service, name, _ := strings.Cut(op, ":")
		if service == "SecurityHub" {
			hubActions = append(hubActions, "securityhub:"+name)
		} else if !motoserver.ReadOnly(op) {
			t.Errorf("the scan called a mutating operation: %s", op)
		}
	}
	sort.Strings(hubActions)
	if diff := cmp.Diff(hubActions, policyActions(t, "coffer-securityhub-policy.json")); diff != "" {
		t.Errorf("docs/iam/coffer-securityhub-policy.json (-what the import calls +what the policy allows):\n%s", diff)
	}

	// A second scan updates the same findings.
	r = runApp(context.Background(), t, nil, append([]string{"scan", "--security-hub", "--format", "json=" + jsonFile}, flags...)...)
	if r.code != exitFindings || !strings.Contains(r.stderr, wantLine) {
		t.Errorf("second scan: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if diff := cmp.Diff(want, securityHubFindings(t, srv, home)); diff != "" {
		t.Errorf("Security Hub after the second scan (-the ASFF file +Security Hub):\n%s", diff)
	}

	ocsf.Validate(t, ocsfFile)
}

// policyActions reads the actions of a policy in docs/iam, checking its form as the scan policy's
// test does: one Allow on *, exact actions, sorted.
func policyActions(t *testing.T, name string) []string {
	t.Helper()
	var doc struct {
		Version   string
		Statement []struct {
			Sid      string
			Effect   string
			Action   []string
			Resource string
		}
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "iam", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if doc.Version != "2012-10-17" {
		t.Errorf("%s: Version %q", name, doc.Version)
	}
	var actions []string
	for _, st := range doc.Statement {
		if st.Effect != "Allow" || st.Resource != "*" {
			t.Errorf("%s: statement %s: Effect %s Resource %s; want Allow on *", name, st.Sid, st.Effect, st.Resource)
		}
		for _, a := range st.Action {
			if strings.Contains(a, "*") {
				t.Errorf("%s: wildcard action %s: list the exact actions", name, a)
			}
			actions = append(actions, a)
		}
	}
	if !sort.StringsAreSorted(actions) {
		t.Errorf("%s: actions are not sorted: %v", name, actions)
	}
	return actions
}

// securityHubEnv points the SDK chain at moto with dummy credentials, as seedScenario does, for
// scans of a snapshot.
func securityHubEnv(t *testing.T, srv *motoserver.Server) []string {
	t.Helper()
	srv.Reset(t)
	useMotoCredentials(t)
	return []string{"--endpoint-url", srv.URL, "--quiet", "--call-timeout", motoCallTimeout}
}

// TestScanSecurityHubNotEnabled: without Security Hub in the region, one line says so and what
// to do, the exit code is 2 (nothing was imported), and the reports are written all the same.
func TestScanSecurityHubNotEnabled(t *testing.T) {
	srv := motoserver.Shared(t)
	flags := securityHubEnv(t, srv)
	enableSecurityHub(t, srv, "eu-west-1") // another region than the import's
	out := filepath.Join(t.TempDir(), "report.json")
	r := runCLI(t, append([]string{"scan", "--snapshot", writeSnapshot(t, nil), "--security-hub", "--format", "json=" + out}, flags...)...)
	if r.code != exitUsage {
		t.Fatalf("exit %d, want %d:\n%s", r.code, exitUsage, r.stderr)
	}
	want := "coffer: Security Hub is not enabled for account 123456789012 in us-east-1: enable it (aws securityhub enable-security-hub --region us-east-1) or choose its region with --security-hub-region; nothing was imported\n"
	if r.stderr != want {
		t.Errorf("stderr:\n%q\nwant:\n%q", r.stderr, want)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("the report was not written: %v", err)
	}
	if got := securityHubFindings(t, srv, "us-east-1"); len(got) != 0 {
		t.Errorf("%d findings imported", len(got))
	}

	// --security-hub-region picks the region where it is enabled.
	r = runCLI(t, append([]string{"scan", "--snapshot", writeSnapshot(t, nil), "--security-hub", "--security-hub-region", "eu-west-1", "--format", "json=" + out}, flags...)...)
	if r.code != exitFindings || !strings.Contains(r.stderr, "Security Hub (eu-west-1): ") {
		t.Fatalf("with --security-hub-region: exit %d, want %d:\n%s", r.code, exitFindings, r.stderr)
	}
	report, err := checks.LoadReport(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := securityHubFindings(t, srv, "eu-west-1"); len(got) != len(report.Findings) {
		t.Errorf("Security Hub in eu-west-1 holds %d findings, want the report's %d", len(got), len(report.Findings))
	}
}

// TestSecurityHubFlags: --security-hub does not go with --fix, and --format asff takes its region
// from --security-hub-region.
func TestSecurityHubFlags(t *testing.T) {
	r := runCLI(t, "scan", "--fix", "--security-hub")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--security-hub") {
		t.Errorf("--fix --security-hub: exit %d stderr %q", r.code, r.stderr)
	}
	out := filepath.Join(t.TempDir(), "coffer.asff.json")
	r = runCLI(t, "scan", "--snapshot", writeSnapshot(t, nil), "--security-hub-region", "ap-southeast-2", "--format", "asff="+out)
	if r.code != exitFindings {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"ProductArn": "arn:aws:securityhub:ap-southeast-2:123456789012:product/123456789012/default"`) {
		t.Errorf("the ASFF file is not for ap-southeast-2:\n%.600s", data)
	}
	var fs []map[string]any
	if err := json.Unmarshal(data, &fs); err != nil || len(fs) == 0 {
		t.Errorf("the ASFF file is not a list of findings: %v", err)
	}
}

// TestOrganisationSecurityHub: an organisation scan with --security-hub imports each account's
// findings into that account's own Security Hub, with the credentials that read the account;
// an account without Security Hub is named with what to do and does not stop the others; a
// re-import updates instead of adding; and when no account could take its findings, exit 2.
func TestOrganisationSecurityHub(t *testing.T) {
	ctx := context.Background()
	srv := motoserver.Shared(t)
	flags := securityHubEnv(t, srv)
	cfg := srv.AWSConfig(t, "us-east-1")
	members, err := seed.Organization(ctx, cfg, "prod", "off")
	if err != nil {
		t.Fatal(err)
	}
	prod, off := members[0], members[1]
	prodCfg := seed.MemberConfig(cfg, prod.ID)
	if _, err := awsclient.NewS3(prodCfg, "us-east-1", srv.Options().Options).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("prod-backups")}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []aws.Config{cfg, prodCfg} {
		if _, err := awsclient.NewSecurityHub(c, "us-east-1", srv.Options().Options).EnableSecurityHub(ctx, &sdk.EnableSecurityHubInput{}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	jsonFile, asffFile := filepath.Join(dir, "report.json"), filepath.Join(dir, "coffer.asff.json")
	args := append([]string{"scan", "--org", "--role-name", seed.MemberRole, "--region", "us-east-1", "--security-hub",
		"--format", "json=" + jsonFile, "--format", "asff=" + asffFile}, flags...)

	rec := &motoserver.Recorder{}
	r := runApp(ctx, t, []func(*middleware.Stack) error{rec.Option}, args...)
	if r.code != exitFindings {
		t.Fatalf("exit %d, want the scan's own %d (an account without Security Hub does not fail the import of the others):\n%s", r.code, exitFindings, r.stderr)
	}
	report, err := checks.LoadReport(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	perAccount := map[string]int{}
	for _, f := range report.Findings {
		perAccount[f.Resource.AccountID]++
	}
	for _, want := range []string{
		fmt.Sprintf("coffer: Security Hub of account %s (us-east-1): %d findings imported, 0 archived, 0 refused\n", motoserver.AccountID, perAccount[motoserver.AccountID]),
		fmt.Sprintf("coffer: Security Hub of account %s (us-east-1): %d findings imported, 0 archived, 0 refused\n", prod.ID, perAccount[prod.ID]),
		fmt.Sprintf("coffer: Security Hub of account %s: Security Hub is not enabled for account %s in us-east-1: enable it", off.ID, off.ID),
		"coffer: Security Hub (us-east-1): 2 of 3 accounts imported\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}

	// Each account's Security Hub holds its own findings of the ASFF file, and nothing else.
	var file []struct{ Id, AwsAccountId string }
	data, err := os.ReadFile(asffFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{}
	for _, f := range file {
		if want[f.AwsAccountId] == nil {
			want[f.AwsAccountId] = map[string]string{}
		}
		want[f.AwsAccountId][f.Id] = "ACTIVE"
	}
	hubs := map[string]aws.Config{motoserver.AccountID: cfg, prod.ID: prodCfg}
	check := func(when string) {
		t.Helper()
		for id, c := range hubs {
			if len(want[id]) == 0 {
				t.Fatalf("the ASFF file has no finding of account %s", id)
			}
			if diff := cmp.Diff(want[id], hubFindings(t, srv, c, "us-east-1")); diff != "" {
				t.Errorf("%s: Security Hub of account %s (-the ASFF file +Security Hub):\n%s", when, id, diff)
			}
		}
	}
	check("after the scan")

	// prod's findings were imported with prod's role, the caller's with the caller's keys.
	assumed := rec.AssumedRoles()
	imports := map[string]bool{}
	for _, c := range rec.Calls() {
		in, ok := c.Input.(*sdk.BatchImportFindingsInput)
		if !ok {
			continue
		}
		for _, f := range in.Findings {
			account := aws.ToString(f.AwsAccountId)
			imports[account] = true
			role := assumed[c.AccessKeyID]
			if account == prod.ID && !strings.Contains(role, ":"+prod.ID+":") || account == motoserver.AccountID && role != "" {
				t.Errorf("a finding of account %s was imported with key %s (role %q)", account, c.AccessKeyID, role)
			}
		}
	}
	if !imports[prod.ID] || !imports[motoserver.AccountID] || imports[off.ID] {
		t.Errorf("imported the findings of %v, want the caller's and prod's", imports)
	}

	// A second scan updates the same findings.
	if r := runApp(ctx, t, nil, args...); r.code != exitFindings {
		t.Fatalf("second scan: exit %d:\n%s", r.code, r.stderr)
	}
	check("after the second scan")

	// No account has Security Hub in eu-west-1: nothing could be imported, exit 2.
	r = runApp(ctx, t, nil, append(args, "--security-hub-region", "eu-west-1")...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "no account's findings could be imported") {
		t.Errorf("without Security Hub in any account: exit %d, want %d:\n%s", r.code, exitUsage, r.stderr)
	}

	// An organisation snapshot is not imported: its accounts' credentials are not known.
	snap := filepath.Join(dir, "org.json")
	if r := runApp(ctx, t, nil, "collect", "-o", snap, "--org", "--role-name", seed.MemberRole, "--region", "us-east-1", "--endpoint-url", srv.URL, "--quiet"); r.code != exitOK {
		t.Fatalf("collect --org: exit %d: %s", r.code, r.stderr)
	}
	if r := runCLI(t, "scan", "--snapshot", snap, "--security-hub"); r.code != exitUsage || !strings.Contains(r.stderr, "scan the organisation live") {
		t.Errorf("--snapshot of an organisation with --security-hub: exit %d: %s", r.code, r.stderr)
	}
}
