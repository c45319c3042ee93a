package coffer.iam.user_mfa_test

import data.coffer.iam.user_mfa
import rego.v1

build_input(users, report, virtual) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"iam": {"users": users, "credential_report": report, "virtual_mfa_devices": virtual},
}

user(name, password, keys, mfa) := {
	"name": name, "arn": sprintf("arn:aws:iam::123456789012:user/%s", [name]),
	"password_enabled": password, "access_keys": keys, "mfa_devices": mfa,
}

active_key := {"id": "AKIAEXAMPLE1", "status": "Active"}

inactive_key := {"id": "AKIAEXAMPLE2", "status": "Inactive"}

test_fail_console_user_without_mfa if {
	denies := user_mfa.deny with input as build_input([user("alice", true, [], [])], [], [])
	count(denies) == 1
	some d in denies
	d.resource.name == "alice"
	contains(d.msg, "console password")
}

test_fail_key_user_without_mfa if {
	denies := user_mfa.deny with input as build_input([user("ci", false, [active_key], [])], [], [])
	count(denies) == 1
	some d in denies
	contains(d.msg, "active access key")
}

test_pass_user_with_mfa_device if {
	count(user_mfa.deny) == 0 with input as build_input([user("alice", true, [active_key], ["arn:aws:iam::123456789012:mfa/alice"])], [], [])
}

test_pass_mfa_from_credential_report if {
	inp := build_input([user("alice", true, [], [])], [{"user": "alice", "mfa_active": true}], [])
	count(user_mfa.deny) == 0 with input as inp
}

test_pass_virtual_mfa_assigned if {
	inp := build_input([user("alice", true, [], [])], [], [{"serial_number": "arn:aws:iam::123456789012:mfa/alice", "user": "alice"}])
	count(user_mfa.deny) == 0 with input as inp
}

test_pass_user_without_credentials_out_of_scope if {
	inp := build_input([user("svc", false, [inactive_key], [])], [], [])
	count(user_mfa.deny) == 0 with input as inp
	count(user_mfa.resources) == 0 with input as inp
}
