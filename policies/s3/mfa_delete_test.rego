package coffer.s3.mfa_delete_test

import data.coffer.s3.mfa_delete as check
import rego.v1

build_input(buckets, roles) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": buckets},
	"coffer": {"roles": roles},
}

bucket(name, mfa_delete, rules) := {
	"name": name, "arn": sprintf("arn:aws:s3:::%s", [name]), "region": "us-east-1",
	"versioning": {"status": "Enabled", "mfa_delete": mfa_delete},
	"lifecycle": {"rules": rules},
}

glacier := {"id": "glacier", "status": "Enabled", "filter": {"prefix": ""}, "transitions": [{"days": 14, "storage_class": "GLACIER"}]}

test_fail_disabled_without_lifecycle if {
	denies := check.deny with input as build_input([bucket("vault", "Disabled", [])], {"vault": "primary"})
	count(denies) == 1
	some d in denies
	d.msg == "Bucket vault does not have MFA Delete enabled."
	d.evidence == {"path": "s3.buckets[0].versioning.mfa_delete", "value": "Disabled"}
}

test_fail_never_set if {
	count(check.deny) == 1 with input as build_input([bucket("vault-dr", "", null)], {"vault-dr": "standby"})
}

test_pass_enabled if {
	inp := build_input([bucket("vault", "Enabled", [])], {"vault": "primary"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 1 with input as inp
}

test_pass_not_applicable_with_lifecycle if {
	# S3 forbids MFA Delete together with a lifecycle configuration: in scope, not denied = PASS.
	inp := build_input([bucket("vault", "Disabled", [glacier])], {"vault": "primary"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 1 with input as inp
}

test_pass_not_applicable_with_disabled_lifecycle_rule if {
	# A disabled rule is still a lifecycle configuration, which S3 will not combine with MFA Delete.
	rule := object.union(glacier, {"status": "Disabled"})
	count(check.deny) == 0 with input as build_input([bucket("vault", "Disabled", [rule])], {"vault": "primary"})
}

test_pass_not_a_backup_bucket if {
	inp := build_input([bucket("trail", "Disabled", []), bucket("scratch", "Disabled", [])], {"trail": "trail-logs", "scratch": "ignore"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_pass_unreadable_versioning_is_left_to_errors if {
	b := object.union(bucket("vault", "", []), {"versioning": null})
	count(check.deny) == 0 with input as build_input([b], {"vault": "primary"})
}

test_pass_unreadable_lifecycle_is_left_to_errors if {
	b := object.union(bucket("vault", "Disabled", []), {"lifecycle": null})
	count(check.deny) == 0 with input as build_input([b], {"vault": "primary"})
}

test_pass_lifecycle_has_not_applicable_note if {
	b := {"name": "vault", "arn": "arn:aws:s3:::vault", "region": "us-east-1", "versioning": {"status": "Enabled", "mfa_delete": ""}, "lifecycle": {"rules": [{"id": "r", "status": "Enabled"}]}}
	inp := {"account": {"id": "123456789012"}, "s3": {"buckets": [b]}, "coffer": {"roles": {"vault": "primary"}}}
	count(check.deny) == 0 with input as inp
	some n in check.notes with input as inp
	n.resource == "arn:aws:s3:::vault"
	startswith(n.msg, "Not applicable")
	n.not_applicable == true
}
