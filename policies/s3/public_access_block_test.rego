package coffer.s3.public_access_block_test

import data.coffer.s3.public_access_block as check
import rego.v1

all_on := {"block_public_acls": true, "ignore_public_acls": true, "block_public_policy": true, "restrict_public_buckets": true}

build_input(buckets, roles) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": buckets},
	"coffer": {"roles": roles},
}

bucket(name, pab) := {"name": name, "arn": sprintf("arn:aws:s3:::%s", [name]), "region": "eu-west-1", "public_access_block": pab}

test_fail_flag_off if {
	denies := check.deny with input as build_input(
		[bucket("vault", all_on), bucket("vault-dr", object.union(all_on, {"ignore_public_acls": false}))],
		{"vault": "primary", "vault-dr": "standby"},
	)
	count(denies) == 1
	some d in denies
	d.resource.name == "vault-dr"
	d.resource.role == "standby"
	d.evidence.path == "s3.buckets[1].public_access_block"
	contains(d.msg, "ignore_public_acls")
}

test_fail_trail_logs_bucket_is_in_scope if {
	inp := build_input([bucket("trail", {})], {"trail": "trail-logs"})
	count(check.deny) == 1 with input as inp
	count(check.resources) == 1 with input as inp
}

test_fail_access_logs_bucket_is_in_scope if {
	count(check.deny) == 1 with input as build_input([bucket("logs", {})], {"logs": "access-logs"})
}

test_fail_bucket_without_role_is_primary if {
	some d in check.deny with input as build_input([bucket("untagged", {})], {})
	d.resource.role == "primary"
}

test_pass_all_on if {
	inp := build_input([bucket("vault", all_on)], {"vault": "primary"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 1 with input as inp
}

test_pass_ignored_bucket_out_of_scope if {
	inp := build_input([bucket("scratch", {})], {"scratch": "ignore"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	count(check.deny) == 0 with input as build_input([bucket("vault", null)], {"vault": "primary"})
}

all_roles := {"p": "primary", "s": "standby", "t": "trail-logs", "a": "access-logs", "i": "ignore"}

test_pass_resources_match_lib_resource if {
	# Resources are bucket ARNs, for every role but ignore; a bucket without a role is primary.
	buckets := [bucket(n, all_on) | some n in ["p", "s", "t", "a", "i", "untagged"]]
	inp := build_input(buckets, all_roles)
	want := {b.arn | some b in buckets; data.lib.resource.role(b) != "ignore"} with input as inp
	count(want) == 5
	check.resources == want with input as inp
}
