// Package collect reads the live configuration of an AWS account into a checks.Snapshot. It only
// calls read APIs (plus iam:GenerateCredentialReport), records every failed call as a
// checks.CollectError and carries on, so one unreadable resource never aborts a scan. Its clients
// come from checks/awsclient.
package collect

import "github.com/coffer-audit/coffer/checks/awsclient"

// DefaultConcurrency is the worker-pool size when Options.Concurrency is not set.
const DefaultConcurrency = 16

// Options configures Collect: the AWS client options (profile, home region, endpoint, call
// timeout, hooks) and what to collect and how.
type Options struct {
	awsclient.Options
	// Regions are the regions whose KMS keys and CloudTrail trails are read. Empty means the home
	// region only; ["all"] means every region enabled for the account (account:ListRegions, falling
	// back to the partition's regions that are enabled by default when that call fails).
	Regions     []string
	Concurrency int    // worker-pool size, default 16
	Version     string // written to snapshot.collector.version
	// Progress, when set, is called as work items complete; total grows while resources are found.
	Progress func(done, total int)
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	o.Options = o.Options.WithDefaults()
	return o
}
