package collect

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"

	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/fixtures/faultproxy"
)

func TestBucketRegion(t *testing.T) {
	for in, want := range map[string]string{"": "us-east-1", "EU": "eu-west-1", "eu-west-1": "eu-west-1", "ap-southeast-7": "ap-southeast-7"} {
		if got := bucketRegion(in); got != want {
			t.Errorf("bucketRegion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSmallHelpers(t *testing.T) {
	tests := []struct{ got, want string }{
		{partitionOf("arn:aws-us-gov:iam::1:user/x"), "aws-us-gov"},
		{partitionOf("arn:aws:sts::1:assumed-role/r/s"), "aws"},
		{partitionOf("garbage"), "aws"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("case %d: got %q, want %q", i, tc.got, tc.want)
		}
	}
}

func TestForEachBoundsConcurrency(t *testing.T) {
	tests := []struct{ n, workers int }{{0, 4}, {1, 4}, {50, 4}, {10, 1}, {3, 0}}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("n=%d,workers=%d", tc.n, tc.workers), func(t *testing.T) {
			var running, peak, done atomic.Int32
			seen := make([]atomic.Int32, tc.n)
			forEach(context.Background(), tc.n, tc.workers, func(_ context.Context, i int) {
				cur := running.Add(1)
				for {
					p := peak.Load()
					if cur <= p || peak.CompareAndSwap(p, cur) {
						break
					}
				}
				time.Sleep(time.Millisecond)
				seen[i].Add(1)
				done.Add(1)
				running.Add(-1)
			})
			if int(done.Load()) != tc.n {
				t.Errorf("ran %d items, want %d", done.Load(), tc.n)
			}
			for i := range seen {
				if seen[i].Load() != 1 {
					t.Errorf("item %d ran %d times", i, seen[i].Load())
				}
			}
			if limit := max(1, tc.workers); int(peak.Load()) > limit {
				t.Errorf("peak concurrency %d, want at most %d", peak.Load(), limit)
			}
		})
	}
}

func TestForEachStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int32
	forEach(ctx, 1000, 2, func(_ context.Context, i int) {
		if ran.Add(1) == 5 {
			cancel()
		}
	})
	if n := ran.Load(); n >= 1000 || n < 5 {
		t.Errorf("ran %d items after cancelling at 5", n)
	}
}

// TestCallTimeout uses an endpoint that answers STS but never answers anything else: every other
// call must give up after CallTimeout, be recorded as a Timeout, and the run must end promptly.
// Nothing here depends on the machine's speed: the hung calls always reach their deadline, and
// STS, the only call answered, is lifted from it (the identity probe's deadline is CallTimeout
// too, and a loaded machine can take longer than 300ms to make even a local call).
func TestCallTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err == nil && r.Form.Get("Action") == "GetCallerIdentity" {
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
				`<Arn>arn:aws:iam::123456789012:user/slow</Arn><UserId>AIDA</UserId><Account>123456789012</Account>`+
				`</GetCallerIdentityResult></GetCallerIdentityResponse>`)
			return
		}
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)

	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	}
	// A safety net: a call that ignored every deadline would hang until then.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := Options{Options: awsclient.Options{EndpointURL: srv.URL, CallTimeout: 300 * time.Millisecond,
		APIOptions: []func(*middleware.Stack) error{faultproxy.LiftDeadlines(ctx, func(id string) bool { return id == "STS" })}}, Concurrency: 4}
	start := time.Now()
	snap, err := Collect(ctx, cfg, opts)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	// A call that waited for the default call timeout instead of 300ms takes the run past it on
	// any machine; a run whose calls give up after 300ms, a few of them in a row, stays far below.
	if elapsed := time.Since(start); elapsed >= awsclient.DefaultCallTimeout {
		t.Errorf("Collect took %s with a 300ms call timeout", elapsed)
	}
	ops := map[string]string{}
	for _, e := range snap.Errors {
		ops[e.Service+":"+e.Operation] = e.Code
	}
	for _, op := range []string{"s3:ListBuckets", "iam:GetAccountAuthorizationDetails", "kms:ListKeys", "cloudtrail:DescribeTrails", "s3control:GetPublicAccessBlock"} {
		if code, ok := ops[op]; !ok || code != "Timeout" {
			t.Errorf("%s: recorded %v with code %q, want a Timeout entry", op, ok, code)
		}
	}
	if snap.Account.ID != "123456789012" {
		t.Errorf("account = %q", snap.Account.ID)
	}
}
