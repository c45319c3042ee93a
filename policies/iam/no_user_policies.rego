# METADATA
# title: Users get permissions only through groups or roles
# description: >-
#   Policies attached to (or embedded in) individual users are hard to review and tend to outlive the
#   job they were granted for. Grant permissions to groups or roles and put users in them.
# custom:
#   id: iam-no-user-policies
#   severity: LOW
#   service: iam
#   resource_type: AWS::IAM::User
#   applies_to: users
#   requires: ["iam:GetAccountAuthorizationDetails"]
#   frameworks:
#     cis-aws-3.0.0: ["1.15"]
#     aws-fsbp: ["IAM.2"]
#     workshop: ["6.1"]
#   remediation:
#     summary: >-
#       Add the user to a group that carries the permissions it needs, then detach the managed
#       policies from the user and delete its inline policies.
#     fix: manual
#     commands:
#       - aws iam add-user-to-group --user-name {{.Resource.Name}} --group-name '<GROUP_NAME>'
#       - |-
#         {{range .Vars.policy_arns}}aws iam detach-user-policy --user-name {{$.Resource.Name}} --policy-arn {{.}}
#         {{end}}
#       - |-
#         {{range .Vars.inline_policy_names}}aws iam delete-user-policy --user-name {{$.Resource.Name}} --policy-name {{.}}
#         {{end}}
package coffer.iam.no_user_policies

import data.lib.resource
import rego.v1

resources contains resource.user(u) if some u in input.iam.users

deny contains {
	"resource": resource.user(u),
	"msg": sprintf("User %s has policies of its own (%s).", [u.name, concat(", ", array.concat(arns, [sprintf("inline policy %s", [n]) | some n in names]))]),
	"evidence": {"path": sprintf("iam.users[%d]", [i]), "value": {"attached_policies": arns, "inline_policies": names}},
	"vars": {"policy_arns": arns, "inline_policy_names": names},
} if {
	some i, u in input.iam.users
	arns := sort({a.arn | some a in u.attached_policies})
	names := sort({p.name | some p in u.inline_policies})
	count(arns) + count(names) > 0
}
