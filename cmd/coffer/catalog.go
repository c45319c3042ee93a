package main

import (
	"strings"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/policies"
	"github.com/coffer-audit/coffer/reporters"
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
			rep, err := reporters.NewCatalog(format, reporters.Options{})
			if err != nil {
				return usageErrorf("--format: %w", err)
			}
			rules, err := a.loadRules(cmd, dirs)
			if err != nil {
				return err
			}
			return rep.WriteCatalog(a.stdout, rules)
		},
	}
	cmd.Flags().StringVar(&format, "format", reporters.FormatTable, strings.Join(reporters.CatalogFormats(), " or "))
	cmd.Flags().StringArrayVar(&dirs, "policy-dir", nil, "also load the Rego checks in this folder (repeatable)")
	return cmd
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
					return reporters.WriteExplanation(a.stdout, r)
				}
			}
			return usageErrorf("no check %q; run `coffer checks` for the catalog", args[0])
		},
	}
	cmd.Flags().StringArrayVar(&dirs, "policy-dir", nil, "also load the Rego checks in this folder (repeatable)")
	return cmd
}
