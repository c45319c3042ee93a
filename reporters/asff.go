package reporters

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/coffer-audit/coffer/checks"
)

// ASFF writes the findings in the AWS Security Finding Format, as a JSON array of
// AwsSecurityFinding objects exactly as Security Hub's BatchImportFindings takes them
// (`aws securityhub batch-import-findings --findings file://coffer.asff.json`): one entry per
// finding, whatever its status (DESIGN §15). The mapping is ASFFFindings'.
type ASFF struct {
	Options Options
}

// ASFFSchemaVersion is the ASFF version coffer writes.
const ASFFSchemaVersion = "2018-10-08"

// Security Hub's limits on the fields coffer fills with text of the snapshot (ASFF syntax in the
// Security Hub user guide); a longer value is cut and ends with an ellipsis. A finding beyond
// 240 KB is refused whole, and BatchImportFindings names it in FailedFindings.
const (
	asffMaxTitle          = 256
	asffMaxDescription    = 1024
	asffMaxRecommendation = 512
	asffMaxNote           = 512
	asffMaxStatusReason   = 2048
	asffMaxProductField   = 2048
	asffMaxDetailsOther   = 1024
	asffMaxRequirements   = 32
)

// ASFF Types (namespace/category/classifier) of a check, from its frameworks.
const (
	asffTypeCIS           = "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
	asffTypeBestPractices = "Software and Configuration Checks/AWS Security Best Practices"
)

// Product names coffer's findings carry in Security Hub (CompanyName and ProductName may be set by
// a custom integration, which the account's default product is) and in ProductFields, where
// imports look for their own findings.
const (
	asffCompanyName = "coffer-audit"
	asffProductName = "coffer"
	// ProductFieldProvider is the ProductFields key naming the tool; coffer's value is "coffer".
	ProductFieldProvider = "ProviderName"
	// ProductFieldVersion is the ProductFields key of the tool's version.
	ProductFieldVersion = "ProviderVersion"
)

// asffReasonError is the Compliance.StatusReasons code of an ERROR finding.
const asffReasonError = "COFFER_CHECK_ERROR"

// asffResourceTypes maps coffer's resource types (CloudFormation names) to ASFF resource types;
// every other type is "Other".
var asffResourceTypes = map[string]string{
	"AWS::S3::Bucket":        "AwsS3Bucket",
	"AWS::IAM::User":         "AwsIamUser",
	"AWS::IAM::Role":         "AwsIamRole",
	"AWS::IAM::Group":        "AwsIamGroup",
	"AWS::IAM::Policy":       "AwsIamPolicy",
	"AWS::KMS::Key":          "AwsKmsKey",
	"AWS::CloudTrail::Trail": "AwsCloudTrailTrail",
	"AWS::::Account":         "AwsAccount",
}

// frameworkRequirementPrefix names each framework in Compliance.RelatedRequirements (ASFF) and in
// compliance.standards and requirements (OCSF): "CIS AWS Foundations Benchmark v3.0.0/2.1.4".
var frameworkRequirementPrefix = map[string]string{
	checks.FrameworkCIS:      "CIS AWS Foundations Benchmark v3.0.0",
	checks.FrameworkFSBP:     "AWS Foundational Security Best Practices v1.0.0",
	checks.FrameworkWorkshop: "Personal File Backup with AWS S3 Bucket workshop",
}

// Write implements Reporter.
func (a *ASFF) Write(w io.Writer, r *checks.Report) error {
	if r == nil {
		return errNilReport
	}
	findings, err := ASFFFindings(r, a.Options.Region)
	if err != nil {
		return err
	}
	return WriteASFF(w, findings)
}

// accountOf is the account a finding is about: its resource's (organisation reports hold many
// accounts), else the report's (reports written before resources named their account).
func accountOf(r *checks.Report, f *checks.Finding) string {
	return cmp.Or(f.Resource.AccountID, r.AccountID)
}

