package awsclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/coffer-audit/coffer/checks/awsclient"
)

// request is what a test server saw of one request.
type request struct{ host, path string }

// recordingServer answers every request with status and body and records host and path.
func recordingServer(t *testing.T, status int, body string) (*httptest.Server, func() []request) {
	t.Helper()
	var mu sync.Mutex
	var seen []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, request{r.Host, r.URL.Path})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []request {
		mu.Lock()
		defer mu.Unlock()
		return append([]request(nil), seen...)
	}
}

// TestEndpointOverride: with a custom endpoint (option or AWS_ENDPOINT_URL), S3 addresses buckets
// by path and S3 Control keeps the endpoint's host instead of prefixing the account id, which no
// emulator answers; without one, both use the real AWS endpoints.
func TestEndpointOverride(t *testing.T) {
	ctx := context.Background()
	srv, seen := recordingServer(t, 404, `<Error><Code>NoSuchBucket</Code><Message>none</Message></Error>`)
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name     string
		option   string // Options.EndpointURL
		env      string // AWS_ENDPOINT_URL
		wantHost string // "" for AWS itself
	}{
		{"option", srv.URL, "", host},
		{"environment", "", srv.URL, host},
		{"option beats environment", srv.URL, "http://127.0.0.1:1", host},
		{"none", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_ENDPOINT_URL", tc.env)
			opts := awsclient.Options{EndpointURL: tc.option}
			if got := opts.Endpoint(); (got != "") != (tc.wantHost != "") {
				t.Fatalf("Endpoint() = %q", got)
			}
			s3c := awsclient.NewS3(testConfig(), "eu-west-1", opts)
			control := awsclient.NewS3Control(testConfig(), "us-east-1", opts)
			if got, want := s3c.Options().UsePathStyle, tc.wantHost != ""; got != want {
				t.Errorf("S3 UsePathStyle = %v, want %v", got, want)
			}
			ep, err := control.Options().EndpointResolverV2.ResolveEndpoint(ctx, s3control.EndpointParameters{
				AccountId: aws.String("123456789012"), RequiresAccountId: aws.Bool(true), Region: aws.String("us-east-1"),
				UseDualStack: aws.Bool(false), UseFIPS: aws.Bool(false), Endpoint: control.Options().BaseEndpoint,
			})
			if err != nil {
				t.Fatalf("resolve S3 Control endpoint: %v", err)
			}
			if tc.wantHost == "" {
				if ep.URI.Host != "123456789012.s3-control.us-east-1.amazonaws.com" {
					t.Errorf("S3 Control endpoint = %s, want AWS's with the account id", ep.URI.String())
				}
				return
			}
			if ep.URI.Host != tc.wantHost {
				t.Errorf("S3 Control endpoint = %s, want host %s", ep.URI.String(), tc.wantHost)
			}

			before := len(seen())
			if _, err := s3c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("vault")}); err == nil {
				t.Error("GetBucketVersioning succeeded against a server that answers 404")
			}
			if _, err := control.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String("123456789012")}); err == nil {
				t.Error("S3 Control GetPublicAccessBlock succeeded against a server that answers 404")
			}
			got := seen()[before:]
			want := []request{{tc.wantHost, "/vault"}, {tc.wantHost, "/v20180820/configuration/publicAccessBlock"}}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("requests = %v, want %v", got, want)
			}
		})
	}
}

// TestRetryer: the standard retryer with 5 attempts (unless the SDK chain sets max_attempts),
// backoff capped at 5 s, and no retry quota (DESIGN §9).
func TestRetryer(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException"}
	tests := []struct {
		name         string
		cfgAttempts  int
		wantAttempts int
	}{
		{"default", 0, 5},
		{"AWS_MAX_ATTEMPTS or max_attempts", 2, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.RetryMaxAttempts = tc.cfgAttempts
			clients := map[string]aws.Retryer{
				"s3":  awsclient.NewS3(cfg, "us-east-1", awsclient.Options{}).Options().Retryer,
				"iam": awsclient.NewIAM(cfg, awsclient.Options{}).Options().Retryer,
				"kms": awsclient.NewKMS(cfg, "eu-west-1", awsclient.Options{}).Options().Retryer,
				"sts": awsclient.NewSTS(cfg, awsclient.Options{}).Options().Retryer,
			}
			for name, r := range clients {
				if got := r.MaxAttempts(); got != tc.wantAttempts {
					t.Errorf("%s: MaxAttempts = %d, want %d", name, got, tc.wantAttempts)
				}
				// Delays are jittered below the cap: of 200 late ones, none may pass 5s (with the
				// SDK's 20s cap three in four would) and some come near it.
				var longest time.Duration
				for range 200 {
					d, err := r.RetryDelay(30, throttled)
					if err != nil {
						t.Fatalf("%s: RetryDelay: %v", name, err)
					}
					longest = max(longest, d)
				}
				if longest > 5*time.Second || longest < 2500*time.Millisecond {
					t.Errorf("%s: longest of 200 delays = %s, want at most and near the 5s cap", name, longest)
				}
				if !r.IsErrorRetryable(throttled) {
					t.Errorf("%s: throttling is not retried", name)
				}
				// The SDK's default quota (500 tokens, 5 a retry) would refuse the 101st retry.
				for i := range 500 {
					if _, err := r.GetRetryToken(context.Background(), throttled); err != nil {
						t.Errorf("%s: retry %d refused: %v", name, i+1, err)
						break
					}
				}
			}
		})
	}
}

