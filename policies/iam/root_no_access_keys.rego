# METADATA
# title: The root user has no access keys
# description: >-
#   Root access keys give unrestricted, MFA-less programmatic access to the whole account and cannot
#   be limited by any policy. Read from the account summary (AccountAccessKeysPresent) and, when
#   present, the root row of the credential report.
# custom:
#   id: iam-root-no-access-keys
#   severity: CRITICAL
#   service: iam
#   resource_type: AWS::::Account
#   applies_to: account
#   requires: ["iam:GetAccountSummary"]
#   frameworks:
#     cis-aws-3.0.0: ["1.4"]
#     aws-fsbp: ["IAM.4"]
#     workshop: ["6.1"]
#   remediation:
#     summary: >-
#       Signed in as the root user, list the root access keys and delete each one (after moving
#       whatever used it to an IAM role); then confirm the summary prints 0.
#     fix: manual
#     commands:
#       - aws iam list-access-keys --query 'AccessKeyMetadata[].AccessKeyId' --output text
#       - aws iam delete-access-key --access-key-id '<ROOT_ACCESS_KEY_ID>'
#       - aws iam get-account-summary --query SummaryMap.AccountAccessKeysPresent --output text
package coffer.iam.root_no_access_keys

import data.lib.resource
import rego.v1

resources contains resource.account if input.account.id

deny contains {
	"resource": resource.account,
	"msg": sprintf("The root user of account %s has access keys.", [resource.account_id]),
	"evidence": evidence,
}

evidence := {"path": "account.summary.AccountAccessKeysPresent", "value": v} if {
	v := input.account.summary.AccountAccessKeysPresent
	v > 0
} else := {"path": sprintf("iam.credential_report[%d]", [j]), "value": {
	"access_key_1_active": object.get(row, "access_key_1_active", false),
	"access_key_2_active": object.get(row, "access_key_2_active", false),
}} if {
	some j, row in input.iam.credential_report
	row.user == "<root_account>"
	active_key(row)
}

active_key(row) if row.access_key_1_active == true

active_key(row) if row.access_key_2_active == true
