package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/atomicfile"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/collect"
)

// orgFlags select the accounts of an organisation scan (DESIGN §14).
type orgFlags struct {
	org                bool
	accounts           string
	roleName           string
	externalID         string
	sessionName        string
	accountConcurrency int
	shard              string
	shardCount         int
}

func (f *orgFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.org, "org", false, "every ACTIVE account of the AWS Organization (organizations:ListAccounts from the management account or a delegated administrator)")
	fl.StringVar(&f.accounts, "accounts", "", "these accounts instead of the organisation's: a comma list of account ids")
	fl.StringVar(&f.roleName, "role-name", "", "with --org/--accounts: the role assumed in each member account (no default; the caller's own account is read with its own credentials)")
	fl.StringVar(&f.externalID, "external-id", "", "with --org/--accounts: the ExternalId the member roles require")
	fl.StringVar(&f.sessionName, "role-session-name", "", "with --org/--accounts: AssumeRole session name, as member CloudTrails show it (default coffer-<UTC time>)")
	fl.IntVar(&f.accountConcurrency, "account-concurrency", collect.DefaultAccountConcurrency, "with --org/--accounts: accounts read at once, each with its own --concurrency pool")
	fl.StringVar(&f.shard, "shard", "", "with --org/--accounts: read only shard I of N (I/N, 1-based; accounts are assigned by a hash of their id), for `coffer merge` to join")
	fl.IntVar(&f.shardCount, "shard-count", 0, "with --org/--accounts: N shards, this one chosen by JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs)")
}

// enabled says whether the run covers several accounts.
func (f *orgFlags) enabled() bool { return f.org || f.accounts != "" }

func (f *orgFlags) validate() error {
	switch {
	case f.org && f.accounts != "":
		return usageErrorf("--org and --accounts both choose the accounts: give one")
	case !f.enabled() && (f.roleName != "" || f.externalID != "" || f.sessionName != "" || f.shard != "" || f.shardCount != 0):
		return usageErrorf("--role-name, --external-id, --role-session-name, --shard and --shard-count need --org or --accounts")
	case f.accountConcurrency < 1:
		return usageErrorf("--account-concurrency must be at least 1")
	}
	return nil
}

func (a *app) orgOptions(f *awsFlags) (collect.OrgOptions, error) {
	if err := f.org.validate(); err != nil {
		return collect.OrgOptions{}, err
	}
	opts, err := a.collectOptions(f)
	if err != nil {
		return collect.OrgOptions{}, err
	}
	opts.Progress = nil // an organisation has a bar per account (orgProgress)
	o := collect.OrgOptions{
		Options: opts, RoleName: f.org.roleName, ExternalID: f.org.externalID,
		SessionName: f.org.sessionName, AccountConcurrency: f.org.accountConcurrency,
	}
	if o.SessionName == "" {
		o.SessionName = collect.SessionName(a.now())
	}
	shard, err := checks.ShardFromFlags(f.org.shard, f.org.shardCount, os.Getenv)
	if err != nil {
		return collect.OrgOptions{}, usageError(err)
	}
	if !shard.Whole() {
		// Every account of the organisation is listed, those of other shards as skipped with
		// the shard's reason: `coffer merge` drops them, and tells a missing shard by them.
		o.Skip = func(id string) string {
			if shard.Includes(id) {
				return ""
			}
			return shard.SkipReason()
		}
	}
	for _, id := range strings.Split(f.org.accounts, ",") {
		if id = strings.TrimSpace(id); id != "" {
			o.Accounts = append(o.Accounts, id)
		}
	}
	return o, nil
}

