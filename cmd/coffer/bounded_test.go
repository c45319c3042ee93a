package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/coffer-audit/coffer/checks/bench"
	"github.com/coffer-audit/coffer/reporters"
)

// longBucket is the bucket of fixtures/drifted.json that longNameSnapshot renames: a primary with
// nine failing checks, named in its ARN, its bucket policy (text and document) and its logging
// prefix.
const longBucket = "vault-scratch"

// longNameSnapshot writes fixtures/drifted.json with longBucket renamed, everywhere it appears, to
// a name of n bytes (n = 0 keeps it), and returns the file and its size.
func longNameSnapshot(tb testing.TB, n int) (string, int) {
	tb.Helper()
	data, err := os.ReadFile("../../fixtures/drifted.json")
	if err != nil {
		tb.Fatal(err)
	}
	if n > 0 {
		if bytes.Count(data, []byte(longBucket)) != 7 {
			tb.Fatalf("%s no longer appears 7 times in fixtures/drifted.json; update longNameSnapshot", longBucket)
		}
		data = bytes.ReplaceAll(data, []byte(longBucket), []byte(longBucket+strings.Repeat("x", n-len(longBucket))))
	}
	path := filepath.Join(tb.TempDir(), "snap.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path, len(data)
}

// reportFactor is the most bytes a report of the snapshot with a 1 MB bucket name may have per
// byte of the snapshot (7 MB: the name appears 7 times). The formats for people show at most
// 128 characters of the name (about 0.03 measured: 70 KB of table, 225 KB of HTML). SARIF and JUnit
// carry it whole only where programs match on it, SARIF in each result's logical location (ARN and
// name, 2.6 measured), JUnit in each test case's name (2.0). JSON carries every finding whole by
// contract: name, ARN, message and commands of all 14 findings of the bucket (8.0 measured). ASFF
// keeps the ARN whole as the resource's Id, which Security Hub matches resources by, and cuts the
// texts to Security Hub's limits (2.0 measured); OCSF, for programs too, carries every value whole
// like JSON (8.0).
var reportFactor = map[string]float64{
	reporters.FormatTable:    0.1,
	reporters.FormatMarkdown: 0.1,
	// At most MaxCommentBytes whatever the snapshot.
	reporters.FormatMarkdownComment: 0.1,
	reporters.FormatHTML:            0.1,
	reporters.FormatSARIF:           3,
	reporters.FormatJUnit:           3,
	reporters.FormatJSON:            9,
	reporters.FormatASFF:            3,
	reporters.FormatOCSF:            9,
}

func TestScanLongNameOutputBounded(t *testing.T) {
	path, size := longNameSnapshot(t, 1<<20)
	dir := t.TempDir()
	for _, format := range reporters.Formats() {
		t.Run(format, func(t *testing.T) {
			k, ok := reportFactor[format]
			if !ok {
				t.Fatalf("no reportFactor for %s", format)
			}
			out := filepath.Join(dir, "report."+format)
			r := runCLI(t, "scan", "--snapshot", path, "--format", format+"="+out)
			if r.code != exitFindings {
				t.Fatalf("exit %d, want %d (drifted has failures): %s", r.code, exitFindings, r.stderr)
			}
			st, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if limit := k * float64(size); float64(st.Size()) > limit {
				t.Errorf("%d bytes, more than %.1f × the %d-byte snapshot", st.Size(), k, size)
			}
			t.Logf("%s: %d bytes, %.3f × the snapshot", format, st.Size(), float64(st.Size())/float64(size))
		})
	}
}

// BenchmarkScanLongName compares a scan of fixtures/drifted.json with the same scan after one
// bucket is renamed to 1 MB, per format, as `coffer scan --snapshot S --format F=FILE` runs it.
// MB-alloc/op is what the scan allocates; MB-peak-heap is the most heap in use at once, sampled
// every millisecond (an estimate; the process's peak RSS is measured with /usr/bin/time -v).
func BenchmarkScanLongName(b *testing.B) {
	for _, format := range reporters.Formats() {
		for _, n := range []int{0, 1 << 20} {
			name := "plain"
			if n > 0 {
				name = fmt.Sprintf("name-%dKB", n>>10)
			}
			b.Run(format+"/"+name, func(b *testing.B) {
				path, _ := longNameSnapshot(b, n)
				out := filepath.Join(b.TempDir(), "report")
				runtime.GC()
				peak := bench.SampleHeap()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for b.Loop() {
					var stdout, stderr bytes.Buffer
					if code := run(context.Background(), []string{"scan", "--snapshot", path, "--format", format + "=" + out},
						strings.NewReader(""), &stdout, &stderr); code == exitUsage {
						b.Fatalf("exit 2: %s", stderr.String())
					}
				}
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "MB-alloc/op")
				b.ReportMetric(float64(peak())/(1<<20), "MB-peak-heap")
			})
		}
	}
}
