package reporters

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"

	"github.com/coffer-audit/coffer/checks"
)

// CatalogReporter writes the check catalog (`coffer checks`) in one format. Like DiffReporter, the
// formats that render it are the registry's formats whose reporter implements it.
type CatalogReporter interface {
	WriteCatalog(w io.Writer, rules []checks.Rule) error
}

var (
	_ CatalogReporter = (*Table)(nil)
	_ CatalogReporter = (*JSON)(nil)
)

// CatalogFormats lists the format names that render the catalog, sorted.
func CatalogFormats() []string { return formatsWith[CatalogReporter]() }

// NewCatalog returns the catalog reporter for a format name (case-insensitive); an unknown name,
// or a format that does not render the catalog, is an error listing the ones that do.
func NewCatalog(format string, opts Options) (CatalogReporter, error) {
	return newAs[CatalogReporter](format, opts, "the check catalog")
}

// WriteCatalog implements CatalogReporter: the rules with all their metadata, as an indented JSON
// array (tools read it; TestCatalogMatchesDesign does).
func (JSON) WriteCatalog(w io.Writer, rules []checks.Rule) error {
	if rules == nil {
		rules = []checks.Rule{}
	}
	return encodeIndented(w, rules, "")
}

// WriteCatalog implements CatalogReporter: one row per check with its severity, scope, framework
// controls and fix class.
func (t *Table) WriteCatalog(w io.Writer, rules []checks.Rule) error {
	tb := tablewriter.NewTable(w)
	tb.Header("ID", "Severity", "Applies to", "CIS", "FSBP", "Workshop", "Fix")
	for _, r := range rules {
		if err := tb.Append(r.ID, r.Severity.String(), r.AppliesTo, frameworkIDs(r, checks.FrameworkCIS), frameworkIDs(r, checks.FrameworkFSBP),
			frameworkIDs(r, checks.FrameworkWorkshop), string(r.Remediation.Fix)); err != nil {
			return fmt.Errorf("render catalog: %w", err)
		}
	}
	return tb.Render()
}

// WriteExplanation writes one check for a person (`coffer explain`): severity, scope, frameworks,
// why it matters, the remediation and its command templates, and where the rule comes from.
func WriteExplanation(w io.Writer, r checks.Rule) error {
	ew := &errWriter{w: w}
	ew.printf("%s — %s\n\n", r.ID, r.Title)
	ew.printf("Severity:   %s\nService:    %s\nApplies to: %s\nFix:        %s\n", r.Severity, r.Service, r.AppliesTo, r.Remediation.Fix)
	for _, fw := range []string{checks.FrameworkCIS, checks.FrameworkFSBP, checks.FrameworkWorkshop} {
		ew.printf("%-11s %s\n", fw+":", frameworkIDs(r, fw))
	}
	if r.Description != "" {
		ew.printf("\nWhy:\n  %s\n", strings.ReplaceAll(r.Description, "\n", "\n  "))
	}
	ew.printf("\nRemediation:\n  %s\n", r.Remediation.Summary)
	if len(r.Remediation.Commands) > 0 {
		ew.printf("\nCommands (filled in with real names in scan findings):\n")
		for _, c := range r.Remediation.Commands {
			ew.printf("  %s\n", c)
		}
	}
	ew.printf("\nSource: %s\n", r.Source)
	return ew.err
}

// frameworkIDs joins a rule's control ids in one framework, or "–" when it has none.
func frameworkIDs(r checks.Rule, name string) string {
	ids := r.Frameworks[name]
	if len(ids) == 0 {
		return "–"
	}
	return strings.Join(ids, ", ")
}
