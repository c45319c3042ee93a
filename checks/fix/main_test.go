package fix_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/collect"
	"github.com/coffer-audit/coffer/checks/fix"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
	"github.com/coffer-audit/coffer/policies"
)

// TestMain stops the package's shared moto_server after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	os.Exit(code)
}

const account = motoserver.AccountID

var (
	engineOnce sync.Once
	engine     *checks.Engine
	engineErr  error
)

// builtIn is the engine with the real embedded policies, loaded once per test binary.
func builtIn(t *testing.T) *checks.Engine {
	t.Helper()
	engineOnce.Do(func() {
		engine, engineErr = checks.NewEngine(context.Background(), checks.EngineOptions{BuiltIn: policies.FS})
	})
	if engineErr != nil {
		t.Fatalf("load policies: %v", engineErr)
	}
	return engine
}

// env is one test's moto account: SDK config, collector options with the recorder, and clients
// built by collect's constructors for seeding.
type env struct {
	srv  *motoserver.Server
	cfg  aws.Config
	opts collect.Options
	rec  *motoserver.Recorder
	// shift moves the snapshot's collection time forward, for checks about ages moto cannot backdate.
	shift time.Duration
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := motoserver.Shared(t)
	srv.Reset(t)
	rec := &motoserver.Recorder{}
	opts := srv.Options()
	opts.APIOptions = append(opts.APIOptions, rec.Option)
	return &env{srv: srv, cfg: srv.AWSConfig(t, "us-east-1"), opts: opts, rec: rec}
}

func (e *env) s3(region string) *s3.Client { return awsclient.NewS3(e.cfg, region, e.opts.Options) }
func (e *env) iam() *iam.Client            { return awsclient.NewIAM(e.cfg, e.opts.Options) }
func (e *env) kms(region string) *kms.Client {
	return awsclient.NewKMS(e.cfg, region, e.opts.Options)
}
func (e *env) trail(region string) *cloudtrail.Client {
	return awsclient.NewCloudTrail(e.cfg, region, e.opts.Options)
}

// clients are the fixer's clients for the env (the recorder sees their calls).
func (e *env) clients() *fix.Clients {
	cl := fix.NewClients(e.cfg, e.opts.Options)
	cl.Concurrency = e.opts.Concurrency
	return cl
}

// scan collects the account and evaluates it with the real policies.
func (e *env) scan(ctx context.Context, t *testing.T, cfg *checks.Config) (*checks.Snapshot, *checks.Report) {
	t.Helper()
	opts := e.opts
	opts.Regions = []string{"us-east-1", "eu-west-1"}
	snap, err := collect.Collect(ctx, e.cfg, opts)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	snap.CollectedAt = snap.CollectedAt.Add(e.shift)
	report, err := builtIn(t).Evaluate(ctx, snap, checks.EvalOptions{Config: cfg, Tool: checks.Tool{Name: "coffer", Version: "test"}})
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	return snap, report
}

func must[T any](t *testing.T, what string) func(T, error) T {
	t.Helper()
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %s: %v", what, err)
		}
		return v
	}
}

func createBucket(ctx context.Context, t *testing.T, e *env, name, region string, tags map[string]string) {
	t.Helper()
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	must[*s3.CreateBucketOutput](t, "create bucket "+name)(e.s3(region).CreateBucket(ctx, in))
	if len(tags) > 0 {
		var set []s3types.Tag
		for k, v := range tags {
			set = append(set, s3types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		must[*s3.PutBucketTaggingOutput](t, "tag "+name)(e.s3(region).PutBucketTagging(ctx, &s3.PutBucketTaggingInput{
			Bucket: aws.String(name), Tagging: &s3types.Tagging{TagSet: set},
		}))
	}
}

func bucketARN(name string) string { return "arn:aws:s3:::" + name }

func finding(r *checks.Report, check, arn string) *checks.Finding {
	for i := range r.Findings {
		if r.Findings[i].CheckID == check && r.Findings[i].Resource.ARN == arn {
			return &r.Findings[i]
		}
	}
	return nil
}

func status(r *checks.Report, check, arn string) string {
	if f := finding(r, check, arn); f != nil {
		return string(f.Status)
	}
	return "(no finding)"
}

// only keeps the plan's changes for one check (other checks fail in a minimal account too).
func only(p *fix.Plan, check string) *fix.Plan {
	out := *p
	out.Changes = nil
	for _, c := range p.Changes {
		if c.CheckID == check {
			out.Changes = append(out.Changes, c)
		}
	}
	return &out
}

func changeFor(p *fix.Plan, check, arn string) *fix.Change {
	for _, c := range p.Changes {
		if c.CheckID == check && c.Resource.ARN == arn {
			return c
		}
	}
	return nil
}
