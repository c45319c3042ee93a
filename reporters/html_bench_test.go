package reporters

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/bench"
	"github.com/coffer-audit/coffer/policies"
)

var (
	variedMu      sync.Mutex
	variedReports = map[int]*checks.Report{}
)

// variedReport is bench.VariedSnapshot(n) evaluated with the built-in checks: an account with
// drift of every kind, whose findings differ from bucket to bucket. Kept for the other benchmarks
// of the run, since evaluating 10,000 buckets takes seconds.
func variedReport(b *testing.B, n int) *checks.Report {
	b.Helper()
	variedMu.Lock()
	defer variedMu.Unlock()
	if r, ok := variedReports[n]; ok {
		return r
	}
	ctx := context.Background()
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	r, err := engine.Evaluate(ctx, bench.VariedSnapshot(n), checks.EvalOptions{
		Tool: checks.Tool{Name: "coffer", Version: "bench"}, Now: func() time.Time { return now },
	})
	if err != nil {
		b.Fatal(err)
	}
	variedReports[n] = r
	return r
}

// BenchmarkHTMLWrite writes the HTML report of 1,000 and 10,000 varied buckets: time, bytes of
// the page (MB-page), allocations, and the most heap in use at once while writing
// (MB-peak-heap, sampled every millisecond, above the report itself).
func BenchmarkHTMLWrite(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("buckets=%d", n), func(b *testing.B) {
			r := variedReport(b, n)
			runtime.GC()
			base := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			metrics.Read(base)
			peak := sampleHeap()
			b.ReportAllocs()
			var size int64
			for b.Loop() {
				var w countingWriter
				if err := (&HTML{}).Write(&w, r); err != nil {
					b.Fatal(err)
				}
				size = int64(w)
			}
			b.ReportMetric(float64(size)/(1<<20), "MB-page")
			b.ReportMetric(float64(peak()-base[0].Value.Uint64())/(1<<20), "MB-peak-heap")
			b.ReportMetric(float64(len(r.Findings)), "findings")
		})
	}
}

// sampleHeap samples the bytes of live and not yet swept heap objects every millisecond until the
// returned function is called, which returns the largest sample.
func sampleHeap() func() uint64 {
	var (
		mu   sync.Mutex
		most uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			mu.Lock()
			most = max(most, sample[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return most
	}
}
