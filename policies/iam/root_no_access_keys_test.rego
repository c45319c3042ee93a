package coffer.iam.root_no_access_keys_test

import data.coffer.iam.root_no_access_keys
import rego.v1

build_input(summary, report) := {
	"account": {"id": "123456789012", "partition": "aws", "home_region": "us-east-1", "summary": summary},
	"iam": {"credential_report": report},
}

root_row(k1, k2) := {"user": "<root_account>", "access_key_1_active": k1, "access_key_2_active": k2}

test_fail_summary_says_keys if {
	denies := root_no_access_keys.deny with input as build_input({"AccountAccessKeysPresent": 1}, null)
	count(denies) == 1
	some d in denies
	d.evidence.value == 1
}

test_fail_credential_report_says_keys if {
	denies := root_no_access_keys.deny with input as build_input({"AccountAccessKeysPresent": 0}, [root_row(false, true)])
	count(denies) == 1
	some d in denies
	d.evidence.path == "iam.credential_report[0]"
}

test_pass_no_keys if {
	inp := build_input({"AccountAccessKeysPresent": 0}, [root_row(false, false)])
	count(root_no_access_keys.deny) == 0 with input as inp
	count(root_no_access_keys.resources) == 1 with input as inp
}