// FindingUID identifies a finding across runs and formats: the ASFF Id and the OCSF
// finding_info.uid. It is made of the account, the check and a hash of the resource ARN (an ARN
// can be longer than Security Hub's 512 characters for an Id), so that importing the next scan
// updates a finding instead of adding a second one.
func FindingUID(account, checkID, arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return FindingUIDPrefix(account) + cutChars(checkID, 128) + "/" + hex.EncodeToString(sum[:16])
}

// FindingUIDPrefix starts the FindingUID of every finding of an account; imports use it to find
// their earlier findings.
func FindingUIDPrefix(account string) string {
	return "coffer/v1/" + account + "/"
}

// ASFFProductARN is the ARN of the account's default Security Hub product in region, the product
// of findings an account imports itself.
func ASFFProductARN(partition, region, account string) string {
	return fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", partition, region, account, account)
}

// asffTime formats a time as ASFF wants it (ISO 8601 in UTC with milliseconds).
func asffTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// ASFFFindings maps every finding of the report to an AwsSecurityFinding for the Security Hub of
// region (default: the report's first region, else us-east-1), sorted like the report:
//
//   - Id FindingUID; ProductArn the account's default product; GeneratorId the check id;
//     AwsAccountId accountOf the finding; CompanyName, ProductName and ProductFields name coffer.
//   - Types from the frameworks (CIS, or best practices for FSBP and workshop checks).
//   - Severity.Label the check's severity, INFORMATIONAL for a PASS as Security Hub's own controls
//     do; Severity.Original the check's severity. FindingProviderFields repeat both with Types.
//   - Compliance.Status PASSED, FAILED (also for WAIVED) or NOT_AVAILABLE for ERROR with the
//     reason in StatusReasons; RelatedRequirements "CIS AWS Foundations Benchmark v3.0.0/2.1.4".
//   - Workflow.Status NEW, RESOLVED for a PASS, SUPPRESSED for a WAIVED finding with the waiver
//     in Note. (Security Hub takes Workflow and Note only when it creates a finding.)
//   - Resources: one, with the ASFF type, the ARN, the partition, the region (region for global
//     resources) and the name and role in Details.Other.
//   - Title the check's title, Description the message (the rule's description for a PASS),
//     Remediation.Recommendation.Text the summary, cut to Security Hub's limits.
//   - CreatedAt and FirstObservedAt the scan's start, UpdatedAt and LastObservedAt its end; an
//     import keeps the CreatedAt and FirstObservedAt of findings it imported before.
func ASFFFindings(r *checks.Report, region string) ([]types.AwsSecurityFinding, error) {
	fs := sortedFindings(r)
	if len(fs) == 0 {
		return []types.AwsSecurityFinding{}, nil
	}
	start, end := r.StartedAt, r.FinishedAt
	if start.IsZero() {
		start = end
	}
	if end.IsZero() {
		end = start
	}
	if start.IsZero() {
		return nil, errors.New("asff: the report has no time (started_at), which every ASFF finding needs")
	}
	region = cmp.Or(region, firstRegion(r), "us-east-1")
	partition := Partition(r)
	rules := make(map[string]checks.Rule, len(r.Rules))
	for _, rule := range r.Rules {
		rules[rule.ID] = rule
	}
	created, updated := asffTime(start), asffTime(end)
	out := make([]types.AwsSecurityFinding, 0, len(fs))
	for i := range fs {
		out = append(out, asffFinding(r, &fs[i], rules[fs[i].CheckID], partition, region, created, updated))
	}
	return out, nil
}

