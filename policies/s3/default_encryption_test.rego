package coffer.s3.default_encryption_test

import data.coffer.s3.default_encryption as check
import rego.v1

build_input(buckets, roles) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": buckets},
	"coffer": {"roles": roles},
}

bucket(name, rules) := {"name": name, "arn": sprintf("arn:aws:s3:::%s", [name]), "region": "us-east-1", "encryption": {"rules": rules}}

rule(alg) := {"algorithm": alg, "kms_key_id": "", "bucket_key_enabled": false}

test_fail_no_rules if {
	denies := check.deny with input as build_input([bucket("vault", [])], {"vault": "primary"})
	count(denies) == 1
	some d in denies
	d.evidence == {"path": "s3.buckets[0].encryption.rules", "value": []}
	d.msg == "Bucket vault has no default encryption rule."
}

test_fail_null_rules if {
	count(check.deny) == 1 with input as build_input([bucket("vault", null)], {"vault": "primary"})
}

test_fail_unknown_algorithm if {
	count(check.deny) == 1 with input as build_input([bucket("vault", [rule("ROT13")])], {"vault": "primary"})
}

test_fail_access_logs_bucket_is_in_scope if {
	count(check.deny) == 1 with input as build_input([bucket("logs", [])], {"logs": "access-logs"})
}

test_pass_sse_s3 if {
	inp := build_input([bucket("vault", [rule("AES256")])], {"vault": "primary"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 1 with input as inp
}

test_pass_sse_kms if {
	count(check.deny) == 0 with input as build_input([bucket("vault", [rule("aws:kms")])], {"vault": "standby"})
}

test_pass_dsse_kms if {
	count(check.deny) == 0 with input as build_input([bucket("trail", [rule("aws:kms:dsse")])], {"trail": "trail-logs"})
}

test_pass_ignored_bucket_out_of_scope if {
	inp := build_input([bucket("scratch", [])], {"scratch": "ignore"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	b := object.union(bucket("vault", []), {"encryption": null})
	count(check.deny) == 0 with input as build_input([b], {"vault": "primary"})
}
