package coffer.s3.versioning_test

import data.coffer.s3.versioning
import rego.v1

build_input(buckets, roles) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": buckets},
	"coffer": {"roles": roles},
}

bucket(name, status) := {"name": name, "arn": sprintf("arn:aws:s3:::%s", [name]), "region": "us-east-1", "versioning": {"status": status, "mfa_delete": ""}}

test_fail_suspended if {
	denies := versioning.deny with input as build_input([bucket("vault", "Suspended")], {"vault": "primary"})
	count(denies) == 1
	some d in denies
	d.resource.name == "vault"
	d.evidence == {"path": "s3.buckets[0].versioning.status", "value": "Suspended"}
	contains(d.msg, "Suspended")
}

test_fail_never_enabled if {
	denies := versioning.deny with input as build_input([bucket("vault", "")], {"vault": "standby"})
	count(denies) == 1
	some d in denies
	contains(d.msg, "never enabled")
	d.resource.role == "standby"
}

test_fail_status_missing_counts_as_never_enabled if {
	b := object.union(bucket("vault", ""), {"versioning": {"mfa_delete": ""}})
	count(versioning.deny) == 1 with input as build_input([b], {"vault": "primary"})
}

test_pass_ignored_bucket_out_of_scope if {
	inp := build_input([bucket("scratch", "Suspended")], {"scratch": "ignore"})
	count(versioning.deny) == 0 with input as inp
	count(versioning.resources) == 0 with input as inp
}

test_pass_enabled if {
	count(versioning.deny) == 0 with input as build_input([bucket("vault", "Enabled")], {"vault": "primary"})
	count(versioning.resources) == 1 with input as build_input([bucket("vault", "Enabled")], {"vault": "primary"})
}

test_pass_not_a_backup_bucket if {
	inp := build_input([bucket("logs", "Suspended")], {"logs": "trail-logs"})
	count(versioning.deny) == 0 with input as inp
	count(versioning.resources) == 0 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	# A null versioning (the read failed) is not denied here: the engine reports ERROR from input.errors.
	b := object.union(bucket("vault", ""), {"versioning": null})
	count(versioning.deny) == 0 with input as build_input([b], {"vault": "primary"})
}

test_pass_resources_match_lib_resource if {
	buckets := [bucket(n, "Enabled") | some n in ["p", "s", "t", "a", "i", "untagged"]]
	inp := build_input(buckets, {"p": "primary", "s": "standby", "t": "trail-logs", "a": "access-logs", "i": "ignore"})
	want := {buckets[i].arn | some i in data.lib.resource.backup_buckets} with input as inp
	count(want) == 3
	versioning.resources == want with input as inp
}
