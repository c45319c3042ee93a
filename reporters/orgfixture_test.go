package reporters

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-audit/coffer/checks"
)

// groupedReport is goldenReport with what repeats in a real account: seven more primaries without
// versioning (one group, with a known one apart), three buckets whose policy could not be read
// (one group of errors) and a second waived bucket (the same waiver).
func groupedReport() *checks.Report {
	r := goldenReport()
	rule, _ := r.RuleByID("s3-bucket-versioning")
	for i := range 7 {
		name := fmt.Sprintf("app-%02d-backups", i)
		f := checks.Finding{
			CheckID: rule.ID, Title: rule.Title, Severity: rule.Severity, Status: checks.StatusFail,
			Resource:   checks.Resource{ARN: "arn:aws:s3:::" + name, Type: "AWS::S3::Bucket", Name: name, Region: "eu-west-1", Role: "primary"},
			Message:    "Bucket " + name + " does not have versioning enabled (status \"Suspended\").",
			Evidence:   &checks.Evidence{Path: fmt.Sprintf("s3.buckets[%d].versioning.status", 3+i), Value: "Suspended"},
			Frameworks: rule.Frameworks,
			Remediation: checks.Remediation{Summary: rule.Remediation.Summary, Fix: rule.Remediation.Fix, Commands: []string{
				"aws s3api put-bucket-versioning --bucket " + name + " --versioning-configuration Status=Enabled"}},
		}
		f.InBaseline = i == 6
		r.Findings = append(r.Findings, f)
	}
	tls, _ := r.RuleByID("s3-bucket-tls-only")
	for i := range 3 {
		name := fmt.Sprintf("app-%02d-backups", i)
		r.Findings = append(r.Findings, checks.Finding{
			CheckID: tls.ID, Title: tls.Title, Severity: tls.Severity, Status: checks.StatusError,
			Resource:    checks.Resource{ARN: "arn:aws:s3:::" + name, Type: "AWS::S3::Bucket", Name: name, Region: "eu-west-1", Role: "primary"},
			Message:     "could not read " + name + ": s3:GetBucketPolicy failed in eu-west-1 (AccessDenied: denied)",
			Frameworks:  tls.Frameworks,
			Remediation: checks.Remediation{Summary: tls.Remediation.Summary, Fix: tls.Remediation.Fix, Commands: []string{}},
		})
	}
	for _, f := range r.Findings {
		if f.Status == checks.StatusWaived {
			w := f
			w.Resource = checks.Resource{ARN: "arn:aws:s3:::team-backups-archive", Type: "AWS::S3::Bucket", Name: "team-backups-archive", Region: "eu-west-1", Role: "primary"}
			w.Message = "Bucket team-backups-archive has object ownership ObjectWriter, so ACLs still apply."
			w.Remediation.Commands = []string{"aws s3api put-bucket-ownership-controls --bucket team-backups-archive --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'"}
			r.Findings = append(r.Findings, w)
			break
		}
	}
	r.Summarize()
	return r
}

// orgAccounts are the accounts of orgReports: two scanned, one that could not be read, one
// skipped.
var orgAccounts = []checks.AccountInfo{
	{ID: "111111111111", Name: "prod", Status: checks.AccountScanned},
	{ID: "222222222222", Name: "staging", Status: checks.AccountScanned},
	{ID: "333333333333", Name: "legacy", Status: checks.AccountError, Error: "assume role coffer-audit: AccessDenied"},
	{ID: "444444444444", Name: "sandbox", Status: checks.AccountSkipped, Error: "suspended"},
}

