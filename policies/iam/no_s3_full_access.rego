# METADATA
# title: No user, group or role has full S3 access
# description: >-
#   A principal that may do everything in S3 (AmazonS3FullAccess, or any policy allowing s3:* or *)
#   on all resources or on a backup bucket can delete backups, their versions and the buckets'
#   protections. s3:* limited to an unrelated bucket is fine. Allow + NotAction counts unless the
#   NotAction excludes all of S3; Allow + NotResource counts as all resources. A policy that cannot be
#   parsed, or an attached managed policy missing from the snapshot, fails too: it cannot be shown
#   to be narrower. Service-linked roles are out of scope (only their service can change them).
# custom:
#   id: iam-no-s3-full-access
#   severity: HIGH
#   service: iam
#   resource_type: AWS::IAM::User, AWS::IAM::Group, AWS::IAM::Role
#   applies_to: users, groups and roles
#   requires: ["iam:GetAccountAuthorizationDetails", "s3:ListBuckets"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: ["IAM.21"]
#     workshop: ["6.1"]
#   matrix:
#     table: principals
#     column: Full S3 access
#     order: 20
#   remediation:
#     summary: >-
#       Detach the policies that grant full S3 access (and delete such inline policies), then grant
#       only the actions the principal needs on the buckets it needs (e.g. s3:GetObject and
#       s3:PutObject on arn:aws:s3:::BUCKET/*).
#     fix: opt-in
#     commands:
#       - |-
#         {{range .Vars.policy_arns}}aws iam detach-{{$.Vars.principal_kind}}-policy --{{$.Vars.principal_kind}}-name {{$.Resource.Name}} --policy-arn {{.}}
#         {{end}}
#       - |-
#         {{range .Vars.inline_policy_names}}aws iam delete-{{$.Vars.principal_kind}}-policy --{{$.Vars.principal_kind}}-name {{$.Resource.Name}} --policy-name {{.}}
#         {{end}}
package coffer.iam.no_s3_full_access

import data.lib.iam
import rego.v1

# full_access_policies are the ARNs of managed policies with a statement granting full S3 access.
full_access_policies := {p.arn |
	some p in input.iam.policies
	some s in iam.statements(p.document)
	iam.grants_s3_full_access(s)
} | {iam.s3_full_access_arn}

in_scope contains [kind, i] if {
	some [kind, i] in iam.principals
	not iam.service_linked(kind, iam.principal(kind, i))
}

resources contains iam.principal_resource(kind, iam.principal(kind, i)) if some [kind, i] in in_scope

deny contains {
	"resource": iam.principal_resource(kind, p),
	"msg": sprintf("%s %s has %s.", [iam.principal_labels[kind], p.name, concat(" and ", reasons)]),
	"evidence": {"path": iam.principal_path(kind, i), "value": {
		"attached_policies": attached,
		"inline_policies": inline,
		"unknown_policies": unknown,
	}},
	"vars": {"principal_kind": kind, "policy_arns": attached, "inline_policy_names": inline},
} if {
	some [kind, i] in in_scope
	p := iam.principal(kind, i)
	attached := sort({a.arn | some a in p.attached_policies; a.arn in full_access_policies})
	inline := sort({ip.name |
		some ip in p.inline_policies
		some s in iam.statements(ip.document)
		iam.grants_s3_full_access(s)
	})
	unknown := array.concat(
		sort({a.arn | some a in p.attached_policies; unknown_managed(a.arn)}),
		sort({sprintf("inline policy %s", [ip.name]) | some ip in p.inline_policies; iam.unparsed(ip.document)}),
	)
	reasons := array.concat(
		[sprintf("full S3 access through %s", [concat(", ", array.concat(attached, [sprintf("inline policy %s", [n]) | some n in inline]))]) |
			count(attached) + count(inline) > 0
		],
		[sprintf("policies that could not be parsed or are missing from the snapshot (%s), so their S3 access is unknown", [concat(", ", unknown)]) |
			count(unknown) > 0
		],
	)
	count(reasons) > 0
}

# unknown_managed(arn) holds for an attached managed policy whose document is unparsable or absent.
unknown_managed(arn) if arn in iam.unparsed_policy_arns

unknown_managed(arn) if {
	not iam.managed_policy_index[arn]
	arn != iam.s3_full_access_arn
}
