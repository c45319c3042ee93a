# METADATA
# title: No attached customer-managed or inline policy allows "*" on "*"
# description: >-
#   A policy that allows every action on every resource makes whoever holds it an administrator who
#   can delete every backup and every safeguard. Attached customer-managed policies
#   (attachment_count > 0) are judged as policies; inline policies are judged on the user, group or
#   role that holds them. An Allow of "*" with a NotResource counts. A policy document that cannot
#   be parsed fails too, since it cannot be shown not to be an admin policy.
# custom:
#   id: iam-no-admin-policy
#   severity: HIGH
#   service: iam
#   resource_type: AWS::IAM::Policy, AWS::IAM::User, AWS::IAM::Group, AWS::IAM::Role
#   applies_to: attached customer-managed policies; principals with inline policies
#   requires: ["iam:GetAccountAuthorizationDetails"]
#   frameworks:
#     cis-aws-3.0.0: ["1.16"]
#     aws-fsbp: ["IAM.1"]
#     workshop: ["6.1"]
#   matrix:
#     table: principals
#     column: Admin
#     order: 30
#   remediation:
#     summary: >-
#       Replace the "*" on "*" statement with the actions and resources actually needed: publish a
#       narrower default version of the managed policy (see who uses it first), or delete the inline
#       policy and grant least privilege instead.
#     fix: manual
#     commands:
#       - "{{if eq .Resource.Type \"AWS::IAM::Policy\"}}aws iam list-entities-for-policy --policy-arn {{.Resource.ARN}}{{end}}"
#       - "{{if eq .Resource.Type \"AWS::IAM::Policy\"}}aws iam create-policy-version --policy-arn {{.Resource.ARN}} --policy-document file://least-privilege.json --set-as-default{{end}}"
#       - |-
#         {{range .Vars.inline_policy_names}}aws iam delete-{{$.Vars.principal_kind}}-policy --{{$.Vars.principal_kind}}-name {{$.Resource.Name}} --policy-name {{.}}
#         {{end}}
package coffer.iam.no_admin_policy

import data.lib.iam
import data.lib.resource
import rego.v1

# attached_customer are the indexes of customer-managed policies attached to a principal.
attached_customer contains j if {
	some j, p in input.iam.policies
	not p.aws_managed
	p.attachment_count > 0
}

# with_inline are the principals that have inline policies.
with_inline contains [kind, i] if {
	some [kind, i] in iam.principals
	count(object.get(iam.principal(kind, i), "inline_policies", [])) > 0
}

resources contains resource.policy(input.iam.policies[j]) if some j in attached_customer

resources contains iam.principal_resource(kind, iam.principal(kind, i)) if some [kind, i] in with_inline

deny contains {
	"resource": resource.policy(p),
	"msg": sprintf("Customer-managed policy %s is attached to %d principal(s) and allows \"*\" on \"*\".", [p.name, p.attachment_count]),
	"evidence": {"path": sprintf("iam.policies[%d].document.document.statements[%d]", [j, k]), "value": s},
} if {
	some j in attached_customer
	p := input.iam.policies[j]
	stmts := iam.statements(p.document)
	k := min({k | some k, s in stmts; iam.grants_admin(s)})
	s := stmts[k]
}

deny contains {
	"resource": resource.policy(p),
	"msg": sprintf("Customer-managed policy %s could not be parsed (%s), so it cannot be shown not to allow \"*\" on \"*\".", [p.name, p.document.parse_error]),
	"evidence": {"path": sprintf("iam.policies[%d].document.parse_error", [j]), "value": p.document.parse_error},
} if {
	some j in attached_customer
	p := input.iam.policies[j]
	iam.unparsed(p.document)
}

deny contains {
	"resource": iam.principal_resource(kind, p),
	"msg": sprintf("%s %s has %s.", [iam.principal_labels[kind], p.name, concat(" and ", reasons)]),
	"evidence": {"path": sprintf("%s.inline_policies", [iam.principal_path(kind, i)]), "value": array.concat(admin, unparsed)},
	"vars": {"principal_kind": kind, "inline_policy_names": admin},
} if {
	some [kind, i] in with_inline
	p := iam.principal(kind, i)
	admin := sort({ip.name |
		some ip in p.inline_policies
		some s in iam.statements(ip.document)
		iam.grants_admin(s)
	})
	unparsed := sort({ip.name | some ip in p.inline_policies; iam.unparsed(ip.document)})
	reasons := array.concat(
		[sprintf("inline policies allowing \"*\" on \"*\" (%s)", [concat(", ", admin)]) | count(admin) > 0],
		[sprintf("inline policies that could not be parsed (%s)", [concat(", ", unparsed)]) | count(unparsed) > 0],
	)
	count(reasons) > 0
}
