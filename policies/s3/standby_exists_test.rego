package coffer.s3.standby_exists_test

import data.coffer.s3.standby_exists as check
import rego.v1

build_input(buckets, roles, standby_of) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": buckets},
	"coffer": {"roles": roles, "standby_of": standby_of},
}

bucket(name) := {"name": name, "arn": sprintf("arn:aws:s3:::%s", [name]), "region": "us-east-1", "replication": {"role": "", "rules": []}}

test_fail_primary_without_standby if {
	inp := build_input([bucket("vault"), bucket("photos"), bucket("vault-dr")], {"vault": "primary", "photos": "primary", "vault-dr": "standby"}, {"vault": "vault-dr"})
	denies := check.deny with input as inp
	count(denies) == 1
	some d in denies
	d.resource.name == "photos"
	d.msg == "Bucket photos has no standby bucket (none configured, tagged or replicated to)."
	d.evidence == {"path": "s3.buckets[1].replication.rules", "value": []}
}

test_fail_no_pairing_at_all if {
	inp := object.remove(build_input([bucket("vault")], {}, {}), ["coffer"])
	count(check.deny) == 1 with input as inp
}

test_fail_empty_standby_name if {
	count(check.deny) == 1 with input as build_input([bucket("vault")], {"vault": "primary"}, {"vault": ""})
}

test_pass_paired if {
	inp := build_input([bucket("vault"), bucket("vault-dr")], {"vault": "primary", "vault-dr": "standby"}, {"vault": "vault-dr"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 1 with input as inp
}

test_pass_other_roles_out_of_scope if {
	inp := build_input(
		[bucket("dr"), bucket("trail"), bucket("logs"), bucket("scratch")],
		{"dr": "standby", "trail": "trail-logs", "logs": "access-logs", "scratch": "ignore"},
		{},
	)
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_pass_resources_match_lib_resource if {
	buckets := [bucket(n) | some n in ["p", "s", "t", "a", "i", "untagged"]]
	inp := build_input(buckets, {"p": "primary", "s": "standby", "t": "trail-logs", "a": "access-logs", "i": "ignore"}, {})
	want := {buckets[i].arn | some i in data.lib.resource.buckets_with_role("primary")} with input as inp
	count(want) == 2
	check.resources == want with input as inp
}
