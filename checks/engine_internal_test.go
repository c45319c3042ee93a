package checks

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"
)

// TestWithoutPath: the reason a policy dir cannot be read is the cause of an *fs.PathError, and
// the whole text of any other error (errors.Unwrap(err).Error() panicked on an unwrapped one).
func TestWithoutPath(t *testing.T) {
	pathErr := &fs.PathError{Op: "stat", Path: "/p", Err: syscall.ENOENT}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"path error", pathErr, "no such file or directory"},
		{"wrapped path error", fmt.Errorf("open policies: %w", pathErr), "no such file or directory"},
		{"not wrapped", errors.New("device not ready"), "device not ready"},
	}
	for _, tc := range tests {
		if got := withoutPath(tc.err); got != tc.want {
			t.Errorf("%s: withoutPath = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestJSONValue: evidence numbers become int64 or float64, and one beyond float64 stays the
// number as written rather than an infinity that the JSON report could not encode.
func TestJSONValue(t *testing.T) {
	tests := []struct {
		in   any
		want any
	}{
		{json.Number("30"), int64(30)},
		{json.Number("2.5"), 2.5},
		{json.Number("1e400"), json.Number("1e400")},
		{"Suspended", "Suspended"},
	}
	for _, tc := range tests {
		got := jsonValue(tc.in)
		if got != tc.want {
			t.Errorf("jsonValue(%#v) = %#v, want %#v", tc.in, got, tc.want)
		}
		if _, err := json.Marshal(got); err != nil {
			t.Errorf("jsonValue(%#v) does not marshal: %v", tc.in, err)
		}
	}
}
