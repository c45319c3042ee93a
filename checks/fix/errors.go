package fix

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsclient"
)

// reason is the short explanation of a failed call for the journal and the summary: the error
// code as a scan would record it (awsclient.ErrorCode: moto's bare HTTP 403 is AccessDenied, an
// unanswered call Timeout or RequestError) and the whole error, which names the operation.
func reason(err error) string {
	code, _ := awsclient.ErrorCode(err)
	return fmt.Sprintf("%s: %s", code, err.Error())
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
