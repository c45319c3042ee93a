package bench

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/policies"
	"github.com/coffer-audit/coffer/reporters"
)

func benchmarkEvaluate(b *testing.B, snap *checks.Snapshot) {
	ctx := context.Background()
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var findings int
	for b.Loop() {
		report, err := engine.Evaluate(ctx, snap, checks.EvalOptions{})
		if err != nil {
			b.Fatal(err)
		}
		findings = len(report.Findings)
	}
	b.ReportMetric(float64(findings), "findings")
}

func BenchmarkEvaluate1000Buckets(b *testing.B)  { benchmarkEvaluate(b, LargeSnapshot(1000)) }
func BenchmarkEvaluate10000Buckets(b *testing.B) { benchmarkEvaluate(b, LargeSnapshot(10000)) }

// BenchmarkEvaluate10000VariedBuckets: an account whose buckets differ, drift of every kind.
func BenchmarkEvaluate10000VariedBuckets(b *testing.B) { benchmarkEvaluate(b, VariedSnapshot(10000)) }

// TestLargeSnapshotEvaluates keeps the generator honest: the drift it plants is found.
func TestLargeSnapshotEvaluates(t *testing.T) {
	ctx := context.Background()
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	report, err := engine.Evaluate(ctx, LargeSnapshot(70), checks.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]int{}
	for _, f := range report.Findings {
		if f.Status == checks.StatusFail {
			failed[f.CheckID]++
		}
	}
	if failed["s3-bucket-versioning"] != 10 || failed["s3-bucket-replication"] != 0 || failed["s3-standby-exists"] != 0 {
		t.Errorf("failures = %v, want 10 versioning failures (every 7th of 70 buckets) and paired, replicated standbys", failed)
	}
}

// TestVariedSnapshotVaries keeps the varied generator honest: every bucket check both passes and
// fails somewhere in it, and a denied read is an ERROR.
func TestVariedSnapshotVaries(t *testing.T) {
	ctx := context.Background()
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		t.Fatal(err)
	}
	report, err := engine.Evaluate(ctx, VariedSnapshot(600), checks.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[checks.Status]bool{}
	for _, f := range report.Findings {
		if seen[f.CheckID] == nil {
			seen[f.CheckID] = map[checks.Status]bool{}
		}
		seen[f.CheckID][f.Status] = true
	}
	for _, rule := range engine.Rules() {
		if rule.Service != "s3" || rule.ID == "s3-account-public-access-block" {
			continue
		}
		if !seen[rule.ID][checks.StatusPass] || !seen[rule.ID][checks.StatusFail] {
			t.Errorf("%s: statuses %v, want both PASS and FAIL", rule.ID, seen[rule.ID])
		}
	}
	if !seen["s3-bucket-tls-only"][checks.StatusError] {
		t.Error("the denied GetBucketPolicy did not make s3-bucket-tls-only ERROR")
	}
	if !seen["kms-key-in-use-healthy"][checks.StatusFail] {
		t.Error("no kms-key-in-use-healthy failure for the disabled, pending and missing keys")
	}
}

// BenchmarkEvaluateOrg evaluates organisation snapshots read from disk account by account, each
// account's report written to a JSON stream, and reports the peak heap: it must grow with the
// largest account, not with the organisation (DESIGN §14).
func BenchmarkEvaluateOrg100x100(b *testing.B)  { benchmarkEvaluateOrg(b, 100, 100) }
func BenchmarkEvaluateOrg1000x100(b *testing.B) { benchmarkEvaluateOrg(b, 1000, 100) }

func benchmarkEvaluateOrg(b *testing.B, accounts, buckets int) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "org.json")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := WriteOrgSnapshot(f, accounts, buckets); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	peak := SampleHeap()
	b.ResetTimer()
	var findings int
	for b.Loop() {
		src, err := checks.OpenSnapshot(path)
		if err != nil {
			b.Fatal(err)
		}
		stream, err := reporters.NewStream(reporters.FormatJSON, io.Discard, reporters.Options{})
		if err != nil {
			b.Fatal(err)
		}
		findings = 0
		infos, err := engine.EvaluateOrg(ctx, src, checks.OrgEvalOptions{}, func(_ checks.AccountInfo, r *checks.Report) error {
			findings += len(r.Findings)
			return stream.Account(r)
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := stream.Close(infos); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(findings), "findings")
	b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
}
