# METADATA
# title: The account password policy is strong
# description: >-
#   Console passwords must be at least password_min_length (14) characters long and must not reuse
#   any of the last password_reuse_prevention (24) passwords. An account without a password policy
#   fails.
# custom:
#   id: iam-password-policy
#   severity: LOW
#   service: iam
#   resource_type: AWS::::Account
#   applies_to: account
#   requires: ["iam:GetAccountPasswordPolicy"]
#   frameworks:
#     cis-aws-3.0.0: ["1.8", "1.9"]
#     aws-fsbp: ["IAM.7", "IAM.15", "IAM.16"]
#     workshop: ["6.1"]
#   remediation:
#     summary: >-
#       Set the password policy to the required length and reuse prevention, keeping any stricter
#       setting already in place.
#     fix: auto
#     commands:
#       - aws iam update-account-password-policy {{passwordPolicyArgs .Snapshot.Account.PasswordPolicy .Params}}
package coffer.iam.password_policy

import data.lib.resource
import rego.v1

params := input.coffer.params

resources contains resource.account if input.account.id

deny contains {
	"resource": resource.account,
	"msg": sprintf("Account %s has no IAM password policy.", [resource.account_id]),
	"evidence": {"path": "account.password_policy.exists", "value": false},
} if input.account.password_policy.exists == false

deny contains {
	"resource": resource.account,
	"msg": sprintf("The password policy of account %s is weak: %s.", [resource.account_id, concat(" and ", problems)]),
	"evidence": {"path": "account.password_policy", "value": {
		"minimum_password_length": object.get(pp, "minimum_password_length", 0),
		"password_reuse_prevention": object.get(pp, "password_reuse_prevention", 0),
	}},
} if {
	pp := input.account.password_policy
	pp.exists == true
	problems := array.concat(
		[sprintf("minimum length %d is below %d", [len, params.password_min_length]) |
			len := object.get(pp, "minimum_password_length", 0)
			len < params.password_min_length
		],
		[sprintf("reuse prevention %d is below %d", [reuse, params.password_reuse_prevention]) |
			reuse := object.get(pp, "password_reuse_prevention", 0)
			reuse < params.password_reuse_prevention
		],
	)
	count(problems) > 0
}
