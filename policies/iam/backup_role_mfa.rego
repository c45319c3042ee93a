# METADATA
# title: Roles with access to backups require MFA to assume
# description: >-
#   A role that can read or write a backup bucket (s3:GetObject, s3:PutObject, s3:DeleteObject,
#   s3:ListBucket… on a backup bucket or on "*") and that IAM principals (an account, a user or role
#   ARN, or "*") may assume must require MFA in every such Allow of its trust policy: Bool
#   aws:MultiFactorAuthPresent "true" or NumericLessThan aws:MultiFactorAuthAge (or a Deny of
#   sts:AssumeRole with BoolIfExists aws:MultiFactorAuthPresent "false"). BoolIfExists "true" in an
#   Allow does not count: it passes when the caller uses long-term keys without MFA. Roles only
#   services (ec2.amazonaws.com…) or federated identities can assume are out of scope. A policy that
#   cannot be parsed counts as possibly granting access.
# custom:
#   id: iam-backup-role-mfa
#   severity: HIGH
#   service: iam
#   resource_type: AWS::IAM::Role
#   applies_to: roles that can read or write a backup bucket and are assumable by IAM principals
#   requires: ["iam:GetAccountAuthorizationDetails", "s3:ListBuckets"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: []
#     workshop: ["6.1", "6.6"]
#   matrix:
#     table: principals
#     column: Trust requires MFA
#     order: 40
#   remediation:
#     summary: >-
#       Require MFA in the role's trust policy: add Bool aws:MultiFactorAuthPresent "true" to every
#       Allow of sts:AssumeRole to an AWS principal (the other statements are kept). Callers then
#       assume the role with --serial-number and --token-code (or a profile with mfa_serial).
#     fix: opt-in
#     commands:
#       - aws iam update-assume-role-policy --role-name {{.Resource.Name}} --policy-document {{trustPolicyWithMFA .Role}}
package coffer.iam.backup_role_mfa

import data.lib.iam
import data.lib.resource
import rego.v1

# aws_managed_backup_access are AWS-managed policies known to read or write every bucket, judged by
# ARN when their document is not in the snapshot.
aws_managed_backup_access := {iam.aws_policy_arn(n) |
	some n in ["AmazonS3FullAccess", "AmazonS3ReadOnlyAccess", "AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess"]
}

# backup_access_policies are managed policies with a statement that reads or writes a backup bucket.
backup_access_policies := {p.arn |
	some p in input.iam.policies
	some s in iam.statements(p.document)
	iam.grants_backup_data_access(s)
} | aws_managed_backup_access

# access(r) lists what gives the role access to a backup bucket, and the policies that cannot be
# judged (unparsable or missing), which count as possible access.
access(r) := {"granting": granting, "unknown": unknown} if {
	granting := array.concat(
		sort({a.arn | some a in r.attached_policies; a.arn in backup_access_policies}),
		sort({sprintf("inline policy %s", [ip.name]) |
			some ip in r.inline_policies
			some s in iam.statements(ip.document)
			iam.grants_backup_data_access(s)
		}),
	)
	unknown := array.concat(
		sort({a.arn | some a in r.attached_policies; unknown_managed(a.arn)}),
		sort({sprintf("inline policy %s", [ip.name]) | some ip in r.inline_policies; iam.unparsed(ip.document)}),
	)
}

unknown_managed(arn) if arn in iam.unparsed_policy_arns

unknown_managed(arn) if {
	not iam.managed_policy_index[arn]
	not arn in aws_managed_backup_access
}

may_access_backups(r) if {
	a := access(r)
	count(a.granting) + count(a.unknown) > 0
}

trust_statements(r) := iam.statements(r.trust_policy)

# iam_assumable(r) holds when an IAM principal may assume the role (or the trust policy is unreadable).
iam_assumable(r) if {
	some s in trust_statements(r)
	iam.assumable_by_iam(s)
}

iam_assumable(r) if iam.unparsed(r.trust_policy)

# in_scope are the indexes of roles with (possible) backup access that IAM principals may assume.
in_scope contains i if {
	some i, r in input.iam.roles
	iam_assumable(r)
	may_access_backups(r)
}

resources contains resource.role_resource(input.iam.roles[i]) if some i in in_scope

deny contains {
	"resource": resource.role_resource(r),
	"msg": sprintf("Role %s %s and IAM principals (%s) can assume it without MFA.", [r.name, access_phrase(access(r)), concat(", ", principals)]),
	"evidence": {"path": sprintf("iam.roles[%d].trust_policy.document.statements", [i]), "value": [stmts[k] | some k in ks]},
} if {
	some i in in_scope
	r := input.iam.roles[i]
	stmts := trust_statements(r)
	not iam.denies_assume_without_mfa(stmts)
	ks := [k | some k, s in stmts; iam.assumable_by_iam(s); not iam.requires_mfa(s)]
	count(ks) > 0
	principals := sort({p | some k in ks; some p in statement_principals(stmts[k])})
}

deny contains {
	"resource": resource.role_resource(r),
	"msg": sprintf("Role %s %s and its trust policy could not be parsed (%s), so it cannot be shown to require MFA.", [r.name, access_phrase(access(r)), r.trust_policy.parse_error]),
	"evidence": {"path": sprintf("iam.roles[%d].trust_policy.parse_error", [i]), "value": r.trust_policy.parse_error},
} if {
	some i in in_scope
	r := input.iam.roles[i]
	iam.unparsed(r.trust_policy)
}

access_phrase(a) := sprintf("can read or write backup buckets through %s", [concat(", ", a.granting)]) if {
	count(a.granting) > 0
} else := sprintf("may read or write backup buckets (policies %s could not be judged)", [concat(", ", a.unknown)])

statement_principals(s) := object.get(s, ["principal", "AWS"], []) if count(object.get(s, ["principal", "AWS"], [])) > 0
else := ["NotPrincipal"]
