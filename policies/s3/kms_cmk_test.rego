package coffer.s3.kms_cmk_test

import data.coffer.s3.kms_cmk as check
import rego.v1

cmk_arn := "arn:aws:kms:eu-west-1:123456789012:key/1111aaaa-1111-1111-1111-111111111111"

keys := [
	{
		"id": "1111aaaa-1111-1111-1111-111111111111", "arn": cmk_arn, "region": "eu-west-1",
		"state": "Enabled", "manager": "CUSTOMER", "aliases": ["alias/backup"],
	},
	{
		"id": "2222bbbb-2222-2222-2222-222222222222", "arn": "arn:aws:kms:eu-west-1:123456789012:key/2222bbbb-2222-2222-2222-222222222222",
		"region": "eu-west-1", "state": "Enabled", "manager": "AWS", "aliases": ["alias/aws/s3"],
	},
	{
		"id": "3333cccc-3333-3333-3333-333333333333", "arn": "arn:aws:kms:eu-west-1:123456789012:key/3333cccc-3333-3333-3333-333333333333",
		"region": "eu-west-1", "state": "PendingDeletion", "manager": "CUSTOMER",
		"aliases": ["arn:aws:kms:eu-west-1:123456789012:alias/old"],
	},
]

build_input(buckets, roles) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"regions": ["eu-west-1", "us-east-1"],
	"s3": {"buckets": buckets},
	"kms": {"keys": keys},
	"coffer": {"roles": roles, "params": {"cmk_required_for": ["standby"]}},
}

bucket(name, rules) := {"name": name, "arn": sprintf("arn:aws:s3:::%s", [name]), "region": "eu-west-1", "encryption": {"rules": rules}}

kms(key, bucket_key) := {"algorithm": "aws:kms", "kms_key_id": key, "bucket_key_enabled": bucket_key}

standby(rules) := build_input([bucket("vault-dr", rules)], {"vault-dr": "standby"})

the_deny(inp) := d if {
	denies := check.deny with input as inp
	count(denies) == 1
	some d in denies
}

test_pass_cmk_by_arn_with_bucket_key if {
	inp := standby([kms(cmk_arn, true)])
	count(check.deny) == 0 with input as inp
	count(check.resources) == 1 with input as inp
}

test_pass_cmk_by_alias_name if {
	count(check.deny) == 0 with input as standby([kms("alias/backup", true)])
}

test_pass_cmk_by_alias_arn if {
	count(check.deny) == 0 with input as standby([kms("arn:aws:kms:eu-west-1:123456789012:alias/backup", true)])
}

test_pass_cmk_by_key_id if {
	count(check.deny) == 0 with input as standby([kms("1111aaaa-1111-1111-1111-111111111111", true)])
}

test_pass_dsse_needs_no_bucket_key if {
	rule := {"algorithm": "aws:kms:dsse", "kms_key_id": cmk_arn, "bucket_key_enabled": false}
	count(check.deny) == 0 with input as standby([rule])
}

test_pass_primary_not_required_by_default if {
	inp := build_input([bucket("vault", [{"algorithm": "AES256"}])], {"vault": "primary"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_fail_primary_when_configured if {
	inp := json.patch(
		build_input([bucket("vault", [{"algorithm": "AES256"}])], {"vault": "primary"}),
		[{"op": "replace", "path": "/coffer/params/cmk_required_for", "value": ["primary", "standby"]}],
	)
	d := the_deny(inp)
	d.resource.role == "primary"
}

test_fail_sse_s3 if {
	d := the_deny(standby([{"algorithm": "AES256", "kms_key_id": "", "bucket_key_enabled": false}]))
	contains(d.msg, "not encrypted with SSE-KMS")
	contains(d.msg, "AES256")
	d.evidence.path == "s3.buckets[0].encryption.rules"
}

test_fail_no_encryption_rule if {
	d := the_deny(standby([]))
	contains(d.msg, "(algorithms: none)")
}

test_fail_default_aws_s3_key if {
	d := the_deny(standby([kms("", true)]))
	contains(d.msg, "AWS managed key aws/s3")
	d.evidence == {"path": "s3.buckets[0].encryption.rules[0].kms_key_id", "value": ""}
}

test_fail_aws_s3_alias if {
	d := the_deny(standby([kms("alias/aws/s3", true)]))
	contains(d.msg, "AWS managed key alias/aws/s3")
}

test_fail_aws_managed_key_by_id if {
	d := the_deny(standby([kms("2222bbbb-2222-2222-2222-222222222222", true)]))
	contains(d.msg, "AWS managed key")
	d.evidence == {"path": "kms.keys[1].manager", "value": "AWS"}
}

test_fail_key_in_uncollected_region if {
	ref := "arn:aws:kms:ap-southeast-7:123456789012:key/4444dddd-4444-4444-4444-444444444444"
	d := the_deny(standby([kms(ref, true)]))
	contains(d.msg, "not in the snapshot")
	contains(d.msg, "region ap-southeast-7 was not collected")
}

test_fail_key_in_other_account if {
	ref := "arn:aws:kms:eu-west-1:999999999999:key/4444dddd-4444-4444-4444-444444444444"
	d := the_deny(standby([kms(ref, true)]))
	contains(d.msg, "account 999999999999")
}

test_fail_unknown_alias if {
	d := the_deny(standby([kms("alias/nope", true)]))
	contains(d.msg, "no such key or alias was found there")
}

test_fail_key_pending_deletion if {
	d := the_deny(standby([kms("alias/old", true)]))
	contains(d.msg, "PendingDeletion")
	d.evidence == {"path": "kms.keys[2].state", "value": "PendingDeletion"}
}

test_fail_bucket_key_off if {
	d := the_deny(standby([kms(cmk_arn, false)]))
	contains(d.msg, "without an S3 Bucket Key")
	d.evidence == {"path": "s3.buckets[0].encryption.rules[0].bucket_key_enabled", "value": false}
}

test_pass_ignored_bucket_out_of_scope if {
	inp := build_input([bucket("scratch", [])], {"scratch": "ignore"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	b := object.union(bucket("vault-dr", []), {"encryption": null})
	count(check.deny) == 0 with input as build_input([b], {"vault-dr": "standby"})
}