func asffFinding(r *checks.Report, f *checks.Finding, rule checks.Rule, partition, region, created, updated string) types.AwsSecurityFinding {
	account := accountOf(r, f)
	arn := cmp.Or(f.Resource.ARN, f.Resource.Name)
	sev := types.SeverityLabel(f.Severity.String())
	if _, ok := severityNames[f.Severity]; !ok {
		sev = types.SeverityLabelInformational
	}
	label := sev
	if f.Status == checks.StatusPass {
		label = types.SeverityLabelInformational
	}
	original := f.Severity.String()
	findingTypes := asffTypes(f.Frameworks)

	af := types.AwsSecurityFinding{
		SchemaVersion:   aws.String(ASFFSchemaVersion),
		Id:              aws.String(FindingUID(account, f.CheckID, arn)),
		ProductArn:      aws.String(ASFFProductARN(partition, region, account)),
		GeneratorId:     aws.String(f.CheckID),
		AwsAccountId:    aws.String(account),
		CompanyName:     aws.String(asffCompanyName),
		ProductName:     aws.String(asffProductName),
		Types:           findingTypes,
		CreatedAt:       aws.String(created),
		FirstObservedAt: aws.String(created),
		UpdatedAt:       aws.String(updated),
		LastObservedAt:  aws.String(updated),
		Severity:        &types.Severity{Label: label, Original: aws.String(original)},
		FindingProviderFields: &types.FindingProviderFields{
			Severity: &types.FindingProviderSeverity{Label: label, Original: aws.String(original)},
			Types:    findingTypes,
		},
		Title:       aws.String(cutChars(cmp.Or(f.Title, rule.Title, f.CheckID), asffMaxTitle)),
		Description: aws.String(cutChars(findingDescription(f, rule), asffMaxDescription)),
		Compliance:  &types.Compliance{Status: asffCompliance[f.Status], RelatedRequirements: requirements(f.Frameworks, asffMaxRequirements)},
		Workflow:    &types.Workflow{Status: asffWorkflow[f.Status]},
		RecordState: types.RecordStateActive,
		Resources:   []types.Resource{asffResource(f.Resource, arn, partition, region)},
		ProductFields: map[string]string{
			ProductFieldProvider: asffProductName,
			ProductFieldVersion:  cutChars(cmp.Or(r.Tool.Version, "unknown"), asffMaxProductField),
			"coffer/CheckId":     cutChars(f.CheckID, asffMaxProductField),
			"coffer/Status":      string(f.Status),
			"coffer/Severity":    original,
			"coffer/Fix":         string(cmp.Or(f.Remediation.Fix, checks.FixManual)),
		},
	}
	if f.Evidence != nil && f.Evidence.Path != "" {
		af.ProductFields["coffer/EvidencePath"] = cutChars(f.Evidence.Path, asffMaxProductField)
	}
	if summary := cmp.Or(f.Remediation.Summary, rule.Remediation.Summary); summary != "" {
		af.Remediation = &types.Remediation{Recommendation: &types.Recommendation{
			Text: aws.String(cutChars(summary, asffMaxRecommendation)),
			Url:  aws.String(InformationURI),
		}}
	}
	switch f.Status {
	case checks.StatusError:
		af.Compliance.StatusReasons = []types.StatusReason{{
			ReasonCode:  aws.String(asffReasonError),
			Description: aws.String(cutChars(cmp.Or(f.Message, "The check could not be evaluated."), asffMaxStatusReason)),
		}}
	case checks.StatusWaived:
		af.Note = &types.Note{
			Text:      aws.String(cutChars("Waived in coffer.yaml: "+waiverText(f.Waiver), asffMaxNote)),
			UpdatedBy: aws.String(asffProductName),
			UpdatedAt: aws.String(updated),
		}
	}
	return af
}

var asffCompliance = map[checks.Status]types.ComplianceStatus{
	checks.StatusPass:   types.ComplianceStatusPassed,
	checks.StatusFail:   types.ComplianceStatusFailed,
	checks.StatusWaived: types.ComplianceStatusFailed,
	checks.StatusError:  types.ComplianceStatusNotAvailable,
}

var asffWorkflow = map[checks.Status]types.WorkflowStatus{
	checks.StatusPass:   types.WorkflowStatusResolved,
	checks.StatusFail:   types.WorkflowStatusNew,
	checks.StatusWaived: types.WorkflowStatusSuppressed,
	checks.StatusError:  types.WorkflowStatusNew,
}

