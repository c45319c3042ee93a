package coffer.s3.lifecycle_hygiene_test

import data.coffer.s3.lifecycle_hygiene as check
import rego.v1

build_input(buckets, roles) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": buckets},
	"coffer": {"roles": roles, "params": {"abort_multipart_max_days": 7}},
}

bucket(name, rules) := {"name": name, "arn": sprintf("arn:aws:s3:::%s", [name]), "region": "us-east-1", "lifecycle": {"rules": rules}}

no_filter := {"prefix": "", "tags": null, "object_size_greater_than": 0, "object_size_less_than": 0}

rule(id, fields) := object.union(
	{
		"id": id, "status": "Enabled", "filter": no_filter, "transitions": [], "expiration": null,
		"noncurrent_transitions": [], "noncurrent_expiration": null, "abort_incomplete_multipart_upload_days": null,
	},
	fields,
)

expire_noncurrent := {"noncurrent_expiration": {"noncurrent_days": 90, "newer_noncurrent_versions": 0}}

archive_noncurrent := {"noncurrent_transitions": [{"noncurrent_days": 30, "newer_noncurrent_versions": 0, "storage_class": "DEEP_ARCHIVE"}]}

abort(days) := {"abort_incomplete_multipart_upload_days": days}

backup(rules) := build_input([bucket("vault", rules)], {"vault": "primary"})

the_deny(inp) := d if {
	denies := check.deny with input as inp
	count(denies) == 1
	some d in denies
}

test_pass_one_rule_does_both if {
	inp := backup([rule("tidy", object.union(expire_noncurrent, abort(7)))])
	count(check.deny) == 0 with input as inp
	count(check.resources) == 1 with input as inp
}

test_pass_two_rules if {
	count(check.deny) == 0 with input as backup([rule("old", archive_noncurrent), rule("mpu", abort(1))])
}

test_pass_standby_in_scope if {
	inp := build_input([bucket("dr", [rule("tidy", object.union(expire_noncurrent, abort(3)))])], {"dr": "standby"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 1 with input as inp
}

test_fail_no_lifecycle if {
	d := the_deny(backup([]))
	d.msg == "Bucket vault has no enabled whole-bucket lifecycle rule that transitions or expires noncurrent versions or that aborts incomplete multipart uploads within 7 days."
	d.evidence == {"path": "s3.buckets[0].lifecycle.rules", "value": []}
}

test_fail_noncurrent_missing if {
	d := the_deny(backup([rule("mpu", abort(7))]))
	contains(d.msg, "noncurrent versions")
	not contains(d.msg, "multipart")
}

test_fail_abort_missing if {
	d := the_deny(backup([rule("old", expire_noncurrent)]))
	contains(d.msg, "multipart")
	not contains(d.msg, "noncurrent")
}

test_fail_abort_too_late if {
	d := the_deny(backup([rule("tidy", object.union(expire_noncurrent, abort(30)))]))
	contains(d.msg, `(rule "tidy" aborts incomplete multipart uploads only after 30 days)`)
}

test_fail_disabled_rule_does_not_count if {
	d := the_deny(backup([rule("tidy", object.union(object.union(expire_noncurrent, abort(7)), {"status": "Disabled"}))]))
	contains(d.msg, `(rule "tidy" is disabled)`)
}

test_fail_prefix_filtered_rule_does_not_count if {
	r := rule("tidy", object.union(object.union(expire_noncurrent, abort(7)), {"filter": object.union(no_filter, {"prefix": "tmp/"})}))
	d := the_deny(backup([r]))
	contains(d.msg, `is limited to prefix "tmp/"`)
}

test_fail_tag_filtered_rule_does_not_count if {
	r := rule("tidy", object.union(expire_noncurrent, {"filter": object.union(no_filter, {"tags": {"k": "v"}})}))
	r2 := rule("mpu", abort(7))
	d := the_deny(backup([r, r2]))
	contains(d.msg, "noncurrent")
	contains(d.msg, "limited by object tags")
}

test_fail_abort_max_days_param if {
	inp := json.patch(backup([rule("tidy", object.union(expire_noncurrent, abort(7)))]), [{"op": "replace", "path": "/coffer/params/abort_multipart_max_days", "value": 3}])
	d := the_deny(inp)
	contains(d.msg, "within 3 days")
}

test_pass_not_a_backup_bucket if {
	inp := build_input([bucket("trail", []), bucket("scratch", [])], {"trail": "trail-logs", "scratch": "ignore"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	b := object.union(bucket("vault", []), {"lifecycle": null})
	count(check.deny) == 0 with input as build_input([b], {"vault": "primary"})
}
