# METADATA
# title: The root user has MFA
# description: >-
#   The root user can do anything in the account, including deleting every backup and closing the
#   account; a password alone must not be enough to sign in as root. Read from the account summary
#   (AccountMFAEnabled) and, when present, the root row of the credential report; either one saying
#   MFA is off fails.
# custom:
#   id: iam-root-mfa
#   severity: CRITICAL
#   service: iam
#   resource_type: AWS::::Account
#   applies_to: account
#   requires: ["iam:GetAccountSummary"]
#   frameworks:
#     cis-aws-3.0.0: ["1.5"]
#     aws-fsbp: ["IAM.9"]
#     workshop: ["6.1"]
#   remediation:
#     summary: >-
#       Sign in to the console as the root user and assign an MFA device (preferably a hardware key)
#       under Security credentials; then confirm with the command below (it prints 1).
#     fix: manual
#     commands:
#       - aws iam get-account-summary --query SummaryMap.AccountMFAEnabled --output text
package coffer.iam.root_mfa

import data.lib.resource
import rego.v1

resources contains resource.account if input.account.id

# root_row is the credential report row of the root user, when the report has one.
root_row := row if {
	some row in input.iam.credential_report
	row.user == "<root_account>"
}

deny contains {
	"resource": resource.account,
	"msg": sprintf("The root user of account %s has no MFA device.", [resource.account_id]),
	"evidence": evidence,
}

evidence := {"path": "account.summary.AccountMFAEnabled", "value": v} if {
	v := input.account.summary.AccountMFAEnabled
	v != 1
} else := {"path": sprintf("iam.credential_report[%d].mfa_active", [j]), "value": false} if {
	some j, row in input.iam.credential_report
	row.user == "<root_account>"
	row.mfa_active == false
}
