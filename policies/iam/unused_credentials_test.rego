package coffer.iam.unused_credentials_test

import data.coffer.iam.unused_credentials
import rego.v1

now := "2026-11-27T08:00:00Z"

build_input(users) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"iam": {"users": users, "credential_report": []},
	"coffer": {"now": now, "params": {"unused_credentials_days": 45}},
}

user(name, fields) := object.union(
	{
		"name": name, "arn": sprintf("arn:aws:iam::123456789012:user/%s", [name]),
		"create_date": "2025-01-01T00:00:00Z", "password_enabled": false, "access_keys": [],
	},
	fields,
)

test_fail_key_not_used_recently if {
	k := {"id": "AKIASTALE", "status": "Active", "create_date": "2025-01-01T00:00:00Z", "last_used_date": "2026-09-01T00:00:00Z"}
	denies := unused_credentials.deny with input as build_input([user("ci", {"access_keys": [k]})])
	count(denies) == 1
	some d in denies
	d.vars == {"access_key_ids": ["AKIASTALE"], "password_unused": false}
}

test_fail_never_used_key_counts_from_creation if {
	k := {"id": "AKIANEVER", "status": "Active", "create_date": "2026-09-01T00:00:00Z"}
	count(unused_credentials.deny) == 1 with input as build_input([user("ci", {"access_keys": [k]})])
}

test_pass_never_used_key_created_recently if {
	k := {"id": "AKIANEW", "status": "Active", "create_date": "2026-11-20T00:00:00Z"}
	count(unused_credentials.deny) == 0 with input as build_input([user("ci", {"access_keys": [k]})])
}

test_fail_password_never_used_counts_from_user_creation if {
	denies := unused_credentials.deny with input as build_input([user("alice", {"password_enabled": true})])
	count(denies) == 1
	some d in denies
	d.vars == {"access_key_ids": [], "password_unused": true}
}

test_pass_recent_sign_in if {
	inp := build_input([user("alice", {"password_enabled": true, "password_last_used": "2026-11-26T00:00:00Z"})])
	count(unused_credentials.deny) == 0 with input as inp
	count(unused_credentials.resources) == 1 with input as inp
}

test_pass_inactive_key_is_not_a_credential if {
	k := {"id": "AKIAOFF", "status": "Inactive", "create_date": "2020-01-01T00:00:00Z"}
	inp := build_input([user("ci", {"access_keys": [k]})])
	count(unused_credentials.deny) == 0 with input as inp
	count(unused_credentials.resources) == 0 with input as inp
}
