package main

import (
	"errors"
	"io/fs"
	"testing"
)

// TestUsageErrorKeepsTheChain: a usage error gives exit 2 and still lets callers (and tests)
// find the cause with errors.Is/As, as the "%v" it used to format with did not.
func TestUsageErrorKeepsTheChain(t *testing.T) {
	cause := fs.ErrNotExist
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"usageError", usageError(cause)},
		{"usageErrorf with %w", usageErrorf("read %s: %w", "x.json", cause)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, cause) {
				t.Errorf("%v: the cause is lost", tc.err)
			}
			var ee *exitError
			if !errors.As(tc.err, &ee) || ee.code != exitUsage {
				t.Errorf("%v: not an exit-2 error", tc.err)
			}
		})
	}
}
