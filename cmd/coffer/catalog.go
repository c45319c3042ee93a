package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/policies"
	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"
)

func (a *app) loadRules(cmd *cobra.Command, dirs []string) ([]checks.Rule, error) {
	engine, err := checks.NewEngine(cmd.Context(), checks.EngineOptions{BuiltIn: policies.FS, PolicyDirs: dirs})
	if err != nil {
		return nil, usageErrorf("load policies:\n%w", err)
	}
	return engine.Rules(), nil
}

func (a *app) checksCmd() *cobra.Command {
	var format string
	var dirs []string
	cmd := &cobra.Command{
		Use:   "checks",
		Short: "List the check catalog",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rules, err := a.loadRules(cmd, dirs)
			if err != nil {
				return err
			}
			switch format {
			case "json":
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rules)
			case "table":
				return writeCatalogTable(a.stdout, rules)
			}
			return usageErrorf("--format: unknown format %q (known: table, json)", format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	cmd.Flags().StringArrayVar(&dirs, "policy-dir", nil, "also load the Rego checks in this folder (repeatable)")
	return cmd
}

func writeCatalogTable(w io.Writer, rules []checks.Rule) error {
	t := tablewriter.NewTable(w)
	t.Header("ID", "Severity", "Applies to", "CIS", "FSBP", "Workshop", "Fix")
	for _, r := range rules {
		if err := t.Append(r.ID, r.Severity.String(), r.AppliesTo, frameworkIDs(r, checks.FrameworkCIS), frameworkIDs(r, checks.FrameworkFSBP), frameworkIDs(r, checks.FrameworkWorkshop), string(r.Remediation.Fix)); err != nil {
			return err
		}
	}
	return t.Render()
}

func frameworkIDs(r checks.Rule, name string) string {
	ids := r.Frameworks[name]
	if len(ids) == 0 {
		return "–"
	}
	return strings.Join(ids, ", ")
}

func (a *app) explainCmd() *cobra.Command {
	var dirs []string
	cmd := &cobra.Command{
		Use:   "explain ID",
		Short: "Explain one check: rationale, frameworks, remediation",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rules, err := a.loadRules(cmd, dirs)
			if err != nil {
				return err
			}
			for _, r := range rules {
				if r.ID == args[0] {
					writeExplanation(a.stdout, r)
					return nil
				}
			}
			ids := make([]string, len(rules))
			for i, r := range rules {
				ids[i] = r.ID
			}
			sort.Strings(ids)
			return usageErrorf("no check %q; run `coffer checks` for the catalog", args[0])
		},
	}
	cmd.Flags().StringArrayVar(&dirs, "policy-dir", nil, "also load the Rego checks in this folder (repeatable)")
	return cmd
}

func writeExplanation(w io.Writer, r checks.Rule) {
	fmt.Fprintf(w, "%s — %s\n\n", r.ID, r.Title)
	fmt.Fprintf(w, "Severity:   %s\nService:    %s\nApplies to: %s\nFix:        %s\n", r.Severity, r.Service, r.AppliesTo, r.Remediation.Fix)
	for _, fw := range []string{checks.FrameworkCIS, checks.FrameworkFSBP, checks.FrameworkWorkshop} {
		fmt.Fprintf(w, "%-11s %s\n", fw+":", frameworkIDs(r, fw))
	}
	if r.Description != "" {
		fmt.Fprintf(w, "\nWhy:\n  %s\n", strings.ReplaceAll(r.Description, "\n", "\n  "))
	}
	fmt.Fprintf(w, "\nRemediation:\n  %s\n", r.Remediation.Summary)
	if len(r.Remediation.Commands) > 0 {
		fmt.Fprintln(w, "\nCommands (filled in with real names in scan findings):")
		for _, c := range r.Remediation.Commands {
			fmt.Fprintf(w, "  %s\n", c)
		}
	}
	fmt.Fprintf(w, "\nSource: %s\n", r.Source)
}
