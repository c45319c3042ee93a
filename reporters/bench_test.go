package reporters

import (
	"context"
	"fmt"
	"runtime"
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

func variedReport(b testing.TB, n int) *checks.Report {
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
// format (grouped by check, the default), and the table and Markdown with --detail, and reports
// the bytes written (bytes/op) and the CPU time of the process (cpu-ms/op, every thread)
// beside the wall time and allocations.
func BenchmarkWrite(b *testing.B) {
	type variant struct {
		name, format string
		opts         Options
	}
	var variants []variant
	for _, format := range Formats() {
		variants = append(variants, variant{format, format, Options{}})
	}
	variants = append(variants,
		variant{"table-detail", FormatTable, Options{GroupBy: GroupByNone}},
		variant{"markdown-detail", FormatMarkdown, Options{GroupBy: GroupByNone}})
	for _, n := range []int{1000, 10000} {
		for _, v := range variants {
			b.Run(fmt.Sprintf("%s/%d", v.name, n), func(b *testing.B) {
				r := variedReport(b, n)
				// What the CLI writes: SARIF beyond what GitHub shows is split into files.
				files := OutputFiles(v.format, "report", r, v.opts)
				b.ReportAllocs()
				b.ResetTimer()
				var written countingWriter
				cpu := cpuTime()
				for b.Loop() {
					written = 0
					for _, file := range files {
						rep, err := New(v.format, file.Options)
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

// peakHeap samples the live heap while f runs and returns the most it saw: the heap after
// collections is what a process must hold, so a collection is forced before each sample.
func peakHeap(f func(sample func())) uint64 {
	var peak uint64
	sample := func() {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapAlloc)
	}
	sample()
	f(sample)
	sample()
	return peak
}

// accountCopy is template as the report of another account: the same findings under account id.
func accountCopy(template *checks.Report, id string) *checks.Report {
	r := *template
	r.AccountID = id
	r.Findings = make([]checks.Finding, len(template.Findings))
	copy(r.Findings, template.Findings)
	for i := range r.Findings {
		r.Findings[i].Resource.AccountID = id
		r.Findings[i].Resource.ARN += "-" + id // another account's resources are others
	}
	return &r
}

// BenchmarkOrgReport writes the JSON and SARIF report of an organisation of n accounts of 100
// varied buckets, account by account (NewStream) and whole (MergeReports, then Write), and reports
// the peak live heap: streamed, it stays that of one account whatever n; whole, it grows with n.
// Each account's report is made when it is written, as EvaluateOrg emits them.
func BenchmarkOrgReport(b *testing.B) {
	template := variedReport(b, 100)
	for _, format := range StreamFormats() {
		for _, n := range []int{50, 200} {
			id := func(i int) string { return fmt.Sprintf("%012d", 200000000000+i) }
			accounts := make([]checks.AccountInfo, n)
			for i := range accounts {
				s := template.Summary
				accounts[i] = checks.AccountInfo{ID: id(i), Status: checks.AccountScanned, Summary: &s}
			}
			b.Run(fmt.Sprintf("%s/stream/%d", format, n), func(b *testing.B) {
				b.ReportAllocs()
				var peak uint64
				var written countingWriter
				for b.Loop() {
					written = 0
					peak = max(peak, peakHeap(func(sample func()) {
						sw, err := NewStream(format, &written, Options{})
						if err != nil {
							b.Fatal(err)
						}
						for i := range n {
							if err := sw.Account(accountCopy(template, id(i))); err != nil {
								b.Fatal(err)
							}
							sample()
						}
						if err := sw.Close(accounts); err != nil {
							b.Fatal(err)
						}
					}))
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(written), "bytes/op")
			})
			b.Run(fmt.Sprintf("%s/whole/%d", format, n), func(b *testing.B) {
				b.ReportAllocs()
				var peak uint64
				var written countingWriter
				for b.Loop() {
					written = 0
					peak = max(peak, peakHeap(func(sample func()) {
						var reports []*checks.Report
						for i := range n {
							reports = append(reports, accountCopy(template, id(i)))
						}
						org := checks.MergeReports(reports, accounts)
						sample()
						rep, _ := New(format, Options{})
						if err := rep.Write(&written, org); err != nil {
							b.Fatal(err)
						}
					}))
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(written), "bytes/op")
			})
		}
	}
}
