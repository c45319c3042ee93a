// Package securityhub imports coffer's findings into AWS Security Hub (`coffer scan
// --security-hub`): the findings of one account, in the AWS Security Finding Format that
// reporters.ASFFFindings builds, with a client of that account (BatchImportFindings must be called
// by the account the findings are about). An organisation scan calls Import once per account, with
// that account's credentials.
//
// An import updates what the previous one wrote: a finding's Id is the same from one scan to the
// next (reporters.FindingUID), so a re-import updates it instead of adding one, and coffer's
// active findings of the account that the scan no longer has (the resource is gone, or the check)
// are archived (RecordState ARCHIVED).
package securityhub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/coffer-audit/coffer/reporters"
)

// API is the part of Security Hub an import calls. docs/iam/coffer-securityhub-policy.json allows
// exactly these actions, and a test keeps the two equal.
type API interface {
	DescribeHub(ctx context.Context, in *securityhub.DescribeHubInput, optFns ...func(*securityhub.Options)) (*securityhub.DescribeHubOutput, error)
	GetFindings(ctx context.Context, in *securityhub.GetFindingsInput, optFns ...func(*securityhub.Options)) (*securityhub.GetFindingsOutput, error)
	BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, optFns ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
}

var _ API = (*securityhub.Client)(nil)

const (
	// BatchSize is the most findings one BatchImportFindings call takes.
	BatchSize = 100
	// DefaultConcurrency bounds the BatchImportFindings calls in flight. Security Hub takes 10
	// calls a second per account and region, with bursts of 30; a call of 100 findings takes a few
	// hundred milliseconds, so three at a time stay about there, and the SDK's standard retryer
	// waits and retries the calls it throttles (LimitExceededException, TooManyRequestsException).
	DefaultConcurrency = 3
)

// ErrNotEnabled is wrapped by the error Import returns when Security Hub is not enabled for the
// account in the client's region.
var ErrNotEnabled = errors.New("Security Hub is not enabled for this account in this region")

// Input is one account's import.
type Input struct {
	// AccountID is the account the findings are about, the one whose credentials the client has.
	AccountID string
	// ProductARN is the account's default product in the client's region
	// (reporters.ASFFProductARN); the findings carry it, and earlier findings are looked up by it.
	ProductARN string
	// Findings are the account's findings from the current scan (reporters.ASFFFindings).
	Findings []types.AwsSecurityFinding
	// Now is the UpdatedAt of the findings Import archives.
	Now time.Time
	// Concurrency bounds the BatchImportFindings calls in flight (default DefaultConcurrency).
	Concurrency int
}

// Failure is a finding Security Hub did not take.
type Failure struct {
	ID      string
	Code    string
	Message string
}

// Result says what an import did.
type Result struct {
	// Imported counts the findings of the scan that Security Hub took (created or updated).
	Imported int
	// Archived counts earlier findings that Import marked ARCHIVED.
	Archived int
	// Failed are the findings Security Hub refused (BatchImportFindings' FailedFindings, or every
	// finding of a call that failed as a whole), sorted by id.
	Failed []Failure
}

