package coffer.kms.key_in_use_healthy_test

import data.coffer.kms.key_in_use_healthy
import rego.v1

key_arn := "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

build_input(key_fields, bucket_key, trail_key) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": [{
		"name": "vault", "arn": "arn:aws:s3:::vault", "region": "us-east-1",
		"encryption": {"rules": [{"algorithm": "aws:kms", "kms_key_id": bucket_key, "bucket_key_enabled": true}]},
	}]},
	"coffer": {"roles": {"vault": "standby"}},
	"kms": {"keys": [object.union(
		{
			"id": "1234abcd-12ab-34cd-56ef-1234567890ab", "arn": key_arn, "region": "us-east-1",
			"state": "Enabled", "manager": "CUSTOMER", "aliases": ["alias/backup"],
		},
		key_fields,
	)]},
	"cloudtrail": {"trails": [{"name": "main", "arn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main", "home_region": "us-east-1", "kms_key_id": trail_key}]},
	"errors": [],
}

test_fail_pending_deletion_by_key_arn if {
	inp := build_input({"state": "PendingDeletion", "deletion_date": "2026-12-04T00:00:00Z"}, key_arn, "")
	denies := key_in_use_healthy.deny with input as inp
	count(denies) == 1
	some d in denies
	d.vars == {"state": "PendingDeletion", "referenced_by": ["bucket vault"]}
	contains(d.msg, "deletion on 2026-12-04")
}

test_fail_disabled_by_alias_name_and_alias_arn if {
	inp := build_input({"state": "Disabled"}, "alias/backup", "arn:aws:kms:us-east-1:123456789012:alias/backup")
	denies := key_in_use_healthy.deny with input as inp
	count(denies) == 1
	some d in denies
	d.vars.referenced_by == ["bucket vault", "trail main"]
}

test_fail_disabled_by_key_id if {
	count(key_in_use_healthy.deny) == 1 with input as build_input({"state": "Disabled"}, "1234abcd-12ab-34cd-56ef-1234567890ab", "")
}

test_fail_missing_key_is_named if {
	inp := build_input({}, "alias/gone", "")
	denies := key_in_use_healthy.deny with input as inp
	count(denies) == 1
	some d in denies
	d.vars.state == "Missing"
	d.resource.name == "alias/gone"
	d.resource.arn == "arn:aws:kms:us-east-1:123456789012:alias/gone"
	contains(d.msg, "alias/gone")
	contains(d.msg, "bucket vault")
}

test_pass_missing_key_when_listing_failed_is_left_to_errors if {
	inp := object.union(build_input({}, "alias/gone", ""), {"errors": [{"service": "kms", "operation": "ListAliases", "region": "us-east-1", "code": "AccessDenied"}]})
	count(key_in_use_healthy.deny) == 0 with input as inp
}

test_pass_enabled_key if {
	inp := build_input({}, "alias/backup", key_arn)
	count(key_in_use_healthy.deny) == 0 with input as inp
	count(key_in_use_healthy.resources) == 1 with input as inp
}

test_pass_key_of_non_backup_bucket_out_of_scope if {
	inp := object.union(build_input({"state": "Disabled"}, key_arn, ""), {"coffer": {"roles": {"vault": "ignore"}}})
	count(key_in_use_healthy.deny) == 0 with input as inp
	count(key_in_use_healthy.resources) == 0 with input as inp
}

test_pass_key_in_another_region_does_not_match_bare_id if {
	# A bare key id resolves in the bucket's region only.
	inp := build_input({"region": "eu-west-1", "arn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "state": "Disabled"}, "1234abcd-12ab-34cd-56ef-1234567890ab", "")
	denies := key_in_use_healthy.deny with input as inp
	count(denies) == 1
	some d in denies
	d.vars.state == "Missing"
}