// severityNames are the severities that are ASFF and OCSF severities too.
var severityNames = map[checks.Severity]bool{
	checks.SeverityLow: true, checks.SeverityMedium: true, checks.SeverityHigh: true, checks.SeverityCritical: true,
}

func asffResource(res checks.Resource, arn, partition, region string) types.Resource {
	out := types.Resource{
		Type:      aws.String(cmp.Or(asffResourceTypes[res.Type], "Other")),
		Id:        aws.String(arn),
		Partition: types.Partition(cmp.Or(partitionOfARN(res.ARN), partition)),
		// Global resources (IAM, the account) are reported in the region of the import, as
		// Security Hub's own controls do.
		Region: aws.String(cmp.Or(res.Region, region)),
	}
	other := map[string]string{}
	if res.Name != "" {
		other["Name"] = cutChars(res.Name, asffMaxDetailsOther)
	}
	if res.Role != "" {
		other["Role"] = cutChars(res.Role, asffMaxDetailsOther)
	}
	if res.Type != "" && asffResourceTypes[res.Type] == "" {
		other["Type"] = cutChars(res.Type, asffMaxDetailsOther)
	}
	if len(other) > 0 {
		out.Details = &types.ResourceDetails{Other: other}
	}
	return out
}

// asffTypes are the ASFF finding types of a check with these frameworks: CIS for a CIS control,
// AWS Security Best Practices for an FSBP control, and for a check of the workshop's baseline
// only (such as a standby bucket), which is an AWS best practice for backups too.
func asffTypes(fw map[string][]string) []string {
	var out []string
	if len(fw[checks.FrameworkCIS]) > 0 {
		out = append(out, asffTypeCIS)
	}
	if len(fw[checks.FrameworkFSBP]) > 0 || len(out) == 0 {
		out = append(out, asffTypeBestPractices)
	}
	return out
}

// requirements lists the framework controls of a finding as "<standard>/<control>", known
// frameworks first, at most max of them.
func requirements(fw map[string][]string, max int) []string {
	var out []string
	for _, name := range frameworkNames(fw) {
		std := cmp.Or(frameworkRequirementPrefix[name], name)
		for _, id := range fw[name] {
			if len(out) == max {
				return out
			}
			out = append(out, std+"/"+id)
		}
	}
	return out
}

// standards lists the frameworks a finding has controls in, by their full names.
func standards(fw map[string][]string) []string {
	var out []string
	for _, name := range frameworkNames(fw) {
		if len(fw[name]) > 0 {
			out = append(out, cmp.Or(frameworkRequirementPrefix[name], name))
		}
	}
	return out
}

// findingDescription is the finding's message; a PASS has none, so the rule's description (or
// title) says what holds.
func findingDescription(f *checks.Finding, rule checks.Rule) string {
	return cmp.Or(f.Message, rule.Description, f.Title, rule.Title, f.CheckID)
}

// firstRegion is the report's first region (the home region of a single-region scan).
func firstRegion(r *checks.Report) string {
	if len(r.Regions) > 0 {
		return r.Regions[0]
	}
	return ""
}

// Partition is the AWS partition of the report's resources: that of the first ARN in the order of
// the findings ("aws" when no finding has an ARN).
func Partition(r *checks.Report) string {
	for _, f := range sortedFindings(r) {
		if p := partitionOfARN(f.Resource.ARN); p != "" {
			return p
		}
	}
	return "aws"
}

// partitionOfARN returns the partition of an ARN, or "" when s is not one.
func partitionOfARN(s string) string {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) == 3 && parts[0] == "arn" {
		return parts[1]
	}
	return ""
}

// cutChars returns s, or its first max-1 characters and an ellipsis when it has more than max.
func cutChars(s string, max int) string {
	if len(s) <= max || utf8.RuneCountInString(s) <= max {
		return s
	}
	return prefixChars(s, max-1) + ellipsis
}

// asffBatch is how many findings WriteASFF serializes at once, BatchImportFindings' own limit.
const asffBatch = 100

