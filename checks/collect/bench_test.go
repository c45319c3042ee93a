package collect_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-audit/coffer/checks/awsclient"
	"github.com/coffer-audit/coffer/checks/collect"
	"github.com/coffer-audit/coffer/fixtures/motoserver"
)

// BenchmarkCollect100Buckets collects an account of 100 buckets (a third with versioning and
// tags) from moto. Metrics: S3 calls per bucket, and all API calls per collection.
func BenchmarkCollect100Buckets(b *testing.B) {
	benchmarkCollect(b, 100)
}

// BenchmarkCollectEmptyAccount is the fixed cost of a collection (identity, IAM with moto's full
// list of AWS-managed policies, KMS, CloudTrail), for comparison with the per-bucket cost.
func BenchmarkCollectEmptyAccount(b *testing.B) {
	benchmarkCollect(b, 0)
}

func benchmarkCollect(b *testing.B, n int) {
	ctx := context.Background()
	srv := motoserver.Shared(b)
	srv.Reset(b)
	opts := srv.Options()
	opts.Concurrency = collect.DefaultConcurrency
	cfg := srv.AWSConfig(b, "us-east-1")
	s3c := awsclient.NewS3(cfg, "us-east-1", opts.Options)
	for i := range n {
		name := aws.String(fmt.Sprintf("bench-%04d", i))
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: name}); err != nil {
			b.Fatalf("seed bucket %d: %v", i, err)
		}
		if i%3 == 0 {
			if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: name,
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
				b.Fatal(err)
			}
			if _, err := s3c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: name,
				Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("coffer:role"), Value: aws.String("primary")}}}}); err != nil {
				b.Fatal(err)
			}
		}
	}

	rec := &motoserver.Recorder{}
	opts.APIOptions = append(opts.APIOptions, rec.Option)
	b.ResetTimer()
	for b.Loop() {
		snap, err := collect.Collect(ctx, cfg, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.S3.Buckets) != n || len(snap.Errors) != 0 {
			b.Fatalf("got %d buckets and errors %v", len(snap.S3.Buckets), snap.Errors)
		}
	}
	b.StopTimer()

	total, s3PerBucket := 0, 0
	for op, c := range rec.Counts() {
		total += c
		if strings.HasPrefix(op, "S3:") && op != "S3:ListBuckets" {
			s3PerBucket += c
		}
	}
	if n > 0 {
		b.ReportMetric(float64(s3PerBucket)/float64(n*b.N), "s3-calls/bucket")
	}
	b.ReportMetric(float64(total)/float64(b.N), "calls/collect")
}