// Import imports one account's findings into Security Hub with api, a client of that account in
// the region of the import: it checks that Security Hub is enabled (DescribeHub), reads coffer's
// active findings of the account (GetFindings), keeps the CreatedAt and FirstObservedAt of the
// findings it imported before, archives those the scan no longer has, and sends everything in
// batches of BatchSize, a few at a time (BatchImportFindings).
//
// It returns an error wrapping ErrNotEnabled when Security Hub is off, and an error when the
// earlier findings cannot be read (nothing is imported then, since archiving would be wrong).
// Findings Security Hub refuses are in Result.Failed, not an error.
func Import(ctx context.Context, api API, in Input) (*Result, error) {
	for i := range in.Findings {
		f := &in.Findings[i]
		if aws.ToString(f.AwsAccountId) != in.AccountID || aws.ToString(f.ProductArn) != in.ProductARN {
			return nil, fmt.Errorf("security hub: finding %s is for account %s and product %s, not %s and %s",
				aws.ToString(f.Id), aws.ToString(f.AwsAccountId), aws.ToString(f.ProductArn), in.AccountID, in.ProductARN)
		}
	}
	if _, err := api.DescribeHub(ctx, &securityhub.DescribeHubInput{}); err != nil {
		return nil, classify("check that Security Hub is enabled (DescribeHub)", err)
	}
	previous, err := activeFindings(ctx, api, in)
	if err != nil {
		return nil, err
	}

	// The scan's findings, with the first observation of those Security Hub already has.
	batch := make([]types.AwsSecurityFinding, 0, len(in.Findings)+len(previous))
	current := make(map[string]bool, len(in.Findings))
	for _, f := range in.Findings {
		id := aws.ToString(f.Id)
		current[id] = true
		if p, ok := previous[id]; ok {
			f.CreatedAt = cmp.Or(p.CreatedAt, f.CreatedAt)
			f.FirstObservedAt = cmp.Or(p.FirstObservedAt, f.FirstObservedAt)
		}
		batch = append(batch, f)
	}
	archived := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(previous)) {
		if !current[id] {
			archived[id] = true
			batch = append(batch, archive(previous[id], in.Now))
		}
	}

	failed := send(ctx, api, batch, cmp.Or(in.Concurrency, DefaultConcurrency))
	res := &Result{}
	for _, f := range batch {
		id := aws.ToString(f.Id)
		switch {
		case failed[id] != nil:
			res.Failed = append(res.Failed, *failed[id])
		case archived[id]:
			res.Archived++
		default:
			res.Imported++
		}
	}
	slices.SortFunc(res.Failed, func(a, b Failure) int { return strings.Compare(a.ID, b.ID) })
	// Every call refused for the same reason that says Security Hub is off: say that once.
	if len(batch) > 0 && len(res.Failed) == len(batch) && res.Failed[0].Code == codeNotEnabled {
		return res, fmt.Errorf("security hub: import findings: %w", ErrNotEnabled)
	}
	return res, nil
}

// codeNotEnabled is Security Hub's error code for an account that has not enabled it.
const codeNotEnabled = "InvalidAccessException"

// classify wraps err with what was being done, and ErrNotEnabled when Security Hub says it is off
// ("Account 123456789012 is not subscribed to AWS Security Hub").
func classify(doing string, err error) error {
	if notEnabled(err) {
		return fmt.Errorf("security hub: %s: %w (%v)", doing, ErrNotEnabled, err)
	}
	return fmt.Errorf("security hub: %s: %w", doing, err)
}

func notEnabled(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == codeNotEnabled || strings.Contains(ae.ErrorMessage(), "not subscribed"))
}

// activeFindings returns coffer's active findings of the account by id. The filter asks Security
// Hub for exactly those; each finding is checked again here, since an emulator may not filter
// (moto returns every finding), and archiving another tool's finding would be wrong.
func activeFindings(ctx context.Context, api API, in Input) (map[string]types.AwsSecurityFinding, error) {
	eq := func(v string) []types.StringFilter {
		return []types.StringFilter{{Comparison: types.StringFilterComparisonEquals, Value: aws.String(v)}}
	}
	prefix := reporters.FindingUIDPrefix(in.AccountID)
	p := securityhub.NewGetFindingsPaginator(api, &securityhub.GetFindingsInput{
		Filters: &types.AwsSecurityFindingFilters{
			ProductArn:   eq(in.ProductARN),
			AwsAccountId: eq(in.AccountID),
			Id:           []types.StringFilter{{Comparison: types.StringFilterComparisonPrefix, Value: aws.String(prefix)}},
			RecordState:  eq(string(types.RecordStateActive)),
			ProductFields: []types.MapFilter{{Comparison: types.MapFilterComparisonEquals,
				Key: aws.String(reporters.ProductFieldProvider), Value: aws.String("coffer")}},
		},
		MaxResults: aws.Int32(100),
	})
	out := map[string]types.AwsSecurityFinding{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify("read coffer's earlier findings (GetFindings)", err)
		}
		for _, f := range page.Findings {
			if aws.ToString(f.ProductArn) == in.ProductARN && aws.ToString(f.AwsAccountId) == in.AccountID &&
				strings.HasPrefix(aws.ToString(f.Id), prefix) && f.RecordState == types.RecordStateActive &&
				f.ProductFields[reporters.ProductFieldProvider] == "coffer" {
				out[aws.ToString(f.Id)] = f
			}
		}
	}
	return out, nil
}

