package reporters

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/bench"
	"github.com/coffer-audit/coffer/policies"
)

// variedReports caches the report of bench.VariedSnapshot(n): evaluating 10,000 buckets takes
// longer than writing any format, and every format is measured on the same report.
var variedReports sync.Map // n → *checks.Report

func variedReport(b *testing.B, n int) *checks.Report {
	b.Helper()
	if r, ok := variedReports.Load(n); ok {
		return r.(*checks.Report)
	}
	ctx := context.Background()
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		b.Fatal(err)
	}
	r, err := engine.Evaluate(ctx, bench.VariedSnapshot(n), checks.EvalOptions{})
	if err != nil {
		b.Fatal(err)
	}
	variedReports.Store(n, r)
	return r
}

// cpuTime is the CPU time the process has used: on a shared machine it says more about the cost
// of a write than the wall time does. It counts every thread, the garbage collector's too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWrite writes the report of an account of 1,000 and 10,000 varied buckets in each
// format and reports the bytes written (bytes/op) beside the time and allocations.
func BenchmarkWrite(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, format := range Formats() {
			b.Run(fmt.Sprintf("%s/%d", format, n), func(b *testing.B) {
				r := variedReport(b, n)
				// What the CLI writes: SARIF beyond what GitHub shows is split into files.
				files := OutputFiles(format, "report", r, Options{})
				b.ReportAllocs()
				b.ResetTimer()
				var written countingWriter
				cpu := cpuTime()
				for b.Loop() {
					written = 0
					for _, file := range files {
						rep, err := New(format, file.Options)
						if err != nil {
							b.Fatal(err)
						}
						if err := rep.Write(&written, file.Report); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(written), "bytes/op")
				b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
