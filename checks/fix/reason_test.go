package fix

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestReason: a failed change names the error code a scan would record, then the whole error.
func TestReason(t *testing.T) {
	httpErr := func(status int, err error) error {
		return fmt.Errorf("put versioning of b: %w", &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err,
		}})
	}
	tests := []struct {
		name     string
		err      error
		wantCode string
	}{
		{"API error", httpErr(400, &smithy.GenericAPIError{Code: "InvalidBucketState", Message: "not empty"}), "InvalidBucketState"},
		{"bare 403 (moto KMS)", httpErr(403, &smithy.GenericAPIError{Code: "UnknownError"}), "AccessDenied"},
		{"bare 500", httpErr(500, errors.New("html body")), "500"},
		{"timeout", fmt.Errorf("enable rotation: %w", context.DeadlineExceeded), "Timeout"},
		{"no answer", errors.New("dial tcp: connection refused"), "RequestError"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The whole error follows the code: it names the operation and the resource.
			if got, want := reason(tc.err), tc.wantCode+": "+tc.err.Error(); got != want {
				t.Errorf("reason = %q\nwant     %q", got, want)
			}
		})
	}
}
