package fix

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// reason is the short explanation of a failed call for the journal and the summary: the AWS error
// code and message. Services that deny with a bare HTTP 403 (moto's KMS and CloudTrail) get
// AccessDenied.
func reason(err error) string {
	var apiErr smithy.APIError
	code, msg := "", err.Error()
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() == http.StatusForbidden && (code == "" || code == "UnknownError" || code == "403") {
		code = "AccessDenied"
	}
	if code != "" {
		return fmt.Sprintf("%s: %s", code, msg)
	}
	return msg
}

// precondition is a failure found before calling AWS (a COMPLIANCE retention, an unparsable
// policy): nothing was changed.
type precondition struct{ msg string }

func (p *precondition) Error() string { return p.msg }

func preconditionf(format string, args ...any) error {
	return &precondition{msg: fmt.Sprintf(format, args...)}
}

// sameJSON reports whether two JSON texts mean the same (key order and spacing aside).
func sameJSON(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return a == b
	}
	return reflect.DeepEqual(va, vb)
}

// parseJSON returns the parsed document for the journal, or the text itself when it is not JSON.
func parseJSON(s string) any {
	if s == "" {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return s
	}
	return v
}
