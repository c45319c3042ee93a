package coffer.s3.standby_other_region_test

import data.coffer.s3.standby_other_region as check
import rego.v1

build_input(buckets, roles, standby_of) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": buckets},
	"coffer": {"roles": roles, "standby_of": standby_of},
}

bucket(name, region) := {"name": name, "arn": sprintf("arn:aws:s3:::%s", [name]), "region": region}

roles := {"vault": "primary", "vault-dr": "standby"}

test_fail_same_region if {
	inp := build_input([bucket("vault", "ap-southeast-7"), bucket("vault-dr", "ap-southeast-7")], roles, {"vault": "vault-dr"})
	denies := check.deny with input as inp
	count(denies) == 1
	some d in denies
	d.resource.name == "vault-dr"
	d.resource.role == "standby"
	d.msg == "Bucket vault-dr is the standby of vault but is in the same region, ap-southeast-7."
	d.evidence == {"path": "s3.buckets[1].region", "value": "ap-southeast-7"}
}

test_fail_us_east_1_legacy_empty_location if {
	# GetBucketLocation answers "" for us-east-1.
	inp := build_input([bucket("vault", "us-east-1"), bucket("vault-dr", "")], roles, {"vault": "vault-dr"})
	count(check.deny) == 1 with input as inp
}

test_fail_each_primary_sharing_a_standby if {
	inp := build_input(
		[bucket("vault", "eu-west-1"), bucket("photos", "eu-west-1"), bucket("vault-dr", "eu-west-1")],
		{"vault": "primary", "photos": "primary", "vault-dr": "standby"},
		{"vault": "vault-dr", "photos": "vault-dr"},
	)
	count(check.deny) == 2 with input as inp
	count(check.resources) == 1 with input as inp
}

test_pass_other_region if {
	inp := build_input([bucket("vault", "ap-southeast-7"), bucket("vault-dr", "ap-southeast-1")], roles, {"vault": "vault-dr"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 1 with input as inp
}

test_pass_unpaired_standby_out_of_scope if {
	inp := build_input([bucket("vault", "eu-west-1"), bucket("vault-dr", "eu-west-1")], roles, {})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_pass_standby_not_in_snapshot if {
	inp := build_input([bucket("vault", "eu-west-1")], {"vault": "primary"}, {"vault": "vault-dr"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_pass_ignored_pairing_out_of_scope if {
	inp := build_input([bucket("vault", "eu-west-1"), bucket("vault-dr", "eu-west-1")], {"vault": "primary", "vault-dr": "ignore"}, {"vault": "vault-dr"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

# Organisation scans: the primary of this account's standby may be in another account (a peer).
build_org_input(buckets, roles, standby_of, peers) := object.union(build_input(buckets, roles, standby_of), {"coffer": {
	"roles": roles, "standby_of": standby_of, "peer_buckets": peers,
}})

test_fail_primary_in_another_account_same_region if {
	inp := build_org_input(
		[bucket("vault-dr", "eu-west-1")], {"vault-dr": "standby"}, {"prod-vault": "vault-dr"},
		{"prod-vault": {"account_id": "111111111111", "role": "primary", "bucket": bucket("prod-vault", "eu-west-1")}},
	)
	denies := check.deny with input as inp
	count(denies) == 1
	some d in denies
	d.msg == "Bucket vault-dr is the standby of prod-vault but is in the same region, eu-west-1."
}

test_pass_primary_in_another_account_other_region if {
	inp := build_org_input(
		[bucket("vault-dr", "eu-west-1")], {"vault-dr": "standby"}, {"prod-vault": "vault-dr"},
		{"prod-vault": {"account_id": "111111111111", "role": "primary", "bucket": bucket("prod-vault", "us-east-1")}},
	)
	count(check.deny) == 0 with input as inp
	count(check.resources) == 1 with input as inp
}

test_pass_standby_in_another_account_is_judged_there if {
	inp := build_org_input(
		[bucket("prod-vault", "eu-west-1")], {"prod-vault": "primary"}, {"prod-vault": "vault-dr"},
		{"vault-dr": {"account_id": "333333333333", "role": "standby", "bucket": bucket("vault-dr", "eu-west-1")}},
	)
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}