// collectOrg reads the organisation's accounts and hands each to emit, in account order. It
// returns the snapshot header.
func (a *app) collectOrg(ctx context.Context, f *awsFlags, emit func(header checks.OrgSnapshot, acct *checks.OrgAccount) error) (checks.OrgSnapshot, error) {
	opts, err := a.orgOptions(f)
	if err != nil {
		return checks.OrgSnapshot{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	cfg, err := awsclient.LoadConfig(ctx, opts.Options.Options)
	if err != nil {
		return checks.OrgSnapshot{}, usageErrorf("aws configuration: %w", err)
	}
	bars := a.newOrgProgress(f.quiet)
	opts.Progress = bars.update
	run, err := collect.StartOrg(ctx, cfg, opts)
	if err != nil {
		bars.wait()
		return checks.OrgSnapshot{}, usageErrorf("list the accounts: %w", err)
	}
	header := run.Header()
	err = run.Collect(ctx, func(acct *checks.OrgAccount) error { return emit(header, acct) })
	bars.wait()
	if err != nil {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
			return header, usageErrorf("collection did not finish within --timeout %s: %w", f.timeout, err)
		}
		return header, usageErrorf("collect: %w", err)
	}
	return header, nil
}

// writeOrgSnapshot collects the organisation into path (or stdout for "" and "-"), account by
// account: the file never holds more than one account in memory.
func (a *app) writeOrgSnapshot(ctx context.Context, f *awsFlags, path string) error {
	write := func(w io.Writer) error {
		var ow *checks.OrgSnapshotWriter
		header, err := a.collectOrg(ctx, f, func(header checks.OrgSnapshot, acct *checks.OrgAccount) error {
			if ow == nil {
				var err error
				if ow, err = checks.NewOrgSnapshotWriter(w, header); err != nil {
					return err
				}
			}
			return ow.Add(acct)
		})
		if err != nil {
			return err
		}
		if ow == nil { // no account at all (an empty shard)
			if ow, err = checks.NewOrgSnapshotWriter(w, header); err != nil {
				return err
			}
		}
		return ow.Close()
	}
	if path == "" || path == "-" {
		return write(a.stdout)
	}
	return atomicfile.Write(path, write)
}

// liveOrg collects the organisation into a temporary snapshot file and opens it: evaluation then
// reads it account by account, so a large organisation is never held in memory at once. cleanup
// removes the file.
func (a *app) liveOrg(ctx context.Context, f *awsFlags) (src *checks.SnapshotFile, cleanup func(), err error) {
	tmp, err := os.CreateTemp("", "coffer-org-*.json")
	if err != nil {
		return nil, nil, fmt.Errorf("temporary snapshot: %w", err)
	}
	path := tmp.Name()
	cleanup = func() { os.Remove(path) }
	tmp.Close()
	if err := a.writeOrgSnapshot(ctx, f, path); err != nil {
		cleanup()
		return nil, nil, err
	}
	src, err = checks.OpenSnapshot(path)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("read back the organisation snapshot: %w", err)
	}
	return src, cleanup, nil
}

// orgProgress draws a bar per account being read and one for the organisation, with rate and ETA,
// on a terminal stderr; nothing otherwise or with --quiet.
type orgProgress struct {
	mu    sync.Mutex
	p     *mpb.Progress
	total *mpb.Bar
	bars  map[string]*mpb.Bar
}

func (a *app) newOrgProgress(quiet bool) *orgProgress {
	op := &orgProgress{bars: map[string]*mpb.Bar{}}
	if quiet || !isTerminal(a.stderr) {
		return op
	}
	op.p = mpb.New(mpb.WithOutput(a.stderr), mpb.WithWidth(40))
	return op
}

func (op *orgProgress) update(ev collect.OrgProgress) {
	if op.p == nil {
		return
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.total == nil {
		op.total = op.p.AddBar(int64(ev.Accounts), mpb.BarPriority(1<<30),
			mpb.PrependDecorators(decor.Name("accounts ", decor.WCSyncWidth), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.AverageSpeed(0, " %.2f/s "), decor.AverageETA(decor.ET_STYLE_MMSS)))
	}
	op.total.SetTotal(int64(ev.Accounts), false)
	op.total.SetCurrent(int64(ev.AccountsFinished))
	bar := op.bars[ev.AccountID]
	if bar == nil && !ev.Finished {
		bar = op.p.AddBar(int64(max(ev.Total, 1)), mpb.BarRemoveOnComplete(),
			mpb.PrependDecorators(decor.Name(ev.AccountID+" ", decor.WCSyncWidth), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.AverageETA(decor.ET_STYLE_MMSS)))
		op.bars[ev.AccountID] = bar
	}
	if bar != nil {
		bar.SetTotal(int64(max(ev.Total, 1)), false)
		bar.SetCurrent(int64(ev.Done))
		if ev.Finished {
			bar.SetTotal(-1, true)
			delete(op.bars, ev.AccountID)
		}
	}
}

// wait ends the bars: what is still drawn completes, and the terminal gets its line back.
func (op *orgProgress) wait() {
	if op.p == nil {
		return
	}
	op.mu.Lock()
	for id, bar := range op.bars {
		bar.Abort(true)
		delete(op.bars, id)
	}
	if op.total != nil {
		op.total.SetTotal(-1, true)
	}
	op.mu.Unlock()
	op.p.Wait()
}
