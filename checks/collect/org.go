package collect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
)

// DefaultAccountConcurrency is how many accounts an organisation collection reads at once when
// OrgOptions.AccountConcurrency is not set. Each account has its own pool of Concurrency API
// workers, so 4 accounts keep up to 64 calls in flight. Against AWS, where every account has its
// own API rate limits, an organisation should take about ceil(accounts/4) times one account's
// latency-bound time (not measured here); what limits the number is the scanner's memory, since
// every account in flight holds its IAM answer and its snapshot. BenchmarkCollectOrg (20 accounts
// of 25 buckets, 40 ms per call) cannot show the speed side on moto: the single-threaded emulator
// is the bottleneck (its CPU time is two thirds or more of the wall time), so 1, 4 and 8 accounts
// at once take the same time within the machine's noise with AWS-managed policies loaded, 8 is
// 5–27% faster than 4 without them, and the Go heap peaks at 65, 99 and 112 MB for 1, 4 and 8 at
// once (moto sends each account's 1,300 managed policies in one answer). 4 is the middle;
// --account-concurrency changes it.
const DefaultAccountConcurrency = 4

// windowPerWorker bounds how far collection may run ahead of emit: at most
// windowPerWorker×AccountConcurrency accounts are collecting or collected but not yet emitted.
// An account that is slow to collect holds back the emit order of those after it; with a window of
// twice the workers, the others keep going through as many accounts again before the pool waits,
// and memory holds at most that many account snapshots.
const windowPerWorker = 2

// OrgOptions configures an organisation collection (DESIGN §14).
type OrgOptions struct {
	// Options are the options of every account's collection: the AWS client options, regions,
	// each account's API worker-pool size (Concurrency) and the version. Options.Progress is not
	// called: Progress reports every account.
	Options
	// Accounts, when not empty, are the accounts to collect instead of the organisation's: no
	// Organizations call is made, so their names are not known.
	Accounts []string
	// RoleName is the role assumed in every account but the caller's (which is read with the
	// caller's own credentials). Required when any other account is collected: coffer has no
	// default, so that it never assumes a role nobody chose.
	RoleName string
	// ExternalID is sent with every AssumeRole when the member roles' trust policy requires it.
	ExternalID string
	// SessionName names the AssumeRole sessions, as member accounts' CloudTrail shows them;
	// default SessionName(now).
	SessionName string
	// AccountConcurrency is how many accounts are read at once (default 4).
	AccountConcurrency int
	// Skip, when set, leaves accounts to another run (a shard of the organisation, --shard
	// I/N): for an account it returns a reason for, the account is not read and is emitted as
	// skipped with that reason (checks.Shard's SkipReason). Every shard's snapshot so lists the
	// whole organisation, and `coffer merge` drops these placeholders and notices an account no
	// shard read. It is asked before the account's state: a suspended account is listed as
	// suspended only by the shard it belongs to. Skipped accounts are not counted in
	// OrgProgress.Accounts.
	Skip func(accountID string) (reason string)
	// Progress, when set, hears of every account's work as it goes. Calls are serialised; a slow
	// Progress slows every account.
	Progress func(OrgProgress)
}

// OrgProgress is one step of an organisation collection: an account's work items, and the
// organisation's count of accounts.
type OrgProgress struct {
	AccountID string
	// Done and Total count the account's work items; Total grows as resources are found.
	Done, Total int
	// Finished is set on the account's last event: its collection ended (read or failed).
	Finished bool
	// AccountsFinished of Accounts have ended; Accounts counts those to collect (not skipped).
	AccountsFinished, Accounts int
}

// SessionName is the default AssumeRole session name: coffer-<UTC time>, e.g.
// coffer-20261207T120000Z, so that a member account's CloudTrail tells which run read it.
func SessionName(t time.Time) string {
	return "coffer-" + t.UTC().Format("20060102T150405Z")
}

// IAM's patterns for what goes into an AssumeRole call, checked before any call is made.
var (
	roleNamePattern    = regexp.MustCompile(`^[\w+=,.@-]+(/[\w+=,.@-]+)*$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]{2,}$`) // and at most 1224 characters
	accountIDPattern   = regexp.MustCompile(`^[0-9]{12}$`)
)