// orgReports are the reports EvaluateOrg would emit for orgAccounts, and the accounts with their
// summaries: prod is groupedReport, staging shares some of its failures (the same check failing
// the same way in two accounts) and legacy has an ERROR on every rule.
func orgReports() ([]*checks.Report, []checks.AccountInfo) {
	inAccount := func(r *checks.Report, id string) *checks.Report {
		r.AccountID = id
		for i := range r.Findings {
			f := &r.Findings[i]
			f.Resource.AccountID = id
			f.Resource.ARN = strings.ReplaceAll(f.Resource.ARN, fixtureAccount, id)
			f.Resource.Name = strings.ReplaceAll(f.Resource.Name, fixtureAccount, id)
			f.Message = strings.ReplaceAll(f.Message, fixtureAccount, id)
			for j, c := range f.Remediation.Commands {
				f.Remediation.Commands[j] = strings.ReplaceAll(c, fixtureAccount, id)
			}
		}
		r.Summarize()
		return r
	}
	prod := inAccount(groupedReport(), "111111111111")
	staging := inAccount(goldenReport(), "222222222222")
	// S3 bucket names are global: staging's buckets have names of their own.
	for i := range staging.Findings {
		f := &staging.Findings[i]
		if f.Resource.Type != "AWS::S3::Bucket" {
			continue
		}
		old := f.Resource.Name
		repl := strings.NewReplacer(old, "stg-"+old)
		f.Resource.Name, f.Resource.ARN, f.Message = repl.Replace(f.Resource.Name), repl.Replace(f.Resource.ARN), repl.Replace(f.Message)
		for j, c := range f.Remediation.Commands {
			f.Remediation.Commands[j] = repl.Replace(c)
		}
	}
	staging.Notices = []string{"Waiver for s3-bucket-mfa-delete on stg-* expires on 2025-07-01."}
	staging.StartedAt = staging.StartedAt.Add(-time.Minute)
	legacy := &checks.Report{SchemaVersion: checks.ReportSchemaVersion, Tool: prod.Tool, AccountID: "333333333333",
		StartedAt: prod.StartedAt, FinishedAt: prod.StartedAt, Rules: prod.Rules}
	res := checks.Resource{ARN: "arn:aws:iam::333333333333:root", Type: "AWS::::Account", Name: "333333333333", Region: "global", AccountID: "333333333333"}
	for _, rule := range prod.Rules {
		legacy.Findings = append(legacy.Findings, checks.Finding{
			CheckID: rule.ID, Title: rule.Title, Severity: rule.Severity, Status: checks.StatusError, Resource: res,
			Message: "Account 333333333333 could not be read: assume role coffer-audit: AccessDenied.", Frameworks: rule.Frameworks,
			Remediation: checks.Remediation{Summary: rule.Remediation.Summary, Commands: []string{}, Fix: rule.Remediation.Fix},
		})
	}
	legacy.Summarize()
	accounts := slices.Clone(orgAccounts)
	for i, r := range []*checks.Report{prod, staging, legacy} {
		s := r.Summary
		accounts[i].Summary = &s
	}
	return []*checks.Report{prod, staging, legacy}, accounts
}

// orgReport is the organisation report of orgReports.
func orgReport() *checks.Report {
	reports, accounts := orgReports()
	return checks.MergeReports(reports, accounts)
}

// TestUnreadAccountSaidOnce: the ERROR findings of an account that could not be read are left out
// of the grouped reports for people, where the accounts summary gives the reason once, and are
// all there with --detail and in the formats for machines.
func TestUnreadAccountSaidOnce(t *testing.T) {
	const reason = "Account 333333333333 could not be read"
	r := orgReport()
	want := 0
	for _, f := range r.Findings {
		if f.Resource.AccountID == "333333333333" && f.Status == checks.StatusError {
			want++
		}
	}
	if want < 2 {
		t.Fatalf("the fixture's unread account has %d ERROR findings, want several", want)
	}
	for _, tc := range []struct {
		format string
		by     GroupBy
		rows   int
		// atLeast: a format may say a finding's message more than once (JUnit: attribute and body).
		atLeast bool
	}{
		{FormatTable, GroupByCheck, 0, false},
		{FormatTable, GroupByAccount, 0, false},
		{FormatTable, GroupByResource, 0, false},
		{FormatTable, GroupByNone, want, false},
		{FormatMarkdown, GroupByCheck, 0, false},
		{FormatMarkdown, GroupByAccount, 0, false},
		{FormatMarkdown, GroupByNone, want, false},
		{FormatJSON, GroupByCheck, want, false},
		{FormatJUnit, GroupByCheck, want, true},
	} {
		t.Run(tc.format+"/"+string(tc.by), func(t *testing.T) {
			rep, err := New(tc.format, Options{GroupBy: tc.by})
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			if err := rep.Write(&out, orgReport()); err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(out.String(), reason); got != tc.rows && !(tc.atLeast && got >= tc.rows) {
				t.Errorf("%q appears %d times, want %d", reason, got, tc.rows)
			}
			if tc.rows == 0 && !strings.Contains(out.String(), "AccessDenied") {
				t.Errorf("the reason (AccessDenied) is not said at all:\n%s", out.String())
			}
		})
	}
}
