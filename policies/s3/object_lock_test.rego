package coffer.s3.object_lock_test

import data.coffer.s3.object_lock as check
import rego.v1

build_input(buckets, roles) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": buckets},
	"coffer": {"roles": roles, "params": {"object_lock_min_days": 30}},
}

bucket(name, ol) := {"name": name, "arn": sprintf("arn:aws:s3:::%s", [name]), "region": "us-east-1", "object_lock": ol}

locked(mode, days, years) := {"enabled": true, "default_retention": {"mode": mode, "days": days, "years": years}}

test_fail_not_enabled if {
	denies := check.deny with input as build_input([bucket("vault", {"enabled": false, "default_retention": null})], {"vault": "primary"})
	count(denies) == 1
	some d in denies
	d.evidence == {"path": "s3.buckets[0].object_lock.enabled", "value": false}
	contains(d.msg, "does not have Object Lock enabled")
}

test_fail_no_default_retention if {
	some d in check.deny with input as build_input([bucket("vault", {"enabled": true, "default_retention": null})], {"vault": "standby"})
	contains(d.msg, "no default retention")
	d.evidence.path == "s3.buckets[0].object_lock.default_retention"
}

test_fail_retention_too_short if {
	some d in check.deny with input as build_input([bucket("vault", locked("GOVERNANCE", 7, 0))], {"vault": "primary"})
	contains(d.msg, "7 days")
	contains(d.msg, "required 30")
}

test_fail_min_days_param if {
	inp := json.patch(build_input([bucket("vault", locked("COMPLIANCE", 30, 0))], {"vault": "primary"}), [{"op": "replace", "path": "/coffer/params/object_lock_min_days", "value": 90}])
	count(check.deny) == 1 with input as inp
}

test_pass_days_at_minimum if {
	inp := build_input([bucket("vault", locked("GOVERNANCE", 30, 0))], {"vault": "primary"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 1 with input as inp
}

test_pass_years_count_as_365_days if {
	count(check.deny) == 0 with input as build_input([bucket("vault", locked("COMPLIANCE", 0, 1))], {"vault": "primary"})
}

test_fail_default_min_days_without_params if {
	inp := json.patch(build_input([bucket("vault", locked("GOVERNANCE", 29, 0))], {"vault": "primary"}), [{"op": "remove", "path": "/coffer/params"}])
	count(check.deny) == 1 with input as inp
}

test_pass_not_a_backup_bucket if {
	inp := build_input([bucket("trail", {"enabled": false}), bucket("scratch", {"enabled": false})], {"trail": "trail-logs", "scratch": "ignore"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	count(check.deny) == 0 with input as build_input([bucket("vault", null)], {"vault": "primary"})
}
