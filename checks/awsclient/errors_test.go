package awsclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/coffer-audit/coffer/checks/awsclient"
)

func httpErr(status int, err error) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err,
	}}
}

// opErr wraps err as the SDK does: an operation error around the HTTP response error.
func opErr(err error) error {
	return &smithy.OperationError{ServiceID: "KMS", OperationName: "ListKeys", Err: err}
}

func TestErrorCode(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantCode string
		wantMsg  string
	}{
		{"API error", httpErr(403, &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}), "AccessDenied", "Access Denied"},
		{"API error without message", httpErr(404, &smithy.GenericAPIError{Code: "NoSuchBucketPolicy"}), "NoSuchBucketPolicy", "NoSuchBucketPolicy"},
		{"bare 403 (moto KMS)", httpErr(403, &smithy.GenericAPIError{Code: "UnknownError", Message: ""}), "AccessDenied", "HTTP 403"},
		{"bare 403 without API error", httpErr(403, errors.New("html body")), "AccessDenied", "HTTP 403: "},
		{"bare 403 with the status as code", httpErr(403, &smithy.GenericAPIError{Code: "403"}), "AccessDenied", "HTTP 403"},
		{"bare 403 in an operation error", fmt.Errorf("list keys in us-east-1: %w", opErr(httpErr(403, errors.New("<html>")))), "AccessDenied", "ListKeys"},
		{"bare 500", httpErr(500, errors.New("boom")), "500", "boom"},
		{"unknown code with status", httpErr(503, &smithy.GenericAPIError{Code: "UnknownError", Message: "slow down"}), "503", "slow down"},
		{"wrapped API error", fmt.Errorf("generate: %w", httpErr(400, &smithy.GenericAPIError{Code: "ReportInProgress", Message: "later"})), "ReportInProgress", "later"},
		{"API error in an operation error", opErr(httpErr(400, &smithy.GenericAPIError{Code: "NotFoundException", Message: "no key"})), "NotFoundException", "no key"},
		{"timeout", fmt.Errorf("call: %w", context.DeadlineExceeded), "Timeout", "deadline"},
		{"network", errors.New("dial tcp: connection refused"), "RequestError", "connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := awsclient.ErrorCode(tc.err)
			if code != tc.wantCode || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("ErrorCode = %q, %q; want %q and a message containing %q", code, msg, tc.wantCode, tc.wantMsg)
			}
		})
	}
}

func TestIsCode(t *testing.T) {
	policy := fmt.Errorf("get policy of b: %w", opErr(httpErr(404, &smithy.GenericAPIError{Code: "NoSuchBucketPolicy"})))
	tests := []struct {
		name  string
		err   error
		codes []string
		want  bool
	}{
		{"wrapped match", policy, []string{"NoSuchBucketPolicy"}, true},
		{"one of several", policy, []string{"NoSuchTagSet", "NoSuchBucketPolicy"}, true},
		{"other code", policy, []string{"NoSuchBucket"}, false},
		{"no codes", policy, nil, false},
		// IsCode is about codes AWS sent: a bare 403 is AccessDenied for ErrorCode only.
		{"bare 403", httpErr(403, errors.New("html")), []string{"AccessDenied"}, false},
		{"not an API error", errors.New("NoSuchBucketPolicy"), []string{"NoSuchBucketPolicy"}, false},
		{"nil", nil, []string{"NoSuchBucketPolicy"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := awsclient.IsCode(tc.err, tc.codes...); got != tc.want {
				t.Errorf("IsCode(%v, %q) = %v, want %v", tc.err, tc.codes, got, tc.want)
			}
		})
	}
}

func TestAlreadyExists(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"BucketAlreadyOwnedByYou", true},
		{"BucketAlreadyExists", true},
		{"EntityAlreadyExists", true},
		{"TrailAlreadyExistsException", true},
		{"AlreadyExistsException", true},
		{"NoSuchEntity", false},
		{"AccessDenied", false},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			err := fmt.Errorf("create: %w", httpErr(409, &smithy.GenericAPIError{Code: tc.code}))
			if got := awsclient.AlreadyExists(err); got != tc.want {
				t.Errorf("AlreadyExists(%s) = %v, want %v", tc.code, got, tc.want)
			}
		})
	}
	if awsclient.AlreadyExists(errors.New("EntityAlreadyExists")) {
		t.Error("a plain error naming the code is not an API error")
	}
}

// testConfig has static credentials and no retries from the environment.
func testConfig() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", "")}
}

// TestErrorCodeFromSDK reads the codes out of errors the SDK really returns, for answers as AWS
// and moto give them (moto's KMS and CloudTrail deny with a bare 403 and an HTML body).
func TestErrorCodeFromSDK(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		call        func(aws.Config, awsclient.Options) error
		wantCode    string
	}{
		{"S3 XML error", 404, "application/xml",
			`<Error><Code>NoSuchBucketPolicy</Code><Message>The bucket policy does not exist</Message></Error>`,
			func(cfg aws.Config, o awsclient.Options) error {
				_, err := awsclient.NewS3(cfg, "us-east-1", o).GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("b")})
				return err
			}, "NoSuchBucketPolicy"},
		{"IAM query error", 404, "text/xml",
			`<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>no password policy</Message></Error></ErrorResponse>`,
			func(cfg aws.Config, o awsclient.Options) error {
				_, err := awsclient.NewIAM(cfg, o).GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
				return err
			}, "NoSuchEntity"},
		{"KMS JSON error", 400, "application/x-amz-json-1.1",
			`{"__type":"NotFoundException","message":"key not found"}`,
			func(cfg aws.Config, o awsclient.Options) error {
				_, err := awsclient.NewKMS(cfg, "us-east-1", o).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("k")})
				return err
			}, "NotFoundException"},
		{"KMS bare 403 (moto)", 403, "text/html", `<html><body>Forbidden</body></html>`,
			func(cfg aws.Config, o awsclient.Options) error {
				_, err := awsclient.NewKMS(cfg, "us-east-1", o).ListKeys(ctx, &kms.ListKeysInput{})
				return err
			}, "AccessDenied"},
		{"CloudTrail bare 403 (moto)", 403, "text/html", `<html><body>Forbidden</body></html>`,
			func(cfg aws.Config, o awsclient.Options) error {
				_, err := awsclient.NewCloudTrail(cfg, "us-east-1", o).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
				return err
			}, "AccessDenied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			err := tc.call(testConfig(), awsclient.Options{EndpointURL: srv.URL})
			if err == nil {
				t.Fatal("call succeeded, want an error")
			}
			if code, msg := awsclient.ErrorCode(err); code != tc.wantCode {
				t.Errorf("ErrorCode = %q (%s), want %q", code, msg, tc.wantCode)
			}
			if isAPI := tc.wantCode != "AccessDenied"; awsclient.IsCode(err, tc.wantCode) != isAPI {
				t.Errorf("IsCode(%q) = %v, want %v", tc.wantCode, !isAPI, isAPI)
			}
		})
	}
}
