package main

import (
	"context"
	"errors"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/reporters"
)

// fixRun is everything scan hands to --fix: the first evaluation and what is needed to re-scan.
type fixRun struct {
	flags         *scanFlags
	outputs       []output
	reportOptions reporters.Options
	failOn        checks.Severity
	config        *checks.Config
	engine        *checks.Engine
	snapshot      *checks.Snapshot
	report        *checks.Report
}

// fix is replaced by the remediation implementation (issue 5).
func (a *app) fix(ctx context.Context, run fixRun) error {
	return usageError("%v", errors.New("--fix is not implemented yet"))
}