// archive returns the import that archives an earlier finding: its fields that coffer wrote,
// RecordState ARCHIVED and UpdatedAt now. What Security Hub and its users own (workflow, notes,
// ProductFields under aws/, the control a finding maps to) is left out: an import does not set
// those.
func archive(f types.AwsSecurityFinding, now time.Time) types.AwsSecurityFinding {
	fields := map[string]string{}
	for k, v := range f.ProductFields {
		if !strings.HasPrefix(k, "aws/") {
			fields[k] = v
		}
	}
	out := types.AwsSecurityFinding{
		SchemaVersion:   f.SchemaVersion,
		Id:              f.Id,
		ProductArn:      f.ProductArn,
		GeneratorId:     f.GeneratorId,
		AwsAccountId:    f.AwsAccountId,
		CompanyName:     f.CompanyName,
		ProductName:     f.ProductName,
		Types:           f.Types,
		CreatedAt:       f.CreatedAt,
		FirstObservedAt: f.FirstObservedAt,
		LastObservedAt:  f.LastObservedAt,
		UpdatedAt:       aws.String(now.UTC().Format("2006-01-02T15:04:05.000Z")),
		Title:           f.Title,
		Description:     f.Description,
		Remediation:     f.Remediation,
		Resources:       f.Resources,
		ProductFields:   fields,
		RecordState:     types.RecordStateArchived,
	}
	if f.Severity != nil {
		out.Severity = &types.Severity{Label: f.Severity.Label, Original: f.Severity.Original}
	}
	if f.FindingProviderFields != nil {
		out.FindingProviderFields = &types.FindingProviderFields{Severity: f.FindingProviderFields.Severity, Types: f.FindingProviderFields.Types}
	}
	if f.Compliance != nil {
		out.Compliance = &types.Compliance{Status: f.Compliance.Status, RelatedRequirements: f.Compliance.RelatedRequirements, StatusReasons: f.Compliance.StatusReasons}
	}
	return out
}

// send imports findings in batches of BatchSize, at most concurrency calls at a time, and
// returns the failures by finding id: the FailedFindings of each call, and every finding of a call
// that failed as a whole (its error code and message).
func send(ctx context.Context, api API, findings []types.AwsSecurityFinding, concurrency int) map[string]*Failure {
	var batches [][]types.AwsSecurityFinding
	for start := 0; start < len(findings); start += BatchSize {
		batches = append(batches, findings[start:min(start+BatchSize, len(findings))])
	}
	var (
		mu     sync.Mutex
		failed = map[string]*Failure{}
		wg     sync.WaitGroup
		next   = make(chan []types.AwsSecurityFinding)
	)
	for range min(concurrency, len(batches)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				out, err := api.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: b})
				mu.Lock()
				if err != nil {
					code, msg := errorCode(err), err.Error()
					for _, f := range b {
						failed[aws.ToString(f.Id)] = &Failure{ID: aws.ToString(f.Id), Code: code, Message: msg}
					}
				} else {
					for _, ff := range out.FailedFindings {
						id := aws.ToString(ff.Id)
						failed[id] = &Failure{ID: id, Code: aws.ToString(ff.ErrorCode), Message: aws.ToString(ff.ErrorMessage)}
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, b := range batches {
		next <- b
	}
	close(next)
	wg.Wait()
	return failed
}

// errorCode is the API error code of err, codeNotEnabled when it says Security Hub is off, or
// "RequestError" when the call got no answer.
func errorCode(err error) string {
	if notEnabled(err) {
		return codeNotEnabled
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "RequestError"
}
