package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/reporters"
	"github.com/coffer-audit/coffer/reporters/securityhub"
)

// securityHubFlags are scan's Security Hub flags.
type securityHubFlags struct {
	enabled bool
	region  string
}

func (f *securityHubFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.enabled, "security-hub", false, "import the findings into AWS Security Hub of the scanned account (IAM: docs/iam/coffer-securityhub-policy.json); exit 2 if none could be")
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
	findings, err := reporters.ASFFFindings(report, region)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	res, err := securityhub.Import(ctx, awsclient.NewSecurityHub(cfg, region, opts.Options), securityhub.Input{
		AccountID:  report.AccountID,
		ProductARN: reporters.ASFFProductARN(reporters.Partition(report), region, report.AccountID),
		Findings:   findings,
		Now:        a.now(),
	})
	if errors.Is(err, securityhub.ErrNotEnabled) {
		return &exitError{code: exitUsage, err: fmt.Errorf("Security Hub is not enabled for account %s in %s: enable it (aws securityhub enable-security-hub --region %s) or choose its region with --security-hub-region; nothing was imported",
			report.AccountID, region, region)}
	}
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("%w; nothing was imported", err)}
	}
	for i, fl := range res.Failed {
		if i == maxFailuresShown {
			fmt.Fprintf(a.stderr, "coffer: Security Hub: … and %d more refused findings\n", len(res.Failed)-i)
			break
		}
		fmt.Fprintf(a.stderr, "coffer: Security Hub refused finding %s: %s: %s\n", fl.ID, fl.Code, fl.Message)
	}
	fmt.Fprintf(a.stderr, "coffer: Security Hub (%s): %d findings imported, %d archived, %d refused\n", region, res.Imported, res.Archived, len(res.Failed))
	if len(res.Failed) > 0 && res.Imported+res.Archived == 0 {
		return &exitError{code: exitUsage, err: fmt.Errorf("Security Hub refused all %d findings; nothing was imported", len(res.Failed))}
	}
	return nil
}