// TestCallTimeoutCoversAllAttempts: the per-call timeout bounds the whole retry series. Each
// attempt here is faster than the timeout, so only a deadline around all of them can end the call
// with DeadlineExceeded instead of the server's 500.
func TestCallTimeoutCoversAllAttempts(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		time.Sleep(150 * time.Millisecond)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(500)
		fmt.Fprint(w, `<Error><Code>InternalError</Code><Message>try again</Message></Error>`)
	}))
	defer srv.Close()
	opts := awsclient.Options{EndpointURL: srv.URL, CallTimeout: 400 * time.Millisecond}
	start := time.Now()
	_, err := awsclient.NewS3(testConfig(), "us-east-1", opts).GetBucketVersioning(context.Background(), &s3.GetBucketVersioningInput{Bucket: aws.String("b")})
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v after %d attempts, want DeadlineExceeded", err, hits.Load())
	}
	if code, _ := awsclient.ErrorCode(err); code != "Timeout" && code != "500" {
		t.Errorf("ErrorCode = %q", code)
	}
	if took > 3*time.Second {
		t.Errorf("call took %s with a 400ms call timeout", took)
	}
	if hits.Load() < 1 {
		t.Error("no attempt reached the server")
	}
}

// TestClientRegions: regional clients use the region asked for; IAM and STS the config's region,
// else us-east-1.
func TestClientRegions(t *testing.T) {
	noRegion := testConfig()
	noRegion.Region = ""
	tests := []struct {
		name, got, want string
	}{
		{"KMS", awsclient.NewKMS(testConfig(), "eu-west-1", awsclient.Options{}).Options().Region, "eu-west-1"},
		{"S3", awsclient.NewS3(testConfig(), "ap-southeast-7", awsclient.Options{}).Options().Region, "ap-southeast-7"},
		{"IAM, config region", awsclient.NewIAM(testConfig(), awsclient.Options{}).Options().Region, "us-east-1"},
		{"IAM, no region", awsclient.NewIAM(noRegion, awsclient.Options{}).Options().Region, awsclient.DefaultRegion},
		{"STS, no region", awsclient.NewSTS(noRegion, awsclient.Options{}).Options().Region, awsclient.DefaultRegion},
		{"home: option", awsclient.Options{Region: "eu-north-1"}.HomeRegion(testConfig()), "eu-north-1"},
		{"home: config", awsclient.Options{}.HomeRegion(aws.Config{Region: "eu-west-2"}), "eu-west-2"},
		{"home: default", awsclient.Options{}.HomeRegion(aws.Config{}), "us-east-1"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: region %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestWithDefaults(t *testing.T) {
	if got := (awsclient.Options{}).WithDefaults().CallTimeout; got != 30*time.Second {
		t.Errorf("default call timeout = %s, want 30s", got)
	}
	if got := (awsclient.Options{CallTimeout: time.Second}).WithDefaults().CallTimeout; got != time.Second {
		t.Errorf("call timeout = %s, want the 1s asked for", got)
	}
}

// TestAPIOptionsAndDebugLog: the caller's middlewares see every call, and the debug log writes
// one line per call, after its attempts, with the access key id cut short.
func TestAPIOptionsAndDebugLog(t *testing.T) {
	srv, _ := recordingServer(t, 403, `<html>Forbidden</html>`)
	var calls []string
	count := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("count",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				calls = append(calls, fmt.Sprintf("%T", in.Parameters))
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
	var log bytes.Buffer
	opts := awsclient.Options{EndpointURL: srv.URL, APIOptions: []func(*middleware.Stack) error{count}, Debug: awsclient.NewDebugLog(&log)}
	ctx := context.Background()
	_, errKMS := awsclient.NewKMS(testConfig(), "eu-west-1", opts).ListKeys(ctx, &kms.ListKeysInput{})
	_, errIAM := awsclient.NewIAM(testConfig(), opts).GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if errKMS == nil || errIAM == nil {
		t.Fatalf("calls succeeded against a server that answers 403: %v, %v", errKMS, errIAM)
	}
	if want := []string{"*kms.ListKeysInput", "*iam.GetAccountSummaryInput"}; fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("middleware saw %v, want %v", calls, want)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^coffer: debug: KMS ListKeys region=eu-west-1 status=403 attempts=1 duration=\S+ key=AKIA\*\*\*\* error=AccessDenied: HTTP 403: `),
		regexp.MustCompile(`^coffer: debug: IAM GetAccountSummary region=us-east-1 status=403 attempts=1 duration=\S+ key=AKIA\*\*\*\* error=AccessDenied: HTTP 403: `),
	}
	if len(lines) != len(want) {
		t.Fatalf("debug log has %d lines, want %d:\n%s", len(lines), len(want), log.String())
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("debug line %d = %q, want %s", i, lines[i], re)
		}
	}
	if strings.Contains(log.String(), "AKIAIOSFODNN7EXAMPLE") {
		t.Error("the debug log shows the whole access key id")
	}
}

func TestLoadConfigEndpoint(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	tests := []struct {
		name     string
		opts     awsclient.Options
		wantBase string
		wantErr  string
	}{
		{"emulator", awsclient.Options{EndpointURL: "http://127.0.0.1:4566"}, "http://127.0.0.1:4566", ""},
		{"AWS", awsclient.Options{}, "", ""},
		{"no scheme", awsclient.Options{EndpointURL: "localhost:4566"}, "", `"localhost:4566"`},
		{"no host", awsclient.Options{EndpointURL: "http://"}, "", `"http://"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := awsclient.LoadConfig(context.Background(), tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(cfg.BaseEndpoint); got != tc.wantBase {
				t.Errorf("base endpoint = %q, want %q", got, tc.wantBase)
			}
			if cfg.Region != awsclient.DefaultRegion {
				t.Errorf("region = %q, want the default", cfg.Region)
			}
		})
	}
}
