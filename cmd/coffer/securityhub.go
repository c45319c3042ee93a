package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/collect"
	"github.com/coffer-audit/coffer/reporters"
	"github.com/coffer-audit/coffer/reporters/securityhub"
)

// securityHubFlags are scan's Security Hub flags.
type securityHubFlags struct {
	enabled bool
	region  string
}

func (f *securityHubFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.enabled, "security-hub", false, "import the findings into AWS Security Hub of the scanned account, each account's into its own with --org/--accounts (IAM: docs/iam/coffer-securityhub-policy.json); exit 2 if none could be")
	cmd.Flags().StringVar(&f.region, "security-hub-region", "", "Security Hub region for --security-hub and --format asff (default: the home region)")
}

// regionFor is the Security Hub region of a scan of snap: --security-hub-region, else the home
// region.
func (f *securityHubFlags) regionFor(snap *checks.Snapshot) string {
	return cmp.Or(f.region, snap.Account.HomeRegion)
}

// maxFailuresShown bounds the refused findings listed on stderr; the count is always given.
const maxFailuresShown = 20

// importSecurityHub imports the report's findings into Security Hub with the credentials of the
// AWS flags. It returns an exit error (2) when nothing could be imported; refused findings are
// listed on stderr and leave the scan's exit code alone.
func (a *app) importSecurityHub(ctx context.Context, f *scanFlags, report *checks.Report, snap *checks.Snapshot) error {
	opts, err := a.collectOptions(&f.aws)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.aws.timeout)
	defer cancel()
	cfg, err := awsclient.LoadConfig(ctx, opts.Options)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("aws configuration: %w", err)}
	}
	region := cmp.Or(f.securityHub.regionFor(snap), cfg.Region)
	res, err := importAccount(ctx, cfg, opts.Options, region, report, a.now())
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	a.printImport(res, "")
	if len(res.Failed) > 0 && res.Imported+res.Archived == 0 {
		return &exitError{code: exitUsage, err: fmt.Errorf("Security Hub refused all %d findings; nothing was imported", len(res.Failed))}
	}
	return nil
}

// importAccount imports the findings of one account's report into that account's Security Hub in
// region, with cfg, which acts in that account. The error says what to do when Security Hub is
// not enabled there.
func importAccount(ctx context.Context, cfg aws.Config, opts awsclient.Options, region string, report *checks.Report, now time.Time) (*importResult, error) {
	findings, err := reporters.ASFFFindings(report, region)
	if err != nil {
		return nil, err
	}
	res, err := securityhub.Import(ctx, awsclient.NewSecurityHub(cfg, region, opts), securityhub.Input{
		AccountID:  report.AccountID,
		ProductARN: reporters.ASFFProductARN(reporters.Partition(report), region, report.AccountID),
		Findings:   findings,
		Now:        now,
	})
	if errors.Is(err, securityhub.ErrNotEnabled) {
		return nil, fmt.Errorf("Security Hub is not enabled for account %s in %s: enable it (aws securityhub enable-security-hub --region %s) or choose its region with --security-hub-region; nothing was imported",
			report.AccountID, region, region)
	}
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was imported", err)
	}
	return &importResult{Result: res, account: report.AccountID, region: region}, nil
}

// importResult is what an import did in one account and region.
type importResult struct {
	*securityhub.Result
	account, region string
}

// printImport lists the refused findings (a bounded number) and the counts on stderr; label
// names the account in an organisation scan.
func (a *app) printImport(res *importResult, label string) {
	for i, fl := range res.Failed {
		if i == maxFailuresShown {
			fmt.Fprintf(a.stderr, "coffer: Security Hub%s: … and %d more refused findings\n", label, len(res.Failed)-i)
			break
		}
		fmt.Fprintf(a.stderr, "coffer: Security Hub%s refused finding %s: %s: %s\n", label, fl.ID, fl.Code, fl.Message)
	}
	fmt.Fprintf(a.stderr, "coffer: Security Hub%s (%s): %d findings imported, %d archived, %d refused\n", label, res.region, res.Imported, res.Archived, len(res.Failed))
}

// orgImport imports an organisation scan's findings account by account, each into the account's
// own Security Hub with the credentials that read it (the caller's for its own account, the member
// role for the others), a few accounts at a time while the evaluation goes on. Accounts that were
// not read are not imported: no credentials reach them.
type orgImport struct {
	a       *app
	ctx     context.Context // bounded by --timeout, as the collection is
	cancel  context.CancelFunc
	base    aws.Config
	org     collect.OrgOptions
	caller  string
	region  string
	slots   chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	results []*importResult
	failed  map[string]error // by account
}

// newOrgImport prepares the imports of a live organisation scan whose collection src holds.
func (a *app) newOrgImport(ctx context.Context, f *scanFlags, src checks.AccountSource) (*orgImport, error) {
	org, err := a.orgOptions(&f.aws)
	if err != nil {
		return nil, err
	}
	base, err := awsclient.LoadConfig(ctx, org.Options.Options)
	if err != nil {
		return nil, usageErrorf("aws configuration: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, f.aws.timeout)
	return &orgImport{
		a: a, ctx: ctx, cancel: cancel, base: base, org: org, caller: src.Header().CallerAccountID,
		region: cmp.Or(f.securityHub.region, base.Region),
		slots:  make(chan struct{}, max(org.AccountConcurrency, 1)),
		failed: map[string]error{},
	}, nil
}

// add starts the import of one account's report; it waits while AccountConcurrency imports run.
func (o *orgImport) add(info checks.AccountInfo, report *checks.Report) {
	if info.Status != checks.AccountScanned {
		return
	}
	o.slots <- struct{}{}
	o.wg.Go(func() {
		defer func() { <-o.slots }()
		partition := reporters.Partition(report)
		cfg := o.org.AccountConfig(o.base, o.caller, partition, info.ID)
		res, err := importAccount(o.ctx, cfg, o.org.Options.Options, o.region, report, o.a.now())
		o.mu.Lock()
		defer o.mu.Unlock()
		if err != nil {
			o.failed[info.ID] = err
			return
		}
		o.results = append(o.results, res)
	})
}

// abandon stops the imports under way, when the scan itself failed, and waits for them.
func (o *orgImport) abandon() {
	o.cancel()
	o.wg.Wait()
}

// finish waits for the imports and says, account by account, what each did. It returns an exit
// error (2) when no account's findings could be imported.
func (o *orgImport) finish() error {
	o.wg.Wait()
	o.cancel()
	slices.SortFunc(o.results, func(x, y *importResult) int { return cmp.Compare(x.account, y.account) })
	imported := 0
	for _, res := range o.results {
		o.a.printImport(res, " of account "+res.account)
		if res.Imported+res.Archived > 0 || len(res.Failed) == 0 {
			imported++
		}
	}
	for _, id := range slices.Sorted(maps.Keys(o.failed)) {
		fmt.Fprintf(o.a.stderr, "coffer: Security Hub of account %s: %v\n", id, o.failed[id])
	}
	attempted := len(o.results) + len(o.failed)
	fmt.Fprintf(o.a.stderr, "coffer: Security Hub (%s): %d of %d accounts imported\n", o.region, imported, attempted)
	if attempted > 0 && imported == 0 {
		return &exitError{code: exitUsage, err: fmt.Errorf("Security Hub: no account's findings could be imported")}
	}
	return nil
}
