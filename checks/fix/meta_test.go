package fix_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/fix"
)

// TestMetaFixersMatchTheCatalog: the fixers are Go keyed by check id, so the catalog and the
// fixers can drift apart without a compile error. Every check whose METADATA says fix: auto or
// opt-in has a fixer, every fixer belongs to such a check, and no manual check has one (--fix
// would never run it).
func TestMetaFixersMatchTheCatalog(t *testing.T) {
	for _, p := range fixerProblems(builtIn(t).Rules(), fix.Fixable()) {
		t.Error(p)
	}
}

// fixerProblems compares the catalog's fix classes with the check ids that have a fixer.
func fixerProblems(rules []checks.Rule, fixable []string) []string {
	var problems []string
	known := map[string]bool{}
	for _, r := range rules {
		known[r.ID] = true
		has := slices.Contains(fixable, r.ID)
		switch r.Remediation.Fix {
		case checks.FixAuto, checks.FixOptIn:
			if !has {
				problems = append(problems, fmt.Sprintf("%s says fix: %s, but checks/fix has no fixer for it (add one to fixers, or make the check manual)", r.ID, r.Remediation.Fix))
			}
		default:
			if has {
				problems = append(problems, fmt.Sprintf("%s says fix: %s, but checks/fix has a fixer for it that --fix never runs", r.ID, r.Remediation.Fix))
			}
		}
	}
	for _, id := range fixable {
		if !known[id] {
			problems = append(problems, fmt.Sprintf("checks/fix has a fixer for %s, which is no check of the catalog", id))
		}
	}
	return problems
}

func TestMetaFixerProblems(t *testing.T) {
	rule := func(id string, fix checks.FixClass) checks.Rule {
		return checks.Rule{ID: id, Remediation: checks.RuleRemediation{Fix: fix}}
	}
	rules := []checks.Rule{rule("a-auto", checks.FixAuto), rule("b-opt-in", checks.FixOptIn), rule("c-manual", checks.FixManual)}
	tests := []struct {
		name    string
		fixable []string
		want    []string
	}{
		{"matching", []string{"a-auto", "b-opt-in"}, nil},
		{"auto check without a fixer", []string{"b-opt-in"}, []string{"a-auto says fix: auto, but checks/fix has no fixer for it (add one to fixers, or make the check manual)"}},
		{"opt-in check without a fixer", []string{"a-auto"}, []string{"b-opt-in says fix: opt-in, but checks/fix has no fixer for it (add one to fixers, or make the check manual)"}},
		{"fixer of no check", []string{"a-auto", "b-opt-in", "renamed-check"}, []string{"checks/fix has a fixer for renamed-check, which is no check of the catalog"}},
		{"fixer of a manual check", []string{"a-auto", "b-opt-in", "c-manual"}, []string{"c-manual says fix: manual, but checks/fix has a fixer for it that --fix never runs"}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, fixerProblems(rules, tc.fixable)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
