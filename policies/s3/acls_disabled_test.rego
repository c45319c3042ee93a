package coffer.s3.acls_disabled_test

import data.coffer.s3.acls_disabled as check
import rego.v1

build_input(buckets, roles) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": buckets},
	"coffer": {"roles": roles},
}

bucket(name, ownership) := {"name": name, "arn": sprintf("arn:aws:s3:::%s", [name]), "region": "us-east-1", "ownership": ownership}

test_fail_object_writer if {
	denies := check.deny with input as build_input([bucket("vault", {"object_ownership": "ObjectWriter"})], {"vault": "primary"})
	count(denies) == 1
	some d in denies
	d.evidence == {"path": "s3.buckets[0].ownership.object_ownership", "value": "ObjectWriter"}
	contains(d.msg, "vault")
}

test_fail_bucket_owner_preferred if {
	count(check.deny) == 1 with input as build_input([bucket("vault", {"object_ownership": "BucketOwnerPreferred"})], {"vault": "standby"})
}

test_fail_no_ownership_controls if {
	some d in check.deny with input as build_input([bucket("vault", {"object_ownership": ""})], {"vault": "primary"})
	contains(d.msg, "not set")
}

test_fail_trail_logs_bucket_is_in_scope if {
	count(check.deny) == 1 with input as build_input([bucket("trail", {"object_ownership": "ObjectWriter"})], {"trail": "trail-logs"})
}

test_pass_enforced if {
	inp := build_input([bucket("vault", {"object_ownership": "BucketOwnerEnforced"})], {"vault": "primary"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 1 with input as inp
}

test_pass_ignored_bucket_out_of_scope if {
	inp := build_input([bucket("scratch", {"object_ownership": "ObjectWriter"})], {"scratch": "ignore"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	count(check.deny) == 0 with input as build_input([bucket("vault", null)], {"vault": "primary"})
}
