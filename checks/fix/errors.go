package fix

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/coffer-audit/coffer/checks"
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

// refusedMerge ends a change whose merge failed on the live configuration before any call: nothing
// is written, and the journal shows the live text as it was read, since a document coffer refuses
// (duplicate keys) would not survive being parsed for it.
func refusedMerge(ex *execution, live, doing string, err error) (*execution, error) {
	ex.Before, ex.After = live, live
	var refused *checks.RefusedRewrite
	if errors.As(err, &refused) {
		return ex, &precondition{msg: refused.Error()}
	}
	return ex, preconditionf("%s: %v", doing, err)
}

// sameJSON reports whether two JSON texts mean the same (key order and spacing aside). Numbers
// compare as written, so 12345678901234567890 and 12345678901234567000 differ.
func sameJSON(a, b string) bool {
	va, errA := decodeJSON(a)
	vb, errB := decodeJSON(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return reflect.DeepEqual(va, vb)
}

// parseJSON returns the parsed document for the plan and the journal, or the text itself when it
// is not JSON. Numbers keep their digits (json.Number), so a journal a user undoes from shows the
// values that were really there.
func parseJSON(s string) any {
	if s == "" {
		return nil
	}
	v, err := decodeJSON(s)
	if err != nil {
		return s
	}
	return v
}

// decodeJSON decodes one JSON value with numbers as json.Number; data after it is an error, as
// json.Unmarshal would have it.
func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}
