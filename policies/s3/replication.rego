# METADATA
# title: Primary buckets replicate to their standby
# description: >-
#   Replication copies every new object version of a primary bucket to its standby, so the standby
#   is a usable second copy rather than an empty bucket (workshop 5.2). The primary needs an Enabled
#   replication rule, over the whole bucket, whose destination is its standby. When the primary
#   encrypts objects with KMS, the rule must also replicate SSE-KMS objects (S3 skips them otherwise)
#   and re-encrypt them with the standby's default key. Rules are not checked for tag filters, which
#   the snapshot does not record.
# custom:
#   id: s3-bucket-replication
#   severity: MEDIUM
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: primary buckets
#   requires: ["s3:ListBuckets", "s3:GetBucketReplication", "s3:GetBucketEncryption"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: ["S3.7"]
#     workshop: ["5.2"]
#   matrix:
#     table: buckets
#     column: Replication / standby
#     order: 81
#   remediation:
#     summary: >-
#       With versioning on in both buckets (s3-bucket-versioning), replicate the primary to its standby
#       with a role S3 can assume (replace any placeholder role, bucket or key shown). The command
#       writes the bucket's whole replication configuration: it keeps every existing rule and adds
#       coffer's (no command is printed when a rule holds settings the snapshot does not record).
#       Delete markers are not replicated, so a delete on the primary does not hide the standby's copy.
#     fix: manual
#     commands:
#       - aws s3api put-bucket-replication --bucket {{.Resource.Name}} --region {{.Resource.Region}} --replication-configuration {{replicationConfiguration .Bucket .Vars.replication_configuration}}
package coffer.s3.replication

import data.lib.resource
import data.lib.s3
import rego.v1

resources := s3.primary_bucket_resources

# A null replication (or, for a KMS check, encryption) means it could not be read: the engine
# reports ERROR from input.errors.
deny contains {
	"resource": s3.bucket_resource(b, "primary"),
	"msg": problem.msg,
	"evidence": {"path": sprintf("s3.buckets[%d].replication.%s", [i, problem.field]), "value": problem.value},
	"vars": fix_vars(b),
} if {
	some i, b in input.s3.buckets
	object.get(s3.roles, b.name, "primary") == "primary"
	is_object(b.replication)
	not replicates_fully(b)
	problem := replication_problem(b, facts(b))
}

# replicates_fully(b) is the fast path for the common compliant primary, so that only failing ones
# pay for facts(b): one Enabled, unfiltered rule to the standby, replicating SSE-KMS objects with
# the standby's key when the primary uses KMS.
replicates_fully(b) if {
	standby := s3.standby_of[b.name]
	some r in b.replication.rules
	r.destination_bucket == standby
	r.status == "Enabled"
	object.get(r, "prefix", "") in {"", null}
	kms_ok(b, r)
}

kms_ok(b, _) if not s3.kms_encrypted(b)

kms_ok(b, r) if {
	s3.kms_encrypted(b)
	r.sse_kms_encrypted_objects == true
	replica := object.get(r, "replica_kms_key_id", "")
	not replica in {"", null}
	replica_matches(b, replica)
}

replica_matches(b, replica) if s3.canonical_key(replica, s3.normal_region(object.get(standby_bucket(b), "region", ""))) == standby_key(b)

replica_matches(b, _) if not standby_key(b)

# facts(b) gathers, once per primary, what replication_problem needs: the rules, the standby's name
# ("" when none) and the indexes of the rules to the standby that are Enabled ("enabled"), also
# unfiltered ("whole"), and also replicating SSE-KMS objects ("kms").
facts(b) := {"rules": rules, "standby": standby, "to": to, "enabled": enabled, "whole": whole, "kms": kms} if {
	rules := replication_rules(b)
	standby := standby_name(b)
	to := {j | standby != ""; some j, r in rules; destination_is(r, standby)}
	enabled := {j | some j in to; rules[j].status == "Enabled"}
	whole := {j | some j in enabled; object.get(rules[j], "prefix", "") in {"", null}}
	kms := {j | some j in whole; rules[j].sse_kms_encrypted_objects == true}
}

replication_rules(b) := rules if {
	rules := object.get(b.replication, "rules", [])
	is_array(rules)
} else := []

standby_name(b) := s if {
	s := object.get(s3.standby_of, b.name, "")
	is_string(s)
} else := ""

destination_is(r, s) if r.destination_bucket == s

destination_is(r, s) if endswith(object.get(r, "destination_bucket_arn", ""), concat("", [":::", s]))