// OrgRun is an organisation collection ready to run: the caller is known and the accounts are
// listed. Collect (or All) reads them.
type OrgRun struct {
	cfg       aws.Config
	opts      OrgOptions
	header    checks.OrgSnapshot
	partition string
	// accounts are in id order: the order of emit.
	accounts []orgMember
	// collected counts the accounts to read (not skipped).
	collected int
}

// orgMember is an account of the run.
type orgMember struct {
	id, name string
	// skip says why the account is not read; "" reads it.
	skip string
}

// StartOrg prepares the collection of an organisation with the caller's configuration cfg: it
// checks the options, asks STS who the caller is and lists the accounts (ListAccounts, unless
// opts.Accounts names them). Its errors make the whole run meaningless — no credentials, the
// account list denied, a role name missing — and nothing has been collected then.
func StartOrg(ctx context.Context, cfg aws.Config, opts OrgOptions) (*OrgRun, error) {
	opts.Options = opts.Options.withDefaults()
	opts.Options.Progress = nil
	if opts.AccountConcurrency <= 0 {
		opts.AccountConcurrency = DefaultAccountConcurrency
	}
	if opts.SessionName == "" {
		opts.SessionName = SessionName(time.Now())
	}
	if !sessionNamePattern.MatchString(opts.SessionName) {
		return nil, fmt.Errorf("role session name %q: want 2 to 64 letters, digits or +=,.@_-", opts.SessionName)
	}
	if opts.ExternalID != "" && (len(opts.ExternalID) > 1224 || !externalIDPattern.MatchString(opts.ExternalID)) {
		return nil, fmt.Errorf("external id: want 2 to 1224 letters, digits or +=,.@:/_-")
	}
	if opts.RoleName != "" && !roleNamePattern.MatchString(opts.RoleName) {
		return nil, fmt.Errorf("role name %q: want a role name (with its path, if any), not an ARN", opts.RoleName)
	}

	id, err := callerIdentity(ctx, cfg, opts.Options)
	if err != nil {
		return nil, err
	}
	r := &OrgRun{
		cfg:       cfg,
		opts:      opts,
		partition: partitionOf(aws.ToString(id.Arn)),
		header: checks.OrgSnapshot{
			SchemaVersion:   checks.OrgSnapshotSchemaVersion,
			Collector:       checks.Collector{Name: CollectorName, Version: opts.Version},
			CollectedAt:     time.Now().UTC().Truncate(time.Second),
			CallerAccountID: aws.ToString(id.Account),
		},
	}
	var all []orgMember
	if len(opts.Accounts) > 0 {
		all, err = explicitAccounts(opts.Accounts)
	} else {
		all, err = r.listAccounts(ctx)
	}
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		// The management account is always in its organisation: an empty list is a broken
		// answer, and scanning nothing would pass as a clean organisation.
		return nil, fmt.Errorf("list the organisation's accounts: ListAccounts returned no account")
	}
	slices.SortFunc(all, func(a, b orgMember) int { return cmp.Compare(a.id, b.id) })
	for _, m := range all {
		if opts.Skip != nil {
			if reason := opts.Skip(m.id); reason != "" {
				m.skip = reason
			}
		}
		r.accounts = append(r.accounts, m)
		if m.skip == "" {
			r.collected++
			if m.id != r.header.CallerAccountID && opts.RoleName == "" {
				return nil, fmt.Errorf("a role name is needed to read account %s (and every account but the caller's %s)", m.id, r.header.CallerAccountID)
			}
		}
	}
	return r, nil
}

// explicitAccounts checks a list of account ids (duplicates are read once).
func explicitAccounts(ids []string) ([]orgMember, error) {
	seen := map[string]bool{}
	var out []orgMember
	for _, id := range ids {
		if !accountIDPattern.MatchString(id) {
			return nil, fmt.Errorf("account id %q is not 12 digits", id)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, orgMember{id: id})
		}
	}
	return out, nil
}

// organizationsAPI is the part of AWS Organizations the collector uses.
type organizationsAPI interface {
	ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
}

var _ organizationsAPI = (*organizations.Client)(nil)

