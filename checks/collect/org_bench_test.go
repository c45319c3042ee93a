package collect_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/bench"
	"github.com/coffer-audit/coffer/checks/collect"
	"github.com/coffer-audit/coffer/fixtures/faultproxy"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
	"github.com/coffer-audit/coffer/fixtures/seed"
)

// benchLatency is what each API call waits in the fault proxy before moto answers: about a
// real regional endpoint's round trip, so that concurrency, not moto's speed, decides the time.
const benchLatency = 40 * time.Millisecond

// The accounts of BenchmarkCollectOrg: an organisation of orgAccounts accounts (the caller's and
// its members) of orgBucketsEach buckets, and one account outside it, loneAccount, holding as many
// buckets as all of them together.
const (
	orgAccounts    = 20
	orgBucketsEach = 25
	loneAccount    = "300000000000"
)

// BenchmarkCollectOrg compares the collection of an organisation of 20 accounts (the caller's and
// 19 members) of 25 buckets each with that of one account of the same 500 buckets: every call
// delayed 40 ms by the fault proxy, Concurrency 16 per account, the default account concurrency
// (and, on the lean emulator, 1 and 8 to show what it buys).
//
// moto=full is the emulator as every test runs it, with AWS-managed IAM policies: each account's
// GetAccountAuthorizationDetails then carries some 1,300 policies, which moto, a single-threaded
// server, serialises anew for every account — a cost per account that is the emulator's.
// moto=lean leaves them out, so that what remains is coffer's work, moto's per-call cost and the
// latency.
//
// Metrics: heap-peak-MB (the Go heap, live and not yet collected, sampled every 5 ms),
// rss-peak-MB (this process's VmHWM: the peak of everything run so far, so run one sub-benchmark
// alone to read it), moto-cpu-s/op (the emulator's CPU time per collection: when it nears the wall
// time, moto is the bottleneck and not coffer).
//
//	go test ./checks/collect/ -run X -bench 'CollectOrg/moto=full/20x25/' -benchtime 2x
func BenchmarkCollectOrg(b *testing.B) {
	type shape struct {
		name               string
		accounts           []string
		buckets            int
		accountConcurrency int
	}
	for _, moto := range []string{"full", "lean"} {
		b.Run("moto="+moto, func(b *testing.B) {
			srv := motoserver.Shared(b)
			if moto == "lean" {
				s, err := motoserver.LaunchWith(motoserver.Config{NoManagedPolicies: true})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Stop()
				srv = s
			}
			org := seedBenchAccounts(b, srv)
			shapes := []shape{
				{"1x500", []string{loneAccount}, orgAccounts * orgBucketsEach, 0},
				{"20x25", org, orgBucketsEach, 0},
			}
			if moto == "lean" {
				shapes = append(shapes, shape{"20x25/account-concurrency=1", org, orgBucketsEach, 1}, shape{"20x25/account-concurrency=8", org, orgBucketsEach, 8})
			}
			for _, sh := range shapes {
				b.Run(sh.name, func(b *testing.B) {
					benchmarkCollectOrg(b, srv, sh.accounts, sh.buckets, sh.accountConcurrency)
				})
			}
		})
	}
}

// seedBenchAccounts resets srv and seeds the organisation and the lone account; it returns the
// organisation's account ids.
func seedBenchAccounts(b *testing.B, srv *motoserver.Server) []string {
	ctx := context.Background()
	srv.Reset(b)
	cfg := srv.AWSConfig(b, "us-east-1")
	opts := srv.Options().Options
	names := make([]string, orgAccounts-1)
	for i := range names {
		names[i] = fmt.Sprintf("member-%02d", i)
	}
	members, err := seed.Organization(ctx, cfg, names...)
	if err != nil {
		b.Fatal(err)
	}
	org := []string{motoserver.AccountID}
	for _, m := range members {
		org = append(org, m.ID)
	}
	fill := func(id string, n int) {
		acfg := cfg
		if id != motoserver.AccountID {
			acfg = seed.MemberConfig(cfg, id)
		}
		s3c := awsclient.NewS3(acfg, "us-east-1", opts)
		for i := range n {
			if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(fmt.Sprintf("bench-%s-%04d", id, i))}); err != nil {
				b.Fatalf("seed bucket %d of %s: %v", i, id, err)
			}
		}
		// Moto builds an account's IAM, with the managed policies, on first use: do it here
		// rather than in the first timed collection (the members' was built by CreateAccount).
		if _, err := awsclient.NewIAM(acfg, opts).GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}); err != nil {
			b.Fatal(err)
		}
	}
	for _, id := range org {
		fill(id, orgBucketsEach)
	}
	fill(loneAccount, orgAccounts*orgBucketsEach)
	return org
}

// benchmarkCollectOrg collects accounts (the organisation when there are several, else the one
// account named) and checks that each holds buckets buckets.
func benchmarkCollectOrg(b *testing.B, srv *motoserver.Server, accounts []string, buckets, accountConcurrency int) {
	ctx := context.Background()
	cfg := srv.AWSConfig(b, "us-east-1")
	p := faultproxy.Start(b, srv.URL, faultproxy.Options{Rules: []faultproxy.Rule{{Kind: faultproxy.Latency, Rate: 1, Delay: benchLatency}}})
	opts := collect.OrgOptions{RoleName: seed.MemberRole, AccountConcurrency: accountConcurrency, Options: srv.Options()}
	opts.EndpointURL = p.URL
	opts.Concurrency = 16
	if len(accounts) == 1 {
		opts.Accounts = accounts
	}

	peak := bench.SampleHeap()
	cpu0 := procCPU(b, srv.PID())
	b.ResetTimer()
	for b.Loop() {
		n := 0
		_, err := collect.CollectOrg(ctx, cfg, opts, func(a *checks.OrgAccount) error {
			if a.Status != checks.AccountScanned || len(a.Snapshot.S3.Buckets) != buckets || len(a.Snapshot.Errors) != 0 {
				return fmt.Errorf("account %s: %s %s", a.ID, a.Status, a.Error)
			}
			n++
			return nil
		})
		if err != nil || n != len(accounts) {
			b.Fatalf("collected %d accounts: %v", n, err)
		}
	}
	b.StopTimer()
	b.ReportMetric((procCPU(b, srv.PID())-cpu0).Seconds()/float64(b.N), "moto-cpu-s/op")
	b.ReportMetric(float64(peak())/(1<<20), "heap-peak-MB")
	b.ReportMetric(float64(vmHWM(b))/(1<<20), "rss-peak-MB")
}

// procCPU is the user and system CPU time of process pid.
func procCPU(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command (which may hold spaces) start after the last ')'.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	utime, _ := strconv.Atoi(fields[11])
	stime, _ := strconv.Atoi(fields[12])
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

// vmHWM is this process's peak resident set size.
func vmHWM(b *testing.B) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
