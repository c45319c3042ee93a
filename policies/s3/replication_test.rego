package coffer.s3.replication_test

import data.coffer.s3.replication as check
import rego.v1

primary_key := "arn:aws:kms:us-east-1:123456789012:key/aaaa1111-0000-0000-0000-000000000000"

standby_key := "arn:aws:kms:eu-west-1:123456789012:key/bbbb2222-0000-0000-0000-000000000000"

keys := [
	{"id": "aaaa1111-0000-0000-0000-000000000000", "arn": primary_key, "region": "us-east-1", "state": "Enabled", "manager": "CUSTOMER", "aliases": ["alias/vault"]},
	{"id": "bbbb2222-0000-0000-0000-000000000000", "arn": standby_key, "region": "eu-west-1", "state": "Enabled", "manager": "CUSTOMER", "aliases": ["alias/dr"]},
]

role_arn := "arn:aws:iam::123456789012:role/s3-replication"

build_input(buckets, roles, standby_of) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"regions": ["us-east-1", "eu-west-1"],
	"s3": {"buckets": buckets},
	"kms": {"keys": keys},
	"coffer": {"roles": roles, "standby_of": standby_of},
}

sse_s3 := {"rules": [{"algorithm": "AES256", "kms_key_id": "", "bucket_key_enabled": false}]}

sse_kms(key) := {"rules": [{"algorithm": "aws:kms", "kms_key_id": key, "bucket_key_enabled": true}]}

primary(encryption, rules) := {
	"name": "vault", "arn": "arn:aws:s3:::vault", "region": "us-east-1",
	"encryption": encryption,
	"replication": {"role": role_arn, "rules": rules},
}

standby(encryption) := {
	"name": "vault-dr", "arn": "arn:aws:s3:::vault-dr", "region": "eu-west-1",
	"encryption": encryption,
	"replication": {"role": "", "rules": []},
}

rule(fields) := object.union(
	{
		"id": "to-dr", "status": "Enabled", "priority": 1, "prefix": "",
		"destination_bucket": "vault-dr", "destination_bucket_arn": "arn:aws:s3:::vault-dr",
		"storage_class": "", "replica_kms_key_id": "", "sse_kms_encrypted_objects": false,
		"delete_marker_replication": false,
	},
	fields,
)

kms_rule(replica) := rule({"sse_kms_encrypted_objects": true, "replica_kms_key_id": replica})

pair(p, s) := build_input([p, s], {"vault": "primary", "vault-dr": "standby"}, {"vault": "vault-dr"})

the_deny(inp) := d if {
	denies := check.deny with input as inp
	count(denies) == 1
	some d in denies
}

test_pass_replicates_to_standby if {
	inp := pair(primary(sse_s3, [rule({})]), standby(sse_s3))
	count(check.deny) == 0 with input as inp
	check.resources == {"arn:aws:s3:::vault"} with input as inp
}

test_pass_matched_by_destination_arn if {
	inp := pair(primary(sse_s3, [rule({"destination_bucket": ""})]), standby(sse_s3))
	count(check.deny) == 0 with input as inp
}

test_pass_kms_with_standby_key_resolved_from_alias if {
	# The standby names its key by alias; the rule names it by ARN: the same key.
	inp := pair(primary(sse_kms(primary_key), [kms_rule(standby_key)]), standby(sse_kms("alias/dr")))
	count(check.deny) == 0 with input as inp
}

test_pass_kms_standby_without_kms_key_any_replica_key if {
	inp := pair(primary(sse_kms(primary_key), [kms_rule(standby_key)]), standby(sse_s3))
	count(check.deny) == 0 with input as inp
}

test_fail_no_standby if {
	inp := build_input([primary(sse_s3, [])], {"vault": "primary"}, {})
	d := the_deny(inp)
	d.msg == "Bucket vault has no standby bucket to replicate to."
	d.vars.replication_configuration.Rules[0].Destination.Bucket == "arn:aws:s3:::<STANDBY_BUCKET>"
}

test_fail_no_rules if {
	d := the_deny(pair(primary(sse_s3, []), standby(sse_s3)))
	d.msg == "Bucket vault does not replicate to its standby vault-dr with an Enabled rule."
	d.evidence == {"path": "s3.buckets[0].replication.rules", "value": []}
	d.vars.replication_configuration == {
		"Role": role_arn,
		"Rules": [{
			"ID": "coffer-standby", "Status": "Enabled", "Priority": 1, "Filter": {},
			"DeleteMarkerReplication": {"Status": "Disabled"},
			"Destination": {"Bucket": "arn:aws:s3:::vault-dr"},
		}],
	}
}