// WriteASFF writes findings as a JSON array in the API's own field names and encoding: the SDK's
// serializer for BatchImportFindings encodes each batch (its validator first checks the required
// fields), and the request body is written out instead of being sent. The array is indented by
// two spaces.
func WriteASFF(w io.Writer, findings []types.AwsSecurityFinding) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteByte('[')
	var indented bytes.Buffer
	var canonical canonicalJSON
	n := 0
	for start := 0; start < len(findings); start += asffBatch {
		body, err := serializeASFF(findings[start:min(start+asffBatch, len(findings))])
		if err != nil {
			return err
		}
		// The SDK writes maps (ProductFields, Details.Other) in Go's random map order;
		// canonicalJSON sorts every object's keys, so the same findings give the same bytes.
		// Struct fields are in alphabetical order already, and numbers stay as written.
		err = eachFinding(body, func(raw []byte) ([]byte, error) {
			if n > 0 {
				bw.WriteByte(',')
			}
			n++
			bw.WriteString("\n  ")
			indented.Reset()
			rest, err := canonical.write(&indented, raw, "  ", 0)
			if err != nil {
				return nil, fmt.Errorf("asff: read the serialized finding: %w", err)
			}
			bw.Write(indented.Bytes())
			return rest, nil
		})
		if err != nil {
			return err
		}
	}
	if len(findings) > 0 {
		bw.WriteByte('\n')
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// eachFinding calls write with the bytes from each finding of a BatchImportFindings body
// ({"Findings":[…]}) on; write returns what follows the finding.
func eachFinding(body []byte, write func(raw []byte) ([]byte, error)) error {
	src, ok := bytes.CutPrefix(skipSpace(body), []byte(`{"Findings":[`))
	if !ok {
		return fmt.Errorf("asff: the serialized request is not {\"Findings\":[…]}: %.40q", body)
	}
	if src = skipSpace(src); len(src) > 0 && src[0] == ']' {
		return nil
	}
	for {
		rest, err := write(src)
		if err != nil {
			return err
		}
		src = skipSpace(rest)
		switch {
		case len(src) > 0 && src[0] == ',':
			src = src[1:]
		case bytes.Equal(bytes.TrimSpace(src), []byte("]}")):
			return nil
		default:
			return fmt.Errorf("asff: the serialized request does not end as expected: %.40q", src)
		}
	}
}

// errSerialized stops a BatchImportFindings call once its body is serialized.
var errSerialized = errors.New("serialized")

// asffSerializer is a Security Hub client that never sends a request: serializeASFF stops every
// call after serialization. Region, endpoint and credentials are not needed before that.
var asffSerializer = securityhub.New(securityhub.Options{Region: "us-east-1"})

// serializeASFF returns the body of a BatchImportFindings request for findings, as the SDK
// encodes it: {"Findings":[...]}.
func serializeASFF(findings []types.AwsSecurityFinding) ([]byte, error) {
	var body []byte
	capture := func(stack *middleware.Stack) error {
		return stack.Build.Add(middleware.BuildMiddlewareFunc("CofferCaptureASFF",
			func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				req, ok := in.Request.(*smithyhttp.Request)
				if !ok {
					return middleware.BuildOutput{}, middleware.Metadata{}, fmt.Errorf("unexpected request type %T", in.Request)
				}
				var err error
				if s := req.GetStream(); s != nil {
					body, err = io.ReadAll(s)
				}
				if err != nil {
					return middleware.BuildOutput{}, middleware.Metadata{}, err
				}
				return middleware.BuildOutput{}, middleware.Metadata{}, errSerialized
			}), middleware.After)
	}
	_, err := asffSerializer.BatchImportFindings(context.Background(), &securityhub.BatchImportFindingsInput{Findings: findings},
		func(o *securityhub.Options) { o.APIOptions = append(o.APIOptions, capture) })
	if !errors.Is(err, errSerialized) {
		return nil, fmt.Errorf("asff: serialize findings: %w", err)
	}
	if body == nil {
		return nil, errors.New("asff: serialize findings: the SDK wrote no body")
	}
	return body, nil
}
