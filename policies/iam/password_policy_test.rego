package coffer.iam.password_policy_test

import data.coffer.iam.password_policy
import rego.v1

build_input(pp) := {
	"account": {"id": "123456789012", "partition": "aws", "password_policy": pp},
	"coffer": {"params": {"password_min_length": 14, "password_reuse_prevention": 24}},
}

policy(len, reuse) := {"exists": true, "minimum_password_length": len, "password_reuse_prevention": reuse}

test_fail_no_policy if {
	denies := password_policy.deny with input as build_input({"exists": false})
	count(denies) == 1
	some d in denies
	d.evidence.path == "account.password_policy.exists"
}

test_fail_short_passwords if {
	denies := password_policy.deny with input as build_input(policy(8, 24))
	count(denies) == 1
	some d in denies
	contains(d.msg, "minimum length 8 is below 14")
	not contains(d.msg, "reuse")
}

test_fail_reuse_allowed if {
	denies := password_policy.deny with input as build_input(policy(14, 0))
	count(denies) == 1
	some d in denies
	contains(d.msg, "reuse prevention 0 is below 24")
}

test_pass_strong_policy if {
	inp := build_input(policy(16, 24))
	count(password_policy.deny) == 0 with input as inp
	count(password_policy.resources) == 1 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	count(password_policy.deny) == 0 with input as build_input(null)
}
