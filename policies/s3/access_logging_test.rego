package coffer.s3.access_logging_test

import data.coffer.s3.access_logging as check
import rego.v1

build_input(buckets, roles) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": buckets},
	"coffer": {"roles": roles},
}

bucket(name, logging) := {"name": name, "arn": sprintf("arn:aws:s3:::%s", [name]), "region": "us-east-1", "logging": logging}

logs_to(target) := {"enabled": true, "target_bucket": target, "target_prefix": "x/"}

off := {"enabled": false, "target_bucket": "", "target_prefix": ""}

the_deny(inp) := d if {
	denies := check.deny with input as inp
	count(denies) == 1
	some d in denies
}

test_pass_logs_to_log_bucket if {
	inp := build_input([bucket("vault", logs_to("access-logs")), bucket("access-logs", off)], {"vault": "primary", "access-logs": "access-logs"})
	count(check.deny) == 0 with input as inp

	# The access-logs bucket itself is not in scope (it would have to log to yet another bucket).
	check.resources == {"arn:aws:s3:::vault"} with input as inp
}

test_fail_off if {
	d := the_deny(build_input([bucket("vault", off)], {"vault": "primary"}))
	d.msg == "Bucket vault does not have server access logging enabled."
	d.evidence == {"path": "s3.buckets[0].logging.enabled", "value": false}
}

test_fail_self_target if {
	d := the_deny(build_input([bucket("vault-dr", logs_to("vault-dr"))], {"vault-dr": "standby"}))
	contains(d.msg, "to itself")
	d.evidence == {"path": "s3.buckets[0].logging.target_bucket", "value": "vault-dr"}
}

test_fail_enabled_without_target if {
	d := the_deny(build_input([bucket("vault", logs_to(""))], {"vault": "primary"}))
	contains(d.msg, "without a target bucket")
}

test_fail_trail_logs_bucket_in_scope if {
	d := the_deny(build_input([bucket("trail", off)], {"trail": "trail-logs"}))
	d.resource.role == "trail-logs"
}

test_pass_other_roles_out_of_scope if {
	inp := build_input([bucket("logs", off), bucket("scratch", off)], {"logs": "access-logs", "scratch": "ignore"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	count(check.deny) == 0 with input as build_input([bucket("vault", null)], {"vault": "primary"})
}
