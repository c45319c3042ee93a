package checks

import (
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
