package coffer.s3.account_public_access_block_test

import data.coffer.s3.account_public_access_block as check
import rego.v1

all_on := {"block_public_acls": true, "ignore_public_acls": true, "block_public_policy": true, "restrict_public_buckets": true}

build_input(pab) := {
	"account": {"id": "123456789012", "partition": "aws", "home_region": "us-east-1", "public_access_block": pab},
	"s3": {"buckets": []},
	"coffer": {"roles": {}},
}

test_fail_one_flag_off if {
	denies := check.deny with input as build_input(object.union(all_on, {"restrict_public_buckets": false}))
	count(denies) == 1
	some d in denies
	d.resource.type == "AWS::::Account"
	d.resource.arn == "arn:aws:iam::123456789012:root"
	contains(d.msg, "restrict_public_buckets")
	not contains(d.msg, "block_public_acls")
	d.evidence.path == "account.public_access_block"
}

test_fail_not_configured if {
	# AWS answered "no configuration": the collector gives all four flags false.
	none := {"block_public_acls": false, "ignore_public_acls": false, "block_public_policy": false, "restrict_public_buckets": false}
	some d in check.deny with input as build_input(none)
	contains(d.msg, "block_public_acls, ignore_public_acls, block_public_policy, restrict_public_buckets")
}

test_pass_all_on if {
	count(check.deny) == 0 with input as build_input(all_on)
	count(check.resources) == 1 with input as build_input(all_on)
}

test_pass_unreadable_is_left_to_errors if {
	count(check.deny) == 0 with input as build_input(null)
}
