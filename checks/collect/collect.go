package collect

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
)

// CollectorName is written to snapshot.collector.name.
const CollectorName = "coffer"

// Collect reads the account behind cfg into a snapshot. It returns an error only when nothing
// useful can be read (no credentials, unreachable endpoint, STS GetCallerIdentity failing) or when
// ctx is cancelled; every other failed call becomes an entry in snapshot.Errors.
func Collect(ctx context.Context, cfg aws.Config, opts Options) (*checks.Snapshot, error) {
	opts = opts.withDefaults()
	// The clients of this collection all use cfg's credentials: the account in the cache key is
	// the one GetCallerIdentity reports.
	ao := opts.Options
	c := &collector{
		cfg:  cfg,
		opts: opts,
		home: opts.HomeRegion(cfg),
		errs: &errorLog{},
		prog: &progress{fn: opts.Progress},
		s3Clients: awsclient.NewCache(func(_, region string) *s3.Client {
			return awsclient.NewS3(cfg, region, ao)
		}),
		ctClients: awsclient.NewCache(func(_, region string) *cloudtrail.Client {
			return awsclient.NewCloudTrail(cfg, region, ao)
		}),
		kmsClients: awsclient.NewCache(func(_, region string) *kms.Client {
			return awsclient.NewKMS(cfg, region, ao)
		}),
	}
	snap := &checks.Snapshot{
		SchemaVersion: checks.SnapshotSchemaVersion,
		Collector:     checks.Collector{Name: CollectorName, Version: opts.Version},
		CollectedAt:   time.Now().UTC().Truncate(time.Second),
	}

	if err := c.identity(ctx, &snap.Account); err != nil {
		return nil, err
	}
	c.accountID, c.partition = snap.Account.ID, snap.Account.Partition

	regions, err := c.regions(ctx)
	if err != nil {
		return nil, err
	}
	snap.Regions = regions

	var wg sync.WaitGroup
	run := func(fn func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(ctx)
		}()
	}
	run(func(ctx context.Context) { snap.Account.PublicAccessBlock = c.accountPublicAccessBlock(ctx) })
	run(func(ctx context.Context) { snap.S3 = c.collectS3(ctx) })
	run(func(ctx context.Context) { c.collectIAM(ctx, snap) })
	run(func(ctx context.Context) { snap.KMS = c.collectKMS(ctx, regions) })
	run(func(ctx context.Context) { snap.CloudTrail = c.collectCloudTrail(ctx, regions) })
	wg.Wait()

	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("collect account %s: %w", c.accountID, err)
	}
	snap.Errors = c.errs.sorted()
	return snap, nil
}

// collector holds what every service collector shares: config, options, the error log and the
// client caches (one client per service and region).
type collector struct {
	cfg       aws.Config
	opts      Options
	home      string
	accountID string
	partition string
	errs      *errorLog
	prog      *progress

	s3Clients  *awsclient.Cache[*s3.Client]
	ctClients  *awsclient.Cache[*cloudtrail.Client]
	kmsClients *awsclient.Cache[*kms.Client]
}

// s3For returns the cached S3 client of region.
func (c *collector) s3For(region string) *s3.Client { return c.s3Clients.Get(c.accountID, region) }

// cloudTrailFor returns the cached CloudTrail client of region.
func (c *collector) cloudTrailFor(region string) *cloudtrail.Client {
	return c.ctClients.Get(c.accountID, region)
}

// kmsFor returns the cached KMS client of region.
func (c *collector) kmsFor(region string) *kms.Client { return c.kmsClients.Get(c.accountID, region) }

// fail records a failed call. Calls cut short by the caller's cancellation are not recorded: the
// whole collection fails then.
func (c *collector) fail(ctx context.Context, service, operation, resource, region string, err error) {
	if ctx.Err() != nil {
		return
	}
	code, msg := awsclient.ErrorCode(err)
	c.errs.add(checks.CollectError{
		Service:   service,
		Operation: operation,
		Resource:  resource,
		Region:    region,
		Code:      code,
		Message:   msg,
	})
}

// errorLog collects CollectErrors from many goroutines.
type errorLog struct {
	mu   sync.Mutex
	list []checks.CollectError
}

func (l *errorLog) add(e checks.CollectError) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, e)
}

// sorted returns the errors in a deterministic order (never nil, so the JSON is []).
func (l *errorLog) sorted() []checks.CollectError {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]checks.CollectError{}, l.list...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Operation != b.Operation {
			return a.Operation < b.Operation
		}
		if a.Resource != b.Resource {
			return a.Resource < b.Resource
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		return a.Message < b.Message
	})
	return out
}

// progress counts work items; total grows as resources are discovered.
type progress struct {
	mu          sync.Mutex
	done, total int
	fn          func(done, total int)
}

func (p *progress) add(n int) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total += n
	p.fn(p.done, p.total)
}

func (p *progress) step() {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.fn(p.done, p.total)
}

// forEach runs fn for 0..n-1 on at most workers goroutines. It stops handing out work when ctx is
// done; items not started keep their zero value.
func forEach(ctx context.Context, n, workers int, fn func(ctx context.Context, i int)) {
	if n == 0 {
		return
	}
	workers = max(1, min(workers, n))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(ctx, i)
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
}

// defaultEnabledRegions are the regions of each partition that every account has enabled (no
// opt-in). --regions all falls back to them when account:ListRegions cannot be read.
var defaultEnabledRegions = map[string][]string{
	"aws": {
		"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
		"ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2",
		"eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
	},
	"aws-us-gov": {"us-gov-east-1", "us-gov-west-1"},
	"aws-cn":     {"cn-north-1", "cn-northwest-1"},
}

// regions resolves Options.Regions: empty is the home region, "all" is every region enabled for
// the account (account:ListRegions; when that fails, the partition's default-enabled regions and
// an error entry). The result is sorted and contains no duplicates.
func (c *collector) regions(ctx context.Context) ([]string, error) {
	set := map[string]bool{}
	all := false
	for _, r := range c.opts.Regions {
		switch r {
		case "":
		case "all":
			all = true
		default:
			set[r] = true
		}
	}
	if all {
		enabled, err := c.enabledRegions(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("list regions: %w", ctx.Err())
			}
			c.fail(ctx, "account", "ListRegions", "", c.home, err)
			enabled = defaultEnabledRegions[c.partition]
			if len(enabled) == 0 {
				enabled = defaultEnabledRegions["aws"]
			}
		}
		for _, r := range enabled {
			set[r] = true
		}
	}
	if len(set) == 0 {
		set[c.home] = true
	}
	return checks.SortedKeys(set), nil
}

// inEachRegion runs read for every region concurrently, each one a progress step, and returns the
// results in the order of regions.
func inEachRegion[T any](c *collector, regions []string, read func(region string) T) []T {
	out := make([]T, len(regions))
	var wg sync.WaitGroup
	c.prog.add(len(regions))
	for i, region := range regions {
		wg.Go(func() {
			defer c.prog.step()
			out[i] = read(region)
		})
	}
	wg.Wait()
	return out
}
