package reporters

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	os.Exit(code)
}

// TestASFFMapping checks, finding by finding of the golden report, the fields that carry a
// finding's verdict in Security Hub.
func TestASFFMapping(t *testing.T) {
	fs, err := ASFFFindings(goldenReport(), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		compliance types.ComplianceStatus
		workflow   types.WorkflowStatus
		label      types.SeverityLabel
		resource   string
		note       bool
		reason     bool
	}
	key := func(f types.AwsSecurityFinding) string {
		return aws.ToString(f.GeneratorId) + " " + aws.ToString(f.Resources[0].Id)
	}
	want := map[string]row{
		"cloudtrail-multi-region arn:aws:iam::123456789012:root":                                       {types.ComplianceStatusPassed, types.WorkflowStatusResolved, types.SeverityLabelInformational, "AwsAccount", false, false},
		"iam-root-mfa arn:aws:iam::123456789012:root":                                                  {types.ComplianceStatusFailed, types.WorkflowStatusNew, types.SeverityLabelCritical, "AwsAccount", false, false},
		"iam-user-mfa arn:aws:iam::123456789012:user/ops/alice+ops@example.com":                        {types.ComplianceStatusFailed, types.WorkflowStatusNew, types.SeverityLabelHigh, "AwsIamUser", false, false},
		"kms-key-rotation arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab": {types.ComplianceStatusNotAvailable, types.WorkflowStatusNew, types.SeverityLabelMedium, "AwsKmsKey", false, true},
		"s3-bucket-acls-disabled arn:aws:s3:::team-backups-primary":                                    {types.ComplianceStatusFailed, types.WorkflowStatusSuppressed, types.SeverityLabelLow, "AwsS3Bucket", true, false},
		"s3-bucket-acls-disabled arn:aws:s3:::team-backups-standby":                                    {types.ComplianceStatusFailed, types.WorkflowStatusNew, types.SeverityLabelLow, "AwsS3Bucket", false, false},
		"s3-bucket-mfa-delete arn:aws:s3:::team-backups-primary":                                       {types.ComplianceStatusPassed, types.WorkflowStatusResolved, types.SeverityLabelInformational, "AwsS3Bucket", false, false},
		"s3-bucket-mfa-delete arn:aws:s3:::team-backups-standby":                                       {types.ComplianceStatusFailed, types.WorkflowStatusNew, types.SeverityLabelLow, "AwsS3Bucket", false, false},
		"s3-bucket-not-public arn:aws:s3:::team-backups-primary":                                       {types.ComplianceStatusFailed, types.WorkflowStatusNew, types.SeverityLabelCritical, "AwsS3Bucket", false, false},
		"s3-bucket-not-public arn:aws:s3:::team-backups-standby":                                       {types.ComplianceStatusPassed, types.WorkflowStatusResolved, types.SeverityLabelInformational, "AwsS3Bucket", false, false},
		"s3-bucket-tls-only arn:aws:s3:::logs.example-corp":                                            {types.ComplianceStatusFailed, types.WorkflowStatusNew, types.SeverityLabelMedium, "AwsS3Bucket", false, false},
		"s3-bucket-versioning arn:aws:s3:::team-backups-primary":                                       {types.ComplianceStatusFailed, types.WorkflowStatusNew, types.SeverityLabelHigh, "AwsS3Bucket", false, false},
		"s3-bucket-versioning arn:aws:s3:::team-backups-standby":                                       {types.ComplianceStatusPassed, types.WorkflowStatusResolved, types.SeverityLabelInformational, "AwsS3Bucket", false, false},
	}
	if len(fs) != len(want) {
		t.Fatalf("%d ASFF findings, want %d", len(fs), len(want))
	}
	ids := map[string]bool{}
	for _, f := range fs {
		k := key(f)
		w, ok := want[k]
		if !ok {
			t.Errorf("unexpected finding %s", k)
			continue
		}
		got := row{f.Compliance.Status, f.Workflow.Status, f.Severity.Label, aws.ToString(f.Resources[0].Type), f.Note != nil, len(f.Compliance.StatusReasons) > 0}
		if diff := cmp.Diff(w, got, cmp.AllowUnexported(row{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
		if ids[aws.ToString(f.Id)] {
			t.Errorf("%s: duplicate Id %s", k, aws.ToString(f.Id))
		}
		ids[aws.ToString(f.Id)] = true
		if got, want := aws.ToString(f.ProductArn), "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"; got != want {
			t.Errorf("%s: ProductArn %s, want %s", k, got, want)
		}
		if f.ProductFields[ProductFieldProvider] != "coffer" || f.ProductFields[ProductFieldVersion] != "1.2.3-test" {
			t.Errorf("%s: ProductFields %v do not name coffer and its version", k, f.ProductFields)
		}
		if aws.ToString(f.CreatedAt) != "2025-06-01T02:00:00.000Z" || aws.ToString(f.UpdatedAt) != "2025-06-01T02:00:07.000Z" {
			t.Errorf("%s: CreatedAt %s UpdatedAt %s", k, aws.ToString(f.CreatedAt), aws.ToString(f.UpdatedAt))
		}
	}
	// Framework mapping, on one finding with all three frameworks and one without CIS.
	for _, f := range fs {
		switch key(f) {
		case "iam-root-mfa arn:aws:iam::123456789012:root":
			if diff := cmp.Diff([]string{asffTypeCIS, asffTypeBestPractices}, f.Types); diff != "" {
				t.Errorf("iam-root-mfa Types (-want +got):\n%s", diff)
			}
			wantReq := []string{"CIS AWS Foundations Benchmark v3.0.0/1.5", "AWS Foundational Security Best Practices v1.0.0/IAM.9", "Personal File Backup with AWS S3 Bucket workshop/6.1"}
			if diff := cmp.Diff(wantReq, f.Compliance.RelatedRequirements); diff != "" {
				t.Errorf("iam-root-mfa RelatedRequirements (-want +got):\n%s", diff)
			}
		case "s3-bucket-versioning arn:aws:s3:::team-backups-primary":
			if diff := cmp.Diff([]string{asffTypeBestPractices}, f.Types); diff != "" {
				t.Errorf("s3-bucket-versioning Types (-want +got):\n%s", diff)
			}
		case "s3-bucket-acls-disabled arn:aws:s3:::team-backups-primary":
			if got := aws.ToString(f.Note.Text); !strings.Contains(got, "Legacy uploader <v2> needs ACLs") || !strings.Contains(got, "2026-09-30") {
				t.Errorf("waiver note %q lacks the reason or the expiry", got)
			}
		case "kms-key-rotation arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab":
			if got := aws.ToString(f.Compliance.StatusReasons[0].Description); !strings.Contains(got, "AccessDeniedException") {
				t.Errorf("ERROR reason %q lacks the error", got)
			}
		}
	}
}

// TestASFFLimits: text longer than Security Hub takes is cut, with an ellipsis, to its limit.
func TestASFFLimits(t *testing.T) {
	r := goldenReport()
	long := strings.Repeat("é", 5000)
	for i := range r.Findings {
		r.Findings[i].Title = long
		r.Findings[i].Message = long
		r.Findings[i].Remediation.Summary = long
		if r.Findings[i].Waiver != nil {
			r.Findings[i].Waiver.Reason = long
		}
	}
	fs, err := ASFFFindings(r, "")
	if err != nil {
		t.Fatal(err)
	}
	check := func(field, s string, limit int) {
		t.Helper()
		if n := utf8.RuneCountInString(s); n != limit || !strings.HasSuffix(s, ellipsis) {
			t.Errorf("%s: %d characters ending %q, want %d ending with an ellipsis", field, n, s[len(s)-4:], limit)
		}
	}
	for _, f := range fs {
		check("Title", aws.ToString(f.Title), asffMaxTitle)
		check("Description", aws.ToString(f.Description), asffMaxDescription)
		check("Recommendation", aws.ToString(f.Remediation.Recommendation.Text), asffMaxRecommendation)
		if f.Note != nil {
			check("Note", aws.ToString(f.Note.Text), asffMaxNote)
		}
		for _, sr := range f.Compliance.StatusReasons {
			check("StatusReason", aws.ToString(sr.Description), asffMaxStatusReason)
		}
		if got := aws.ToString(f.ProductArn); !strings.Contains(got, ":eu-west-1:") {
			t.Errorf("without a region, ProductArn %s is not in the report's first region", got)
		}
	}
}

func TestFindingUID(t *testing.T) {
	base := FindingUID("123456789012", "s3-bucket-versioning", "arn:aws:s3:::b")
	if again := FindingUID("123456789012", "s3-bucket-versioning", "arn:aws:s3:::b"); again != base {
		t.Errorf("not stable: %s then %s", base, again)
	}
	for name, other := range map[string]string{
		"account":  FindingUID("210987654321", "s3-bucket-versioning", "arn:aws:s3:::b"),
		"check":    FindingUID("123456789012", "s3-bucket-tls-only", "arn:aws:s3:::b"),
		"resource": FindingUID("123456789012", "s3-bucket-versioning", "arn:aws:s3:::c"),
	} {
		if other == base {
			t.Errorf("another %s gives the same id %s", name, base)
		}
	}
	if !strings.HasPrefix(base, FindingUIDPrefix("123456789012")) {
		t.Errorf("%s does not start with the account's prefix", base)
	}
	if long := FindingUID("123456789012", strings.Repeat("x", 1000), "arn:aws:s3:::"+strings.Repeat("b", 1<<20)); len(long) > 512 {
		t.Errorf("id of %d bytes exceeds Security Hub's 512", len(long))
	}
}

// TestASFFNeedsATime: ASFF findings need timestamps; a report without any is an error, not a
// finding dated year 1.
func TestASFFNeedsATime(t *testing.T) {
	r := goldenReport()
	r.StartedAt, r.FinishedAt = time.Time{}, time.Time{}
	for _, format := range []string{FormatASFF, FormatOCSF} {
		rep, _ := New(format, Options{})
		if err := rep.Write(&bytes.Buffer{}, r); err == nil || !strings.Contains(err.Error(), "no time") {
			t.Errorf("%s: error %v, want one about the missing time", format, err)
		}
	}
}

// TestASFFImportsWithTheAWSCLI imports the ASFF golden report into moto's Security Hub with the
// real aws CLI (`batch-import-findings --findings file://…`, which validates every field against
// the API's model) and reads it back with the SDK: every finding is taken, and written again by
// WriteASFF the findings Security Hub returns are the file's bytes.
func TestASFFImportsWithTheAWSCLI(t *testing.T) {
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the aws CLI is not on PATH: run `make test` (it installs it into .venv): %v", err)
	}
	srv := motoserver.Shared(t)
	srv.Reset(t)
	ctx := context.Background()
	const region = "eu-west-1"
	file := filepath.Join(t.TempDir(), "coffer.asff.json")
	data := render(t, FormatASFF, Options{Region: region}, goldenReport())
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	client := awsclient.NewSecurityHub(srv.AWSConfig(t, region), region, srv.Options().Options)
	if _, err := client.EnableSecurityHub(ctx, &securityhub.EnableSecurityHubInput{}); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(awsCLI, "securityhub", "batch-import-findings", "--region", region, "--findings", "file://"+file)
	cmd.Env = srv.CLIEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	var res struct {
		FailedCount, SuccessCount int
		FailedFindings            []any
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("batch-import-findings output %q: %v", out, err)
	}
	if res.FailedCount != 0 || res.SuccessCount != 13 {
		t.Fatalf("batch-import-findings: %d failed %v, %d imported; want 13 imported", res.FailedCount, res.FailedFindings, res.SuccessCount)
	}

	var got []types.AwsSecurityFinding
	p := securityhub.NewGetFindingsPaginator(client, &securityhub.GetFindingsInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.Findings...)
	}
	var back bytes.Buffer
	if err := WriteASFF(&back, got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(data), back.String()); diff != "" {
		t.Errorf("findings read back from Security Hub differ from the file (-file +read back):\n%s", diff)
	}
}

// TestWriteASFFEmpty: no findings is an empty array, which BatchImportFindings' CLI accepts too.
func TestWriteASFFEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteASFF(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "[]\n" {
		t.Errorf("got %q, want []", got)
	}
}

// TestWriteASFFValidates: the SDK's validator runs before its serializer, so a finding without a
// required field is an error naming it, not a file Security Hub would refuse.
func TestWriteASFFValidates(t *testing.T) {
	fs, err := ASFFFindings(goldenReport(), "")
	if err != nil {
		t.Fatal(err)
	}
	fs[3].Title = nil
	if err := WriteASFF(&bytes.Buffer{}, fs); err == nil || !strings.Contains(err.Error(), "Title") {
		t.Errorf("error %v, want one naming the missing Title", err)
	}
}

// TestASFFPartition: findings of another partition get its ProductArn and resource partition.
func TestASFFPartition(t *testing.T) {
	r := goldenReport()
	for i := range r.Findings {
		r.Findings[i].Resource.ARN = strings.Replace(r.Findings[i].Resource.ARN, "arn:aws:", "arn:aws-cn:", 1)
	}
	r.Findings = append(r.Findings, checks.Finding{CheckID: "zz-no-arn", Title: "t", Severity: checks.SeverityLow, Status: checks.StatusFail,
		Resource: checks.Resource{Name: "thing"}, Message: "m"})
	fs, err := ASFFFindings(r, "cn-north-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if got := aws.ToString(f.ProductArn); !strings.HasPrefix(got, "arn:aws-cn:securityhub:cn-north-1:") {
			t.Errorf("%s: ProductArn %s", aws.ToString(f.GeneratorId), got)
		}
		if f.Resources[0].Partition != types.PartitionAwsCn {
			t.Errorf("%s: resource partition %s", aws.ToString(f.GeneratorId), f.Resources[0].Partition)
		}
	}
}