replication_problem(b, c) := {
	"msg": sprintf("Bucket %s has no standby bucket to replicate to.", [b.name]),
	"field": "rules",
	"value": c.rules,
} if {
	c.standby == ""
} else := {
	"msg": sprintf("Bucket %s does not replicate to its standby %s with an Enabled rule%s.", [b.name, c.standby, disabled_hint(c)]),
	"field": "rules",
	"value": c.rules,
} if {
	count(c.enabled) == 0
} else := {
	"msg": sprintf("Bucket %s replicates to its standby %s only objects under prefix %s.", [b.name, c.standby, concat(", ", prefixes)]),
	"field": sprintf("rules[%d].prefix", [j]),
	"value": c.rules[j].prefix,
} if {
	count(c.whole) == 0
	prefixes := sort({sprintf("%q", [c.rules[n].prefix]) | some n in c.enabled})
	j := min(c.enabled)
} else := {
	"msg": sprintf("Bucket %s encrypts objects with KMS but does not replicate SSE-KMS encrypted objects to its standby %s.", [b.name, c.standby]),
	"field": sprintf("rules[%d].sse_kms_encrypted_objects", [j]),
	"value": object.get(c.rules[j], "sse_kms_encrypted_objects", false),
} if {
	s3.kms_encrypted(b)
	count(c.kms) == 0
	j := min(c.whole)
} else := {
	"msg": sprintf("Bucket %s replicates KMS-encrypted objects to its standby %s with %s, not the standby's default key %s.", [b.name, c.standby, shown_key(replica), want]),
	"field": sprintf("rules[%d].replica_kms_key_id", [j]),
	"value": replica,
} if {
	s3.kms_encrypted(b)
	want := standby_key(b)
	not some_rule_uses(b, c, want)
	j := min(c.kms)
	replica := object.get(c.rules[j], "replica_kms_key_id", "")
} else := {
	"msg": sprintf("Bucket %s replicates KMS-encrypted objects to its standby %s without a replica KMS key.", [b.name, c.standby]),
	"field": sprintf("rules[%d].replica_kms_key_id", [j]),
	"value": object.get(c.rules[j], "replica_kms_key_id", ""),
} if {
	# The standby's own key is unknown (it is not KMS-encrypted, or unreadable): any replica key will do here.
	s3.kms_encrypted(b)
	not standby_key(b)
	every n in c.kms {
		object.get(c.rules[n], "replica_kms_key_id", "") in {"", null}
	}
	j := min(c.kms)
}

disabled_hint(c) := sprintf(" (%s is %s)", [s3.rule_name(r), r.status]) if {
	r := c.rules[min(c.to)]
} else := ""

# standby_bucket(b) is the snapshot object of the bucket's standby, when it is in the snapshot (of
# this account, or of another account of an organisation scan).
standby_bucket(b) := s3.bucket_named(standby_name(b))

# standby_key(b) is the canonical reference (key ARN when known) of the standby's default KMS key.
standby_key(b) := default_key(sb.encryption, object.get(sb, "region", "")) if sb := standby_bucket(b)

# default_key(encryption, region) is standby_key for a configuration and region: evaluated once per
# distinct pair (see lib.s3.encryption_kms_rules).
default_key(encryption, region) := s3.canonical_key(ref, s3.normal_region(region)) if {
	is_object(encryption)
	rule := s3.encryption_kms_rules(encryption)[0]
	ref := s3.kms_key_ref(rule)
	ref != ""
}

some_rule_uses(b, c, key) if {
	some j in c.kms
	replica := object.get(c.rules[j], "replica_kms_key_id", "")
	replica != ""
	s3.canonical_key(replica, s3.region(standby_bucket(b))) == key
}

shown_key(k) := "no replica key" if k in {"", null}

shown_key(k) := sprintf("key %s", [k]) if not k in {"", null}

# fix_vars(b) holds the role and the rule coffer adds for the remediation command, with placeholders
# for what the snapshot cannot tell; replicationConfiguration merges it with the existing rules.
fix_vars(b) := {"replication_configuration": {
	"Role": replication_role(b),
	"Rules": [object.union(
		{
			"ID": "coffer-standby",
			"Status": "Enabled",
			"Priority": 1,
			"Filter": {},
			"DeleteMarkerReplication": {"Status": "Disabled"},
			"Destination": object.union(
				{"Bucket": sprintf("arn:%s:s3:::%s", [resource.partition, standby_or_placeholder(b)])},
				encryption_part(b),
			),
		},
		selection_part(b),
	)],
}}

standby_or_placeholder(b) := "<STANDBY_BUCKET>" if standby_name(b) == ""

standby_or_placeholder(b) := standby_name(b) if standby_name(b) != ""

replication_role(b) := b.replication.role if not object.get(b.replication, "role", "") in {"", null}

replication_role(b) := sprintf("arn:%s:iam::%s:role/<REPLICATION_ROLE>", [resource.partition, resource.account_id]) if {
	object.get(b.replication, "role", "") in {"", null}
}

encryption_part(b) := {"EncryptionConfiguration": {"ReplicaKmsKeyID": standby_key_or_placeholder(b)}} if s3.kms_encrypted(b)

encryption_part(b) := {} if not s3.kms_encrypted(b)

selection_part(b) := {"SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}}} if s3.kms_encrypted(b)

selection_part(b) := {} if not s3.kms_encrypted(b)

standby_key_or_placeholder(b) := standby_key(b)

standby_key_or_placeholder(b) := "<STANDBY_KMS_KEY_ARN>" if not standby_key(b)
