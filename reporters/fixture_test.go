package reporters

import (
	"time"

	"github.com/coffer-audit/coffer/checks"
)

const fixtureAccount = "123456789012"

// goldenReport is the hand-built report every golden file is rendered from: several rules, all
// four statuses, all severities, a not-applicable PASS, a rule with no findings, an IAM user whose
// name needs escaping in a URI, and text with <, &, | and single quotes. The rules that have a
// column in the HTML report's posture matrices carry it as the catalog does (custom.matrix).
func goldenReport() *checks.Report {
	rule := func(id, title, desc string, sev checks.Severity, service, applies string, fw map[string][]string, summary string, fix checks.FixClass, cmds ...string) checks.Rule {
		return checks.Rule{
			ID: id, Title: title, Description: desc, Severity: sev, Service: service, AppliesTo: applies,
			Frameworks: fw, Remediation: checks.RuleRemediation{Summary: summary, Commands: cmds, Fix: fix},
			Matrix:  matrixOf[id],
			Package: "data.coffer." + service, Source: "embedded:" + id + ".rego",
		}
	}
	fw := func(cis, fsbp, ws []string) map[string][]string {
		return map[string][]string{checks.FrameworkCIS: cis, checks.FrameworkFSBP: fsbp, checks.FrameworkWorkshop: ws}
	}
	rules := []checks.Rule{
		rule("s3-bucket-versioning", "Backup buckets have versioning enabled",
			"Versioning keeps every version of every object, so an accidental overwrite or delete of a backup can be undone.",
			checks.SeverityHigh, "s3", "backup buckets (primary, standby)", fw([]string{}, []string{"S3.14"}, []string{"6.2"}),
			"Turn versioning on for the bucket.", checks.FixAuto,
			"aws s3api put-bucket-versioning --bucket {{.Resource.Name}} --versioning-configuration Status=Enabled"),
		rule("iam-root-mfa", "The root user has MFA",
			"The root user can do anything, including closing the account; a password alone is not enough.",
			checks.SeverityCritical, "iam", "account", fw([]string{"1.5"}, []string{"IAM.9"}, []string{"6.1"}),
			"Sign in as root and assign an MFA device.", checks.FixManual),
		rule("s3-bucket-not-public", "Buckets are not public",
			"A bucket policy or ACL that grants access to everyone exposes the backups.",
			checks.SeverityCritical, "s3", "all buckets", fw(nil, []string{"S3.2", "S3.3"}, []string{"6.2"}),
			"Remove the public statement from the bucket policy and the public ACL grants.", checks.FixManual,
			"aws s3api get-bucket-policy --bucket {{.Resource.Name}} --query Policy --output text"),
		rule("s3-bucket-tls-only", "Buckets refuse plain HTTP",
			"A policy denying aws:SecureTransport=false keeps backups encrypted in transit.",
			checks.SeverityMedium, "s3", "all buckets", fw([]string{"2.1.1"}, []string{"S3.5"}, []string{"6.2"}),
			"Add a statement denying requests without TLS.", checks.FixAuto),
		rule("kms-key-rotation", "Customer-managed keys rotate",
			"Automatic rotation limits how much data one key version protects.",
			checks.SeverityMedium, "kms", "keys", fw([]string{"3.6"}, []string{"KMS.4"}, []string{"6.5"}),
			"Turn on automatic key rotation.", checks.FixAuto,
			"aws kms enable-key-rotation --key-id {{.Resource.Name}}"),
		rule("s3-bucket-acls-disabled", "Bucket ACLs are disabled",
			"With BucketOwnerEnforced ownership, ACLs cannot grant access behind the policy's back.",
			checks.SeverityLow, "s3", "all buckets", fw(nil, []string{"S3.12"}, []string{"6.2"}),
			"Set object ownership to BucketOwnerEnforced.", checks.FixAuto),
		rule("s3-bucket-mfa-delete", "Backup buckets require MFA to delete versions",
			"MFA Delete stops a stolen key from deleting versions. S3 forbids it together with lifecycle rules.",
			checks.SeverityLow, "s3", "backup buckets", fw([]string{"2.1.2"}, []string{"S3.20"}, []string{"6.1"}),
			"As root with MFA, enable MFA Delete.", checks.FixManual),
		rule("iam-user-mfa", "Users with credentials have MFA",
			"A console password or access key without MFA is one phished secret away from the backups.",
			checks.SeverityHigh, "iam", "users", fw([]string{"1.10"}, []string{"IAM.5", "IAM.19"}, []string{"6.1"}),
			"Assign an MFA device to the user.", checks.FixManual),
		rule("iam-password-policy", "The password policy is strong",
			"Long passwords that are not reused resist guessing.",
			checks.SeverityLow, "iam", "account", fw([]string{"1.8", "1.9"}, []string{"IAM.7", "IAM.15", "IAM.16"}, []string{"6.1"}),
			"Set a password policy with length 14 and reuse prevention 24.", checks.FixAuto),
		rule("cloudtrail-multi-region", "A multi-region trail is logging",
			"Without a trail nobody can tell who touched the backups.",
			checks.SeverityHigh, "cloudtrail", "account", fw([]string{"3.1"}, []string{"CloudTrail.1"}, []string{"6.4"}),
			"Create or fix a multi-region trail.", checks.FixAuto),
	}

	primary := checks.Resource{ARN: "arn:aws:s3:::team-backups-primary", Type: "AWS::S3::Bucket", Name: "team-backups-primary", Region: "eu-west-1", Role: "primary"}
	standby := checks.Resource{ARN: "arn:aws:s3:::team-backups-standby", Type: "AWS::S3::Bucket", Name: "team-backups-standby", Region: "us-east-1", Role: "standby"}
	trailLogs := checks.Resource{ARN: "arn:aws:s3:::logs.example-corp", Type: "AWS::S3::Bucket", Name: "logs.example-corp", Region: "eu-west-1", Role: "trail-logs"}
	account := checks.Resource{ARN: "arn:aws:iam::123456789012:root", Type: "AWS::::Account", Name: fixtureAccount}
	user := checks.Resource{ARN: "arn:aws:iam::123456789012:user/ops/alice+ops@example.com", Type: "AWS::IAM::User", Name: "alice+ops@example.com"}
	key := checks.Resource{ARN: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", Type: "AWS::KMS::Key", Name: "1234abcd-12ab-34cd-56ef-1234567890ab", Region: "eu-west-1"}

	byID := map[string]checks.Rule{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	finding := func(id string, st checks.Status, res checks.Resource, msg string, ev *checks.Evidence, cmds ...string) checks.Finding {
		r := byID[id]
		f := checks.Finding{
			CheckID: id, Title: r.Title, Severity: r.Severity, Status: st, Resource: res, Message: msg,
			Evidence: ev, Frameworks: r.Frameworks,
			Remediation: checks.Remediation{Summary: r.Remediation.Summary, Commands: cmds, Fix: r.Remediation.Fix},
		}
		if cmds == nil {
			f.Remediation.Commands = []string{}
		}
		return f
	}

	// known marks a failure the baseline report already had (scan --baseline).
	known := func(f checks.Finding) checks.Finding { f.InBaseline = true; return f }
	// notApplicable marks a PASS that the check's note says it does not apply to.
	notApplicable := func(f checks.Finding) checks.Finding { f.NotApplicable = true; return f }

	waived := finding("s3-bucket-acls-disabled", checks.StatusWaived, primary,
		"Bucket team-backups-primary has object ownership ObjectWriter, so ACLs still apply.",
		&checks.Evidence{Path: "s3.buckets[1].ownership", Value: "ObjectWriter"},
		"aws s3api put-bucket-ownership-controls --bucket team-backups-primary --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'")
	waived.Waiver = &checks.Waiver{CheckID: "s3-bucket-acls-disabled", Resource: "team-backups-*",
		Reason: "Legacy uploader <v2> needs ACLs & 'cutover' is planned | Q3", Expires: "2026-09-30"}

	findings := []checks.Finding{
		finding("iam-root-mfa", checks.StatusFail, account, "The root user of account 123456789012 has no MFA device.",
			&checks.Evidence{Path: "iam.account_summary.AccountMFAEnabled", Value: 0}),
		finding("s3-bucket-not-public", checks.StatusFail, primary,
			"Bucket team-backups-primary allows s3:GetObject to Principal '*' without a condition <public> & grants READ to AllUsers | everyone.",
			&checks.Evidence{Path: "s3.buckets[1].policy.Statement[0]", Value: map[string]any{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}},
			"aws s3api get-bucket-policy --bucket team-backups-primary --query Policy --output text",
			"aws s3api put-bucket-acl --bucket team-backups-primary --acl private"),
		finding("s3-bucket-not-public", checks.StatusPass, standby, "", nil),
		finding("s3-bucket-versioning", checks.StatusFail, primary,
			`Bucket team-backups-primary does not have versioning enabled (status "Suspended").`,
			&checks.Evidence{Path: "s3.buckets[1].versioning.status", Value: "Suspended"},
			"aws s3api put-bucket-versioning --bucket team-backups-primary --versioning-configuration Status=Enabled"),
		finding("s3-bucket-versioning", checks.StatusPass, standby, "", nil),
		known(finding("iam-user-mfa", checks.StatusFail, user, "User alice+ops@example.com has an active access key and no MFA device.",
			&checks.Evidence{Path: "iam.users[0].mfa_devices", Value: []any{}})),
		finding("cloudtrail-multi-region", checks.StatusPass, account, "", nil),
		finding("s3-bucket-tls-only", checks.StatusFail, trailLogs,
			"Bucket logs.example-corp does not deny requests without TLS (aws:SecureTransport).",
			&checks.Evidence{Path: "s3.buckets[0].policy", Value: nil},
			`aws s3api put-bucket-policy --bucket logs.example-corp --policy '{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::logs.example-corp","arn:aws:s3:::logs.example-corp/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}'`),
		finding("kms-key-rotation", checks.StatusError, key,
			"Could not read key rotation: kms:GetKeyRotationStatus failed with AccessDeniedException.", nil),
		waived,
		finding("s3-bucket-acls-disabled", checks.StatusFail, standby,
			"Bucket team-backups-standby has object ownership BucketOwnerPreferred, so ACLs still apply.",
			&checks.Evidence{Path: "s3.buckets[2].ownership", Value: "BucketOwnerPreferred"},
			"aws s3api put-bucket-ownership-controls --bucket team-backups-standby --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'"),
		notApplicable(finding("s3-bucket-mfa-delete", checks.StatusPass, primary,
			"MFA Delete is not applicable to bucket team-backups-primary: it has a lifecycle configuration.", nil)),
		finding("s3-bucket-mfa-delete", checks.StatusFail, standby,
			"Bucket team-backups-standby does not have MFA Delete enabled.",
			&checks.Evidence{Path: "s3.buckets[2].versioning.mfa_delete", Value: "Disabled"},
			"aws s3api put-bucket-versioning --bucket team-backups-standby --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa 'arn:aws:iam::123456789012:mfa/root-account-mfa-device 123456'"),
	}

	r := &checks.Report{
		SchemaVersion: checks.ReportSchemaVersion,
		Tool:          checks.Tool{Name: "coffer", Version: "1.2.3-test"},
		AccountID:     fixtureAccount,
		Regions:       []string{"eu-west-1", "us-east-1"},
		StartedAt:     time.Date(2025, 6, 1, 2, 0, 0, 0, time.UTC),
		FinishedAt:    time.Date(2025, 6, 1, 2, 0, 7, 0, time.UTC),
		Rules:         rules,
		Findings:      findings,
		Notices: []string{
			"Waiver for s3-bucket-versioning on team-old-* expired on 2025-01-31 and no longer applies.",
		},
		Baselined: true,
	}
	r.Summarize()
	return r
}

// matrixOf is where the catalog (policies/, custom.matrix) places its checks in the posture
// matrices; TestHTMLGoldenMatrixIsTheCatalogs keeps the two equal.
var matrixOf = map[string]*checks.MatrixColumn{
	"s3-bucket-public-access-block": {Table: checks.MatrixBuckets, Column: "Public access", Order: 10},
	"s3-bucket-not-public":          {Table: checks.MatrixBuckets, Column: "Public access", Order: 11},
	"s3-bucket-tls-only":            {Table: checks.MatrixBuckets, Column: "TLS only", Order: 20},
	"s3-bucket-versioning":          {Table: checks.MatrixBuckets, Column: "Versioning", Order: 30},
	"s3-bucket-object-lock":         {Table: checks.MatrixBuckets, Column: "Object Lock", Order: 40},
	"s3-bucket-default-encryption":  {Table: checks.MatrixBuckets, Column: "Encryption / CMK", Order: 50},
	"s3-bucket-kms-cmk":             {Table: checks.MatrixBuckets, Column: "Encryption / CMK", Order: 51},
	"s3-bucket-lifecycle-archive":   {Table: checks.MatrixBuckets, Column: "Lifecycle to archive", Order: 60},
	"s3-bucket-access-logging":      {Table: checks.MatrixBuckets, Column: "Access logging", Order: 70},
	"s3-standby-exists":             {Table: checks.MatrixBuckets, Column: "Replication / standby", Order: 80},
	"s3-bucket-replication":         {Table: checks.MatrixBuckets, Column: "Replication / standby", Order: 81},
	"s3-standby-other-region":       {Table: checks.MatrixBuckets, Column: "Replication / standby", Order: 82},
	"cloudtrail-s3-data-events":     {Table: checks.MatrixBuckets, Column: "Data events", Order: 90},
	"iam-user-mfa":                  {Table: checks.MatrixPrincipals, Column: "MFA", Order: 10},
	"iam-no-s3-full-access":         {Table: checks.MatrixPrincipals, Column: "Full S3 access", Order: 20},
	"iam-no-admin-policy":           {Table: checks.MatrixPrincipals, Column: "Admin", Order: 30},
	"iam-backup-role-mfa":           {Table: checks.MatrixPrincipals, Column: "Trust requires MFA", Order: 40},
	"iam-access-key-rotation":       {Table: checks.MatrixPrincipals, Column: "Key age / unused", Order: 50},
	"iam-unused-credentials":        {Table: checks.MatrixPrincipals, Column: "Key age / unused", Order: 51},
}

// htmlGoldenReport is goldenReport plus a rule for every other check of matrixOf, so that the
// HTML golden shows the matrices as a scan with the built-in checks lays them out, including
// columns none of whose checks found anything. These rules have no finding and no framework: they
// add columns and nothing else to the page (the coverage section lists the frameworks of the
// rules), and the other goldens, which list every rule, stay about goldenReport's.
func htmlGoldenReport() *checks.Report {
	r := goldenReport()
	have := map[string]bool{}
	for _, rule := range r.Rules {
		have[rule.ID] = true
	}
	for _, id := range checks.SortedKeys(matrixOf) {
		if !have[id] {
			r.Rules = append(r.Rules, checks.Rule{ID: id, Title: id, Severity: checks.SeverityMedium,
				Remediation: checks.RuleRemediation{Fix: checks.FixManual}, Matrix: matrixOf[id]})
		}
	}
	return r
}
