package coffer.s3.lifecycle_archive_test

import data.coffer.s3.lifecycle_archive as check
import rego.v1

build_input(buckets, roles) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": buckets},
	"coffer": {"roles": roles, "params": {"archive_classes": ["GLACIER", "DEEP_ARCHIVE"], "archive_after_days": 14}},
}

bucket(name, rules) := {"name": name, "arn": sprintf("arn:aws:s3:::%s", [name]), "region": "ap-southeast-7", "lifecycle": {"rules": rules}}

no_filter := {"prefix": "", "tags": null, "object_size_greater_than": 0, "object_size_less_than": 0}

# The workshop's rule (6.3): current versions to Glacier Flexible Retrieval after 14 days, entire bucket.
glacier_rule(days) := {
	"id": "MoveToGlacierAfter14Days",
	"status": "Enabled",
	"filter": no_filter,
	"transitions": [{"days": days, "storage_class": "GLACIER"}],
	"expiration": null,
	"noncurrent_transitions": [],
	"noncurrent_expiration": null,
	"abort_incomplete_multipart_upload_days": null,
}

primary(rules) := build_input([bucket("vault", rules)], {"vault": "primary"})

the_deny(inp) := d if {
	denies := check.deny with input as inp
	count(denies) == 1
	some d in denies
}

test_pass_workshop_rule if {
	count(check.deny) == 0 with input as primary([glacier_rule(14)])
	count(check.resources) == 1 with input as primary([glacier_rule(14)])
}

test_pass_deep_archive_day_zero if {
	rule := object.union(glacier_rule(0), {"transitions": [{"days": 0, "storage_class": "DEEP_ARCHIVE"}]})
	count(check.deny) == 0 with input as primary([rule])
}

test_pass_second_transition_is_the_archive if {
	rule := object.union(glacier_rule(0), {"transitions": [{"days": 0, "storage_class": "STANDARD_IA"}, {"days": 10, "storage_class": "GLACIER"}]})
	count(check.deny) == 0 with input as primary([rule])
}

test_pass_legacy_filter_null if {
	count(check.deny) == 0 with input as primary([object.union(glacier_rule(7), {"filter": null})])
}

test_fail_no_lifecycle if {
	d := the_deny(primary([]))
	d.msg == "Bucket vault has no enabled whole-bucket lifecycle rule moving current versions to DEEP_ARCHIVE or GLACIER within 14 days."
	d.evidence == {"path": "s3.buckets[0].lifecycle.rules", "value": []}
}

test_fail_disabled_rule_does_not_count if {
	d := the_deny(primary([object.union(glacier_rule(14), {"status": "Disabled"})]))
	contains(d.msg, `(rule "MoveToGlacierAfter14Days" is disabled)`)
}

test_fail_prefix_filtered_rule_does_not_count if {
	rule := object.union(glacier_rule(14), {"filter": object.union(no_filter, {"prefix": "docs/"})})
	d := the_deny(primary([rule]))
	contains(d.msg, `is limited to prefix "docs/"`)
}

test_fail_tag_filtered_rule_does_not_count if {
	rule := object.union(glacier_rule(14), {"filter": object.union(no_filter, {"tags": {"archive": "yes"}})})
	d := the_deny(primary([rule]))
	contains(d.msg, "is limited by object tags")
}

test_fail_size_filtered_rule_does_not_count if {
	rule := object.union(glacier_rule(14), {"filter": object.union(no_filter, {"object_size_greater_than": 131072})})
	d := the_deny(primary([rule]))
	contains(d.msg, "is limited by object size")
}

test_fail_too_late if {
	d := the_deny(primary([glacier_rule(30)]))
	contains(d.msg, "archives only after 30 days")
}

test_fail_wrong_class if {
	rule := object.union(glacier_rule(0), {"transitions": [{"days": 0, "storage_class": "STANDARD_IA"}]})
	d := the_deny(primary([rule]))
	not contains(d.msg, "(")
}

test_fail_date_transition_does_not_count if {
	rule := object.union(glacier_rule(0), {"transitions": [{"days": 0, "date": "2025-01-01T00:00:00Z", "storage_class": "GLACIER"}]})
	d := the_deny(primary([rule]))
	contains(d.msg, "transitions on a fixed date")
}

test_fail_archive_after_days_param if {
	inp := json.patch(primary([glacier_rule(14)]), [{"op": "replace", "path": "/coffer/params/archive_after_days", "value": 7}])
	d := the_deny(inp)
	contains(d.msg, "within 7 days")
}

test_pass_archive_classes_param if {
	rule := object.union(glacier_rule(0), {"transitions": [{"days": 0, "storage_class": "GLACIER_IR"}]})
	inp := json.patch(primary([rule]), [{"op": "replace", "path": "/coffer/params/archive_classes", "value": ["GLACIER_IR"]}])
	count(check.deny) == 0 with input as inp
}

test_pass_only_primary_buckets if {
	inp := build_input([bucket("dr", []), bucket("trail", []), bucket("scratch", [])], {"dr": "standby", "trail": "trail-logs", "scratch": "ignore"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	b := object.union(bucket("vault", []), {"lifecycle": null})
	count(check.deny) == 0 with input as build_input([b], {"vault": "primary"})
}
