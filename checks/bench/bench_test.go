package bench

import (
	"context"
	"testing"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/policies"
)

func benchmarkEvaluate(b *testing.B, n int) {
	ctx := context.Background()
	engine, err := checks.NewEngine(ctx, checks.EngineOptions{BuiltIn: policies.FS})
	if err != nil {
		b.Fatal(err)
	}
	snap := LargeSnapshot(n)
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

func BenchmarkEvaluate1000Buckets(b *testing.B)  { benchmarkEvaluate(b, 1000) }
func BenchmarkEvaluate10000Buckets(b *testing.B) { benchmarkEvaluate(b, 10000) }

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
