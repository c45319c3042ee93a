package reporters

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/coffer-audit/coffer/checks"
)

// An organisation report (DESIGN §14) is a checks.Report with Accounts: every finding's resource
// names its account, and findings are sorted by account first (checks.MergeReports). The formats
// for people show which account a row is in, and a summary of the accounts; the formats for
// machines keep one entry per finding, and SARIF and JUnit give each account its run or suite.

// accountSection is one account of an organisation report and its findings.
type accountSection struct {
	info     checks.AccountInfo
	findings []*checks.Finding
}

// shown are the section's findings a report for people lists (shownFindings).
func (s accountSection) shown(showPass bool) []*checks.Finding {
	if showPass {
		return s.findings
	}
	out := make([]*checks.Finding, 0, len(s.findings))
	for _, f := range s.findings {
		if f.Status != checks.StatusPass {
			out = append(out, f)
		}
	}
	return out
}

// readFindings leaves out of fs the findings of r's accounts that could not be read (status
// error), unless every finding is a row (GroupByNone, --detail). Every check of such an account is
// ERROR for the one reason that the accounts table and the account's heading give once; 33 rows
// saying it again would bury the findings (DESIGN §15). The summaries still count them, and the
// formats for machines keep them all.
func readFindings(r *checks.Report, fs []*checks.Finding, by GroupBy) []*checks.Finding {
	if by == GroupByNone {
		return fs
	}
	unread := map[string]bool{}
	for _, a := range r.Accounts {
		if a.Status == checks.AccountError {
			unread[a.ID] = true
		}
	}
	if len(unread) == 0 {
		return fs
	}
	out := make([]*checks.Finding, 0, len(fs))
	for _, f := range fs {
		if !unread[f.Resource.AccountID] {
			out = append(out, f)
		}
	}
	return out
}

// listed are the section's findings its rows show in a grouped report: none for an account that
// could not be read, whose heading gives the reason once (see readFindings).
func (s accountSection) listed(showPass bool) []*checks.Finding {
	if s.info.Status == checks.AccountError {
		return nil
	}
	return s.shown(showPass)
}

// heading is "111111111111 (prod): 3 failed (…), 0 errors, 40 passed, 0 waived", and the status
// of an account that was not scanned.
func (s accountSection) heading() string {
	line := s.label() + ": " + summaryLine(countPtrs(s.findings))
	if s.info.Status != "" && s.info.Status != checks.AccountScanned {
		line += " — " + s.info.Status
		if s.info.Error != "" {
			line += ": " + s.info.Error
		}
	}
	return line
}

// label is "111111111111 (prod)".
func (s accountSection) label() string {
	if s.info.Name != "" {
		return s.info.ID + " (" + s.info.Name + ")"
	}
	return s.info.ID
}

// accountSections splits fs (sorted by account first) by account, in the order of r.Accounts;
// accounts with findings that r.Accounts does not list come after, by id.
func accountSections(r *checks.Report, fs []*checks.Finding) []accountSection {
	byAccount := map[string][]*checks.Finding{}
	var unlisted []string
	for i := 0; i < len(fs); {
		j := i + 1
		for j < len(fs) && fs[j].Resource.AccountID == fs[i].Resource.AccountID {
			j++
		}
		id := fs[i].Resource.AccountID
		if _, seen := byAccount[id]; !seen {
			unlisted = append(unlisted, id)
		}
		byAccount[id] = append(byAccount[id], fs[i:j]...)
		i = j
	}
	sections := make([]accountSection, 0, len(r.Accounts)+len(unlisted))
	listed := map[string]bool{}
	for _, a := range r.Accounts {
		listed[a.ID] = true
		sections = append(sections, accountSection{info: a, findings: byAccount[a.ID]})
	}
	for _, id := range unlisted {
		if !listed[id] {
			sections = append(sections, accountSection{info: checks.AccountInfo{ID: id}, findings: byAccount[id]})
		}
	}
	return sections
}

// accountLabel is a resource's label with its account in front: "111111111111/backup (primary)".
func accountLabel(res checks.Resource) string {
	label := displayLabel(res)
	if res.AccountID == "" || res.AccountID == cmp.Or(res.Name, res.ARN) {
		return label
	}
	return clipProse(res.AccountID) + "/" + label
}

// accountsLine is "12 accounts (10 scanned, 1 error, 1 skipped)".
func accountsLine(accounts []checks.AccountInfo) string {
	n := map[string]int{}
	var order []string
	for _, a := range accounts {
		if n[a.Status] == 0 {
			order = append(order, a.Status)
		}
		n[a.Status]++
	}
	parts := make([]string, 0, len(order))
	for _, st := range order {
		parts = append(parts, fmt.Sprintf("%s %s", thousands(n[st]), cmp.Or(st, "unknown")))
	}
	return plural(len(accounts), "account", "accounts") + " (" + strings.Join(parts, ", ") + ")"
}

// validGroupBy refuses a grouping ParseGroupBy would not give (Options set by a program).
func validGroupBy(by GroupBy) error {
	_, err := ParseGroupBy(string(by))
	return err
}
