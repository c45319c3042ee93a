package securityhub_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
	"github.com/coffer-audit/coffer/reporters"
	"github.com/coffer-audit/coffer/reporters/securityhub"
)

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	os.Exit(code)
}

const (
	account = motoserver.AccountID
	region  = "eu-west-1"
)

var productARN = reporters.ASFFProductARN("aws", region, account)

// report builds a report of n buckets, each with a versioning finding of the status status(i)
// returns (PASS, FAIL, ERROR or WAIVED), scanned at t.
func report(n int, at time.Time, status func(i int) checks.Status) *checks.Report {
	r := &checks.Report{
		SchemaVersion: checks.ReportSchemaVersion, Tool: checks.Tool{Name: "coffer", Version: "test"},
		AccountID: account, Regions: []string{region}, StartedAt: at, FinishedAt: at.Add(time.Second),
	}
	for i := range n {
		name := fmt.Sprintf("bucket-%03d", i)
		f := checks.Finding{
			CheckID: "s3-bucket-versioning", Title: "Backup buckets have versioning enabled", Severity: checks.SeverityHigh,
			Status:     status(i),
			Resource:   checks.Resource{ARN: "arn:aws:s3:::" + name, Type: "AWS::S3::Bucket", Name: name, Region: region, Role: "primary"},
			Frameworks: map[string][]string{checks.FrameworkFSBP: {"S3.14"}, checks.FrameworkWorkshop: {"6.2"}},
			Remediation: checks.Remediation{Summary: "Turn versioning on.", Fix: checks.FixAuto,
				Commands: []string{"aws s3api put-bucket-versioning --bucket " + name + " --versioning-configuration Status=Enabled"}},
		}
		switch f.Status {
		case checks.StatusFail:
			f.Message = "Bucket " + name + " does not have versioning enabled."
		case checks.StatusError:
			f.Message = "Could not read versioning: s3:GetBucketVersioning failed with AccessDenied."
		case checks.StatusWaived:
			f.Message = "Bucket " + name + " does not have versioning enabled."
			f.Waiver = &checks.Waiver{CheckID: f.CheckID, Resource: name, Reason: "scratch bucket", Expires: "2027-01-31"}
		}
		r.Findings = append(r.Findings, f)
	}
	r.Summarize()
	return r
}

func input(t *testing.T, r *checks.Report, now time.Time) securityhub.Input {
	t.Helper()
	fs, err := reporters.ASFFFindings(r, region)
	if err != nil {
		t.Fatal(err)
	}
	return securityhub.Input{AccountID: account, ProductARN: productARN, Findings: fs, Now: now}
}

// env is a reset moto with a Security Hub client in region.
type env struct {
	client *sdk.Client
}

func newEnv(t *testing.T, enable bool) env {
	t.Helper()
	srv := motoserver.Shared(t)
	srv.Reset(t)
	c := awsclient.NewSecurityHub(srv.AWSConfig(t, region), region, srv.Options().Options)
	if enable {
		if _, err := c.EnableSecurityHub(context.Background(), &sdk.EnableSecurityHubInput{}); err != nil {
			t.Fatal(err)
		}
	}
	return env{client: c}
}

// all reads back every finding of the hub, by id.
func (e env) all(t *testing.T) map[string]types.AwsSecurityFinding {
	t.Helper()
	out := map[string]types.AwsSecurityFinding{}
	p := sdk.NewGetFindingsPaginator(e.client, &sdk.GetFindingsInput{MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page.Findings {
			if _, dup := out[aws.ToString(f.Id)]; dup {
				t.Errorf("Security Hub holds finding %s twice", aws.ToString(f.Id))
			}
			out[aws.ToString(f.Id)] = f
		}
	}
	return out
}

// summary is what a test checks of a finding in Security Hub.
type summary struct {
	Compliance types.ComplianceStatus
	Workflow   types.WorkflowStatus
	Record     types.RecordState
	Resource   string
	Type       string
	Created    string
	Updated    string
}

func summarize(fs map[string]types.AwsSecurityFinding) map[string]summary {
	out := map[string]summary{}
	for id, f := range fs {
		s := summary{Record: f.RecordState, Created: aws.ToString(f.CreatedAt), Updated: aws.ToString(f.UpdatedAt)}
		if f.Compliance != nil {
			s.Compliance = f.Compliance.Status
		}
		if f.Workflow != nil {
			s.Workflow = f.Workflow.Status
		}
		if len(f.Resources) > 0 {
			s.Resource, s.Type = aws.ToString(f.Resources[0].Id), aws.ToString(f.Resources[0].Type)
		}
		out[id] = s
	}
	return out
}

var (
	first  = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	second = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	third  = time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC)
)

