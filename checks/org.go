package checks

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
)

// AccountInfo is one account of an organisation report: whether coffer saw it, and its counts.
type AccountInfo struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Status string `json:"status"`
	// Error says why the account was not scanned (status error or skipped).
	Error   string   `json:"error,omitempty"`
	Summary *Summary `json:"summary,omitempty"`
}

// OrgEvalOptions are EvalOptions for every account of an organisation, with the configuration
// of each account (coffer.yaml's organisation-wide settings with the account's own over them).
type OrgEvalOptions struct {
	EvalOptions
	// ConfigFor returns the configuration of an account; nil gives each account
	// EvalOptions.Config.ForAccount (coffer.yaml's settings for the account over the
	// organisation's).
	ConfigFor func(accountID string) *Config
}

func (o OrgEvalOptions) configFor(accountID string) *Config {
	if o.ConfigFor != nil {
		if cfg := o.ConfigFor(accountID); cfg != nil {
			return cfg
		}
	}
	if o.Config != nil {
		return o.Config.ForAccount(accountID)
	}
	return DefaultConfig()
}

// EvaluateOrg evaluates every account of src and hands each account's report to emit before the
// next account is evaluated, so that an organisation of any size is evaluated in the memory of one
// account (DESIGN §14): reports are written as they come (JSON and SARIF stream), never held all
// at once. Buckets are paired across accounts first (OrgDirectory), which takes one more pass over
// src, and a third when some pair crosses accounts.
//
// An account that could not be read (status error) gets an ERROR finding for every check, naming
// why; a skipped account gets none. Both are in the returned list, in src's order, with every
// account's summary. emit gets the account with its report: whether it was read, and its summary.
func (e *Engine) EvaluateOrg(ctx context.Context, src AccountSource, opts OrgEvalOptions, emit func(AccountInfo, *Report) error) ([]AccountInfo, error) {
	dir, err := BuildOrgDirectory(ctx, src, opts.configFor)
	if err != nil {
		return nil, err
	}
	var accounts []AccountInfo
	err = src.Each(func(a *OrgAccount) error {
		info := AccountInfo{ID: a.ID, Name: a.Name, Status: a.Status, Error: a.Error}
		var report *Report
		switch a.Status {
		case AccountScanned:
			eo := opts.EvalOptions
			eo.Config = opts.configFor(a.ID)
			eo.Cross = dir.For(a.ID)
			r, err := e.Evaluate(ctx, a.Snapshot, eo)
			if err != nil {
				return fmt.Errorf("evaluate account %s: %w", a.ID, err)
			}
			report = r
		case AccountError:
			report = e.unreadAccount(a, opts.EvalOptions)
		default:
			accounts = append(accounts, info)
			return nil
		}
		s := report.Summary
		info.Summary = &s
		accounts = append(accounts, info)
		return emit(info, report)
	})
	if err != nil {
		return nil, err
	}
	return accounts, nil
}

// BuildOrgDirectory pairs the buckets of src's accounts across accounts: one pass over the
// accounts, and a second when some pair crosses accounts (to copy the peers' bucket objects).
// configFor gives each account's configuration.
func BuildOrgDirectory(ctx context.Context, src AccountSource, configFor func(accountID string) *Config) (*OrgDirectory, error) {
	dir := NewOrgDirectory()
	err := src.Each(func(a *OrgAccount) error {
		if a.Status == AccountScanned {
			dir.Add(a.Snapshot, configFor(a.ID))
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("pair buckets across accounts: %w", err)
	}
	if needs := dir.NeedsPeers(); len(needs) > 0 {
		err := src.Each(func(a *OrgAccount) error {
			if names := needs[a.ID]; len(names) > 0 && a.Snapshot != nil {
				dir.CollectPeers(a.Snapshot, names)
			}
			return ctx.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("read the buckets paired across accounts: %w", err)
		}
	}
	return dir, nil
}

// unreadAccount is the report of an account coffer could not read: every check is ERROR on the
// account, with the reason, so that the account can never pass by being absent.
func (e *Engine) unreadAccount(a *OrgAccount, opts EvalOptions) *Report {
	now := opts.now()
	report := &Report{SchemaVersion: ReportSchemaVersion, Tool: opts.Tool, AccountID: a.ID, StartedAt: now, FinishedAt: now, Rules: e.Rules()}
	res := Resource{ARN: fmt.Sprintf("arn:aws:iam::%s:root", a.ID), Type: "AWS::::Account", Name: a.ID, Region: "global", AccountID: a.ID}
	msg := fmt.Sprintf("Account %s could not be read: %s.", a.ID, a.Error)
	for _, rule := range e.rules {
		report.Findings = append(report.Findings, Finding{
			CheckID: rule.ID, Title: rule.Title, Severity: rule.Severity, Status: StatusError, Resource: res,
			Message: msg, Frameworks: rule.Frameworks,
			Remediation: Remediation{Summary: rule.Remediation.Summary, Commands: []string{}, Fix: rule.Remediation.Fix},
		})
	}
	report.Summarize()
	return report
}

// MergeReports puts the reports of several accounts into one organisation report: findings by
// (account, check, resource), the accounts listed by id with their summaries, the summary of them
// all. Accounts go by id, not in the order they came, so that an organisation scanned in shards
// and merged (`coffer merge`) gives the report of one scan. A report of one account is returned as
// it is.
func MergeReports(reports []*Report, accounts []AccountInfo) *Report {
	if len(reports) == 1 && len(accounts) <= 1 {
		return reports[0]
	}
	accounts = slices.Clone(accounts)
	slices.SortStableFunc(accounts, func(a, b AccountInfo) int { return cmp.Compare(a.ID, b.ID) })
	out := &Report{SchemaVersion: ReportSchemaVersion, Accounts: accounts}
	total := 0
	for _, r := range reports {
		total += len(r.Findings)
	}
	sorted := append([]*Report(nil), reports...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].AccountID < sorted[j].AccountID })
	out.Findings = make([]Finding, 0, total)
	regions := map[string]bool{}
	for i, r := range sorted {
		if i == 0 || r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if r.FinishedAt.After(out.FinishedAt) {
			out.FinishedAt = r.FinishedAt
		}
		out.Tool = r.Tool
		if out.Rules == nil {
			out.Rules = r.Rules
		}
		out.Findings = append(out.Findings, r.Findings...)
		out.Notices = append(out.Notices, r.Notices...)
		out.Baselined = out.Baselined || r.Baselined
		for _, reg := range r.Regions {
			regions[reg] = true
		}
	}
	out.Regions = SortedKeys(regions)
	out.Summarize()
	return out
}