// listAccounts lists the organisation's accounts: ACTIVE ones are read, the others (suspended,
// closing, not yet active) are skipped with their state as the reason.
func (r *OrgRun) listAccounts(ctx context.Context) ([]orgMember, error) {
	var api organizationsAPI = awsclient.NewOrganizations(r.cfg, r.opts.Options.Options)
	p := organizations.NewListAccountsPaginator(api, &organizations.ListAccountsInput{})
	var out []orgMember
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if awsclient.IsCode(err, "AWSOrganizationsNotInUseException") {
				return nil, fmt.Errorf("list the organisation's accounts: account %s is not in an organisation (name the accounts to read instead): %w", r.header.CallerAccountID, err)
			}
			return nil, fmt.Errorf("list the organisation's accounts (organizations:ListAccounts, allowed to the management account and a delegated administrator): %w", err)
		}
		for _, a := range page.Accounts {
			m := orgMember{id: aws.ToString(a.Id), name: aws.ToString(a.Name)}
			if state := accountState(a); state != string(orgtypes.AccountStateActive) {
				m.skip = fmt.Sprintf("the account is %s in the organisation", state)
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// accountState is the account's State, or its Status where State is not sent (Organizations
// retires Status in September 2026; older emulators send only Status).
func accountState(a orgtypes.Account) string {
	if a.State != "" {
		return string(a.State)
	}
	if a.Status != "" {
		return string(a.Status)
	}
	return "in an unknown state"
}

// Header is the organisation snapshot's header (its Accounts are not filled in): write it before
// the accounts.
func (r *OrgRun) Header() checks.OrgSnapshot { return r.header }

// RoleARN is the role assumed to read accountID.
func (r *OrgRun) RoleARN(accountID string) string {
	return r.opts.RoleARN(r.partition, accountID)
}

// RoleARN is the role (RoleName) in accountID of the partition ("" is aws).
func (o OrgOptions) RoleARN(partition, accountID string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", cmp.Or(partition, "aws"), accountID, o.RoleName)
}

// AccountConfig is the configuration that acts in accountID: base itself for the caller's own
// account, the member role (RoleARN, with ExternalID and SessionName) assumed with base for any
// other. The role is assumed on the first call, not here. Fixes and Security Hub imports act in
// each account as its collection read it.
func (o OrgOptions) AccountConfig(base aws.Config, callerAccountID, partition, accountID string) aws.Config {
	if accountID == callerAccountID {
		return base
	}
	role := awsclient.AssumeRole{RoleARN: o.RoleARN(partition, accountID), ExternalID: o.ExternalID, SessionName: o.SessionName}
	return awsclient.AssumedConfig(base, role, o.Options.Options)
}

// Collect reads the accounts, AccountConcurrency at a time, and calls emit once per account in
// account-id order, on the goroutine that called Collect: read accounts as scanned, accounts that
// could not be read as error (why, with the AWS error code), the others as skipped (why). emit
// may keep the account; Collect holds it no longer.
//
// Accounts are started in id order and at most 2×AccountConcurrency are read or held at a time,
// so an account that finishes before an earlier one waits for it in memory, and memory holds a
// bounded number of account snapshots however large the organisation.
//
// Collect returns an error only when ctx ends or emit fails; it stops reading then.
func (r *OrgRun) Collect(ctx context.Context, emit func(*checks.OrgAccount) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := len(r.accounts)
	results := make([]chan *checks.OrgAccount, n)
	for i := range results {
		results[i] = make(chan *checks.OrgAccount, 1)
	}
	workers := min(r.opts.AccountConcurrency, max(r.collected, 1))
	window := make(chan struct{}, workers*windowPerWorker)
	work := make(chan int)
	prog := &orgProgress{fn: r.opts.Progress, accounts: r.collected}

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // runs before wg.Wait: stops the workers when Collect returns early
	for range workers {
		wg.Go(func() {
			for i := range work {
				results[i] <- r.collectAccount(ctx, r.accounts[i], prog)
			}
		})
	}
	wg.Go(func() {
		defer close(work)
		for i, m := range r.accounts {
			if m.skip != "" {
				results[i] <- &checks.OrgAccount{ID: m.id, Name: m.name, Status: checks.AccountSkipped, Error: m.skip}
				continue
			}
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	})

	for i, m := range r.accounts {
		var acct *checks.OrgAccount
		select {
		case acct = <-results[i]:
		case <-ctx.Done():
		}
		// Nothing more is emitted once ctx has ended, even an account already read.
		if acct == nil || ctx.Err() != nil {
			return fmt.Errorf("collect the organisation's accounts: %w", context.Cause(ctx))
		}
		if err := emit(acct); err != nil {
			return err
		}
		if m.skip == "" {
			<-window
		}
	}
	return nil
}

// errStopped ends Collect when the consumer of All stops early.
var errStopped = errors.New("stopped")

// All is Collect as an iterator: the accounts in id order, and an error last if the run ends
// early. Stopping the loop stops the collection. With iter.Pull2 it feeds
// checks.WriteOrgSnapshot, which pulls the accounts one at a time:
//
//	next, stop := iter.Pull2(run.All(ctx))
//	defer stop()
//	err := checks.WriteOrgSnapshot(w, run.Header(), func() (*checks.OrgAccount, bool, error) {
//		a, err, ok := next()
//		return a, ok && err == nil, err
//	})
func (r *OrgRun) All(ctx context.Context) iter.Seq2[*checks.OrgAccount, error] {
	return func(yield func(*checks.OrgAccount, error) bool) {
		err := r.Collect(ctx, func(a *checks.OrgAccount) error {
			if !yield(a, nil) {
				return errStopped
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopped) {
			yield(nil, err)
		}
	}
}

// CollectOrg is StartOrg and Collect: it reads every account of the organisation (or of
// opts.Accounts) and hands each to emit in account-id order. It returns the snapshot's header.
func CollectOrg(ctx context.Context, cfg aws.Config, opts OrgOptions, emit func(*checks.OrgAccount) error) (checks.OrgSnapshot, error) {
	run, err := StartOrg(ctx, cfg, opts)
	if err != nil {
		return checks.OrgSnapshot{}, err
	}
	return run.Header(), run.Collect(ctx, emit)
}

// collectAccount reads one account: the caller's with cfg, any other through its role. A failure
// to get in becomes an error account; nil means ctx ended.
func (r *OrgRun) collectAccount(ctx context.Context, m orgMember, prog *orgProgress) *checks.OrgAccount {
	acct := &checks.OrgAccount{ID: m.id, Name: m.name}
	done, total := 0, 0
	defer func() { prog.finish(m.id, done, total) }()
	failed := func(format string, args ...any) *checks.OrgAccount {
		if ctx.Err() != nil {
			return nil
		}
		acct.Status, acct.Error = checks.AccountError, fmt.Sprintf(format, args...)
		return acct
	}

	cfg := r.opts.AccountConfig(r.cfg, r.header.CallerAccountID, r.partition, m.id)
	if m.id != r.header.CallerAccountID {
		// Retrieve now, so that a role that cannot be assumed is told apart from an account
		// whose first read fails.
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			return failed("assume role %s: %s", r.RoleARN(m.id), describeError(err))
		}
	}
	opts := r.opts.Options
	opts.Progress = func(d, t int) {
		done, total = d, t
		prog.step(m.id, d, t)
	}
	snap, err := Collect(ctx, cfg, opts)
	if err != nil {
		return failed("read the account: %s", describeError(err))
	}
	if snap.Account.ID != m.id {
		// Only a misconfigured role or credential chain can do this; the snapshot would be filed
		// under the wrong account.
		return failed("the credentials for account %s are those of account %s", m.id, snap.Account.ID)
	}
	acct.Status, acct.Snapshot = checks.AccountScanned, snap
	return acct
}

// describeError says what failed, with the AWS error code: "STS AssumeRole: AccessDenied: …".
func describeError(err error) string {
	code, msg := awsclient.ErrorCode(err)
	var op *smithy.OperationError
	if errors.As(err, &op) {
		return fmt.Sprintf("%s %s: %s: %s", op.Service(), op.Operation(), code, msg)
	}
	return code + ": " + msg
}

// orgProgress serialises the progress of the accounts read concurrently.
type orgProgress struct {
	mu       sync.Mutex
	fn       func(OrgProgress)
	finished int
	accounts int
}

func (p *orgProgress) step(id string, done, total int) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fn(OrgProgress{AccountID: id, Done: done, Total: total, AccountsFinished: p.finished, Accounts: p.accounts})
}

func (p *orgProgress) finish(id string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished++
	if p.fn != nil {
		p.fn(OrgProgress{AccountID: id, Done: done, Total: total, Finished: true, AccountsFinished: p.finished, Accounts: p.accounts})
	}
}