test_fail_disabled_rule if {
	d := the_deny(pair(primary(sse_s3, [rule({"status": "Disabled"})]), standby(sse_s3)))
	contains(d.msg, `(rule "to-dr" is Disabled)`)
}

test_fail_rule_to_another_bucket if {
	r := rule({"destination_bucket": "elsewhere", "destination_bucket_arn": "arn:aws:s3:::elsewhere"})
	d := the_deny(pair(primary(sse_s3, [r]), standby(sse_s3)))
	contains(d.msg, "does not replicate to its standby vault-dr")
}

test_fail_prefix_only if {
	d := the_deny(pair(primary(sse_s3, [rule({"prefix": "docs/"})]), standby(sse_s3)))
	contains(d.msg, `only objects under prefix "docs/"`)
	d.evidence == {"path": "s3.buckets[0].replication.rules[0].prefix", "value": "docs/"}
}

test_fail_kms_objects_not_replicated if {
	d := the_deny(pair(primary(sse_kms(primary_key), [rule({})]), standby(sse_kms(standby_key))))
	contains(d.msg, "does not replicate SSE-KMS encrypted objects")
	d.evidence.path == "s3.buckets[0].replication.rules[0].sse_kms_encrypted_objects"

	# The suggested configuration replicates KMS objects with the standby's key.
	cfg_rule := d.vars.replication_configuration.Rules[0]
	cfg_rule.SourceSelectionCriteria == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
	cfg_rule.Destination.EncryptionConfiguration == {"ReplicaKmsKeyID": standby_key}
}

test_fail_kms_wrong_replica_key if {
	d := the_deny(pair(primary(sse_kms(primary_key), [kms_rule(primary_key)]), standby(sse_kms("alias/dr"))))
	contains(d.msg, sprintf("with key %s, not the standby's default key %s", [primary_key, standby_key]))
	d.evidence == {"path": "s3.buckets[0].replication.rules[0].replica_kms_key_id", "value": primary_key}
}

test_fail_kms_no_replica_key if {
	d := the_deny(pair(primary(sse_kms(primary_key), [kms_rule("")]), standby(sse_kms(standby_key))))
	contains(d.msg, "with no replica key")
}

test_fail_kms_no_replica_key_standby_not_kms if {
	d := the_deny(pair(primary(sse_kms(primary_key), [kms_rule("")]), standby(sse_s3)))
	contains(d.msg, "without a replica KMS key")
	d.vars.replication_configuration.Rules[0].Destination.EncryptionConfiguration == {"ReplicaKmsKeyID": "<STANDBY_KMS_KEY_ARN>"}
}

test_fail_placeholder_role_when_none if {
	p := object.union(primary(sse_s3, []), {"replication": {"role": "", "rules": []}})
	d := the_deny(pair(p, standby(sse_s3)))
	d.vars.replication_configuration.Role == "arn:aws:iam::123456789012:role/<REPLICATION_ROLE>"
}

test_pass_only_primary_buckets if {
	s := standby(sse_s3)
	inp := build_input([s, object.union(s, {"name": "trail"}), object.union(s, {"name": "scratch"})], {"vault-dr": "standby", "trail": "trail-logs", "scratch": "ignore"}, {})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	p := object.union(primary(sse_s3, []), {"replication": null})
	count(check.deny) == 0 with input as pair(p, standby(sse_s3))
}

# Organisation scans: the standby may be a bucket of another account (a vault account), given as a
# peer; its default key decides the replica key as for a standby of this account.
vault_key := "arn:aws:kms:eu-west-1:333333333333:key/cccc3333-0000-0000-0000-000000000000"

cross_account(p, standby_encryption) := object.union(build_input([p], {"vault": "primary"}, {"vault": "vault-dr"}), {"coffer": {
	"roles": {"vault": "primary"}, "standby_of": {"vault": "vault-dr"},
	"peer_buckets": {"vault-dr": {"account_id": "333333333333", "role": "standby", "bucket": standby(standby_encryption)}},
}})

test_pass_kms_replica_key_of_a_standby_in_another_account if {
	inp := cross_account(primary(sse_kms(primary_key), [kms_rule(vault_key)]), sse_kms(vault_key))
	count(check.deny) == 0 with input as inp
	check.resources == {"arn:aws:s3:::vault"} with input as inp
}

test_fail_kms_replica_key_not_the_key_of_a_standby_in_another_account if {
	d := the_deny(cross_account(primary(sse_kms(primary_key), [kms_rule(standby_key)]), sse_kms(vault_key)))
	contains(d.msg, sprintf("not the standby's default key %s", [vault_key]))
}
