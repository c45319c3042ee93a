package collect_test

import (
	"os"
	"testing"

	"github.com/coffer-audit/coffer/fixtures/motoserver"
)

// TestMain stops the package's shared moto_server after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	os.Exit(code)
}
