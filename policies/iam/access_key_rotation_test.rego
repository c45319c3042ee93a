package coffer.iam.access_key_rotation_test

import data.coffer.iam.access_key_rotation
import rego.v1

build_input(now, users, report) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"iam": {"users": users, "credential_report": report},
	"coffer": {"now": now, "params": {"access_key_max_age_days": 90}},
}

user(name, keys) := {"name": name, "arn": sprintf("arn:aws:iam::123456789012:user/%s", [name]), "access_keys": keys}

key(id, status, created) := {"id": id, "status": status, "create_date": created}

test_fail_old_active_key if {
	inp := build_input("2026-11-27T08:00:00Z", [user("ci", [key("AKIAOLD", "Active", "2026-08-01T00:00:00Z"), key("AKIANEW", "Active", "2026-11-01T00:00:00Z")])], null)
	denies := access_key_rotation.deny with input as inp
	count(denies) == 1
	some d in denies
	d.vars.access_key_ids == ["AKIAOLD"]
	d.evidence.value[0].age_days == 118
}

test_pass_age_is_computed_from_coffer_now if {
	# 91 days old at the snapshot's time fails; the same key seen 89 days after creation passes,
	# whatever the wall clock says.
	keys := [key("AKIAK", "Active", "2026-01-01T00:00:00Z")]
	count(access_key_rotation.deny) == 1 with input as build_input("2026-04-02T00:00:00Z", [user("ci", keys)], null)
	count(access_key_rotation.deny) == 0 with input as build_input("2026-03-31T00:00:00Z", [user("ci", keys)], null)
}

test_pass_old_inactive_key if {
	inp := build_input("2026-11-27T08:00:00Z", [user("ci", [key("AKIAOLD", "Inactive", "2020-01-01T00:00:00Z")])], null)
	count(access_key_rotation.deny) == 0 with input as inp
	count(access_key_rotation.resources) == 0 with input as inp
}

test_fail_from_credential_report_when_keys_unreadable if {
	u := object.union(user("ci", []), {"access_keys": null})
	row := {"user": "ci", "access_key_1_active": true, "access_key_1_last_rotated": "2025-01-01T00:00:00Z"}
	denies := access_key_rotation.deny with input as build_input("2026-11-27T08:00:00Z", [u], [row])
	count(denies) == 1
	some d in denies
	d.vars.access_key_ids == []
}
