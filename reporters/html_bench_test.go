package reporters

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"

	"github.com/coffer-audit/coffer/checks/bench"
)

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
			peak := bench.SampleHeap()
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