// cycle gives the four statuses in turn.
func cycle(i int) checks.Status {
	return []checks.Status{checks.StatusFail, checks.StatusPass, checks.StatusError, checks.StatusWaived}[i%4]
}

// TestImportUpdateArchive imports 250 findings (three batches), imports the next scan in which
// some statuses changed, then one in which a bucket is gone: Security Hub holds one finding per
// (check, resource) throughout, with the statuses of the last scan, the first observation of the
// first, and the gone bucket's finding archived.
func TestImportUpdateArchive(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, true)
	const n = 250

	// Another tool's finding on the same default product: never coffer's to archive.
	other := types.AwsSecurityFinding{
		SchemaVersion: aws.String(reporters.ASFFSchemaVersion), Id: aws.String("other-tool/finding-1"), ProductArn: aws.String(productARN),
		GeneratorId: aws.String("other-check"), AwsAccountId: aws.String(account), Types: []string{"Software and Configuration Checks"},
		CreatedAt: aws.String("2026-01-01T00:00:00.000Z"), UpdatedAt: aws.String("2026-01-01T00:00:00.000Z"),
		Severity: &types.Severity{Label: types.SeverityLabelLow}, Title: aws.String("other"), Description: aws.String("other"),
		Resources:     []types.Resource{{Type: aws.String("Other"), Id: aws.String("other-resource")}},
		ProductFields: map[string]string{reporters.ProductFieldProvider: "other-tool"}, RecordState: types.RecordStateActive,
	}
	if out, err := e.client.BatchImportFindings(ctx, &sdk.BatchImportFindingsInput{Findings: []types.AwsSecurityFinding{other}}); err != nil || aws.ToInt32(out.FailedCount) != 0 {
		t.Fatalf("import the other tool's finding: %v %+v", err, out)
	}

	r1 := report(n, first, cycle)
	res, err := securityhub.Import(ctx, e.client, input(t, r1, first))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&securityhub.Result{Imported: n}, res); diff != "" {
		t.Fatalf("first import (-want +got):\n%s", diff)
	}
	got := summarize(e.all(t))
	if len(got) != n+1 {
		t.Fatalf("Security Hub holds %d findings after the first import, want %d and the other tool's", len(got), n)
	}
	want := map[string]summary{}
	wantCompliance := map[checks.Status]types.ComplianceStatus{
		checks.StatusFail: types.ComplianceStatusFailed, checks.StatusPass: types.ComplianceStatusPassed,
		checks.StatusError: types.ComplianceStatusNotAvailable, checks.StatusWaived: types.ComplianceStatusFailed,
	}
	wantWorkflow := map[checks.Status]types.WorkflowStatus{
		checks.StatusFail: types.WorkflowStatusNew, checks.StatusPass: types.WorkflowStatusResolved,
		checks.StatusError: types.WorkflowStatusNew, checks.StatusWaived: types.WorkflowStatusSuppressed,
	}
	for _, f := range r1.Findings {
		want[reporters.FindingUID(account, f.CheckID, f.Resource.ARN)] = summary{
			Compliance: wantCompliance[f.Status], Workflow: wantWorkflow[f.Status], Record: types.RecordStateActive,
			Resource: f.Resource.ARN, Type: "AwsS3Bucket", Created: "2026-03-01T02:00:00.000Z", Updated: "2026-03-01T02:00:01.000Z",
		}
	}
	want["other-tool/finding-1"] = summary{Record: types.RecordStateActive, Resource: "other-resource", Type: "Other",
		Created: "2026-01-01T00:00:00.000Z", Updated: "2026-01-01T00:00:00.000Z"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after the first import (-want +got):\n%s", diff)
	}

	// The next night every FAIL is fixed: same findings, new statuses, first observation kept.
	fixed := func(i int) checks.Status {
		if s := cycle(i); s != checks.StatusFail {
			return s
		}
		return checks.StatusPass
	}
	r2 := report(n, second, fixed)
	if res, err = securityhub.Import(ctx, e.client, input(t, r2, second)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&securityhub.Result{Imported: n}, res); diff != "" {
		t.Fatalf("second import (-want +got):\n%s", diff)
	}
	got = summarize(e.all(t))
	for _, f := range r2.Findings {
		id := reporters.FindingUID(account, f.CheckID, f.Resource.ARN)
		w := want[id]
		w.Compliance = wantCompliance[f.Status]
		// Security Hub keeps the Workflow of an existing finding (it is its users') but moves it
		// from NEW to RESOLVED itself when the compliance goes from FAILED to PASSED; moto takes
		// the import's Workflow, which says RESOLVED for a PASS: the same result here.
		w.Workflow = wantWorkflow[f.Status]
		w.Updated = "2026-03-02T02:00:01.000Z"
		want[id] = w
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after the second import (-want +got):\n%s", diff)
	}

	// Then bucket-007 is gone.
	r3 := report(n, third, fixed)
	gone := r3.Findings[7]
	r3.Findings = append(r3.Findings[:7:7], r3.Findings[8:]...)
	now := third.Add(time.Minute)
	if res, err = securityhub.Import(ctx, e.client, input(t, r3, now)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&securityhub.Result{Imported: n - 1, Archived: 1}, res); diff != "" {
		t.Fatalf("third import (-want +got):\n%s", diff)
	}
	got = summarize(e.all(t))
	for _, f := range r3.Findings {
		id := reporters.FindingUID(account, f.CheckID, f.Resource.ARN)
		w := want[id]
		w.Updated = "2026-03-03T02:00:01.000Z"
		want[id] = w
	}
	goneID := reporters.FindingUID(account, gone.CheckID, gone.Resource.ARN)
	w := want[goneID]
	w.Record, w.Updated = types.RecordStateArchived, "2026-03-03T02:01:00.000Z"
	want[goneID] = w
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after the third import (-want +got):\n%s", diff)
	}

	// A fourth import of the same scan archives nothing more: the archived finding is not active.
	if res, err = securityhub.Import(ctx, e.client, input(t, r3, now)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&securityhub.Result{Imported: n - 1}, res); diff != "" {
		t.Errorf("fourth import (-want +got):\n%s", diff)
	}
}

