package checks_test

import (
	"context"
	"testing"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/policies"
)

// BenchmarkNewEngine measures loading the built-in checks: parsing, compiling (type-checking
// against the input schema included) and preparing a query per check, which every command pays.
func BenchmarkNewEngine(b *testing.B) {
	for b.Loop() {
		if _, err := checks.NewEngine(context.Background(), checks.EngineOptions{BuiltIn: policies.FS}); err != nil {
			b.Fatal(err)
		}
	}
}
