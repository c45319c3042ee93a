package coffer.iam.root_mfa_test

import data.coffer.iam.root_mfa
import rego.v1

build_input(summary, report) := {
	"account": {"id": "123456789012", "partition": "aws", "home_region": "us-east-1", "summary": summary},
	"iam": {"credential_report": report},
}

root_row(mfa) := {"user": "<root_account>", "arn": "arn:aws:iam::123456789012:root", "mfa_active": mfa}

test_fail_summary_says_no_mfa if {
	denies := root_mfa.deny with input as build_input({"AccountMFAEnabled": 0}, null)
	count(denies) == 1
	some d in denies
	d.resource.type == "AWS::::Account"
	d.evidence == {"path": "account.summary.AccountMFAEnabled", "value": 0}
}

test_fail_credential_report_says_no_mfa if {
	denies := root_mfa.deny with input as build_input({"AccountMFAEnabled": 1}, [root_row(false)])
	count(denies) == 1
	some d in denies
	d.evidence.path == "iam.credential_report[0].mfa_active"
}

test_pass_mfa_enabled if {
	inp := build_input({"AccountMFAEnabled": 1}, [root_row(true)])
	count(root_mfa.deny) == 0 with input as inp
	count(root_mfa.resources) == 1 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	count(root_mfa.deny) == 0 with input as build_input(null, null)
}