// TestImportNotEnabled: without Security Hub, Import says so and imports nothing.
func TestImportNotEnabled(t *testing.T) {
	e := newEnv(t, false)
	_, err := securityhub.Import(context.Background(), e.client, input(t, report(3, first, cycle), first))
	if !errors.Is(err, securityhub.ErrNotEnabled) {
		t.Fatalf("error %v, want ErrNotEnabled", err)
	}
	if got := e.all(t); len(got) != 0 {
		t.Errorf("%d findings imported into a Security Hub that is not enabled", len(got))
	}
}

// TestImportFailedFindings: a finding Security Hub refuses (moto refuses one without resources)
// is reported by id with Security Hub's reason, and the others are imported.
func TestImportFailedFindings(t *testing.T) {
	e := newEnv(t, true)
	in := input(t, report(5, first, cycle), first)
	bad := aws.ToString(in.Findings[2].Id)
	in.Findings[2].Resources = []types.Resource{}
	res, err := securityhub.Import(context.Background(), e.client, in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 4 || len(res.Failed) != 1 {
		t.Fatalf("result %+v, want 4 imported and 1 failed", res)
	}
	if f := res.Failed[0]; f.ID != bad || f.Code != "InvalidInput" || !strings.Contains(f.Message, "at least one resource") {
		t.Errorf("failure %+v, want finding %s refused for having no resource", f, bad)
	}
	if got := e.all(t); len(got) != 4 {
		t.Errorf("Security Hub holds %d findings, want 4", len(got))
	}
}

// TestImportRefusesAnotherAccount: the findings of an import are one account's.
func TestImportRefusesAnotherAccount(t *testing.T) {
	e := newEnv(t, true)
	in := input(t, report(2, first, cycle), first)
	in.Findings[1].AwsAccountId = aws.String("210987654321")
	if _, err := securityhub.Import(context.Background(), e.client, in); err == nil || !strings.Contains(err.Error(), "210987654321") {
		t.Fatalf("error %v, want one naming the other account", err)
	}
	if got := e.all(t); len(got) != 0 {
		t.Errorf("%d findings imported", len(got))
	}
}

// counting passes calls to Security Hub and records the batches and how many calls were in flight
// at once.
type counting struct {
	securityhub.API
	mu              sync.Mutex
	inFlight, most  int
	batches         []int
	describe, reads int
}

func (c *counting) DescribeHub(ctx context.Context, in *sdk.DescribeHubInput, optFns ...func(*sdk.Options)) (*sdk.DescribeHubOutput, error) {
	c.mu.Lock()
	c.describe++
	c.mu.Unlock()
	return c.API.DescribeHub(ctx, in, optFns...)
}

func (c *counting) GetFindings(ctx context.Context, in *sdk.GetFindingsInput, optFns ...func(*sdk.Options)) (*sdk.GetFindingsOutput, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.API.GetFindings(ctx, in, optFns...)
}

func (c *counting) BatchImportFindings(ctx context.Context, in *sdk.BatchImportFindingsInput, optFns ...func(*sdk.Options)) (*sdk.BatchImportFindingsOutput, error) {
	c.mu.Lock()
	c.inFlight++
	c.most = max(c.most, c.inFlight)
	c.batches = append(c.batches, len(in.Findings))
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	return c.API.BatchImportFindings(ctx, in, optFns...)
}

// TestImportBatchesAndConcurrency: 1,050 findings go in batches of at most 100, never more calls
// at once than Concurrency, and the earlier findings are read page by page.
func TestImportBatchesAndConcurrency(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	for _, concurrency := range []int{1, 2} {
		c := &counting{API: e.client}
		in := input(t, report(1050, first, cycle), first)
		in.Concurrency = concurrency
		res, err := securityhub.Import(ctx, c, in)
		if err != nil {
			t.Fatal(err)
		}
		if res.Imported != 1050 || len(res.Failed) != 0 {
			t.Fatalf("concurrency %d: %+v", concurrency, res)
		}
		sort.Ints(c.batches)
		if want := []int{50, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100}; !cmp.Equal(c.batches, want) {
			t.Errorf("concurrency %d: batches %v, want %v", concurrency, c.batches, want)
		}
		if c.most > concurrency {
			t.Errorf("concurrency %d: %d calls in flight at once", concurrency, c.most)
		}
		// The second round reads the 1,050 findings of the first: 11 pages of 100.
		if wantReads := map[int]int{1: 1, 2: 11}[concurrency]; c.reads != wantReads || c.describe != 1 {
			t.Errorf("concurrency %d: %d DescribeHub and %d GetFindings calls, want 1 and %d", concurrency, c.describe, c.reads, wantReads)
		}
	}
}

// refusing answers every BatchImportFindings as Security Hub does for an account that has not
// enabled it. moto imports findings whether or not Security Hub is enabled (only DescribeHub
// checks), so this path needs a stand-in.
type refusing struct{ securityhub.API }

func (refusing) BatchImportFindings(context.Context, *sdk.BatchImportFindingsInput, ...func(*sdk.Options)) (*sdk.BatchImportFindingsOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "InvalidAccessException", Message: "Account 123456789012 is not subscribed to AWS Security Hub"}
}

func TestImportRefusedEverywhereIsNotEnabled(t *testing.T) {
	e := newEnv(t, true)
	res, err := securityhub.Import(context.Background(), refusing{e.client}, input(t, report(120, first, cycle), first))
	if !errors.Is(err, securityhub.ErrNotEnabled) {
		t.Fatalf("error %v, want ErrNotEnabled", err)
	}
	if res == nil || len(res.Failed) != 120 || res.Imported != 0 {
		t.Fatalf("result %+v, want all 120 findings failed", res)
	}
	if f := res.Failed[0]; f.Code != "InvalidAccessException" || !strings.Contains(f.Message, "not subscribed") {
		t.Errorf("failure %+v lacks Security Hub's code and message", f)
	}
}
