# METADATA
# title: Keys used by backups and trails are enabled
# description: >-
#   A KMS key that encrypts a backup bucket (default encryption) or a trail's logs must be Enabled:
#   while it is disabled nothing can be read or written with it, and once a pending deletion
#   completes every object encrypted with it is lost for good. References are matched by key id, key
#   ARN, alias name or alias ARN (in the bucket's or trail's region). A referenced key that is not in
#   the snapshot (deleted, in another account, or unreadable) fails with the reference named.
# custom:
#   id: kms-key-in-use-healthy
#   severity: CRITICAL
#   service: kms
#   resource_type: AWS::KMS::Key
#   applies_to: keys referenced by backup buckets' default encryption or by trails
#   requires: ["kms:ListKeys", "kms:DescribeKey", "kms:ListAliases", "s3:ListBuckets", "s3:GetBucketEncryption", "cloudtrail:DescribeTrails"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: ["KMS.3"]
#     workshop: ["6.5"]
#   remediation:
#     summary: >-
#       Cancel the scheduled deletion (the key comes back Disabled) and enable the key. A key that is
#       gone cannot be recovered: point the bucket or trail at a key that exists.
#     fix: auto
#     commands:
#       - "{{if eq .Vars.state \"PendingDeletion\"}}aws kms cancel-key-deletion --key-id {{.Resource.Name}} --region {{.Resource.Region}}{{end}}"
#       - "{{if or (eq .Vars.state \"PendingDeletion\") (eq .Vars.state \"Disabled\")}}aws kms enable-key --key-id {{.Resource.Name}} --region {{.Resource.Region}}{{end}}"
#       - "{{if eq .Vars.state \"Missing\"}}aws kms describe-key --key-id {{.Vars.reference}} --region {{.Resource.Region}}{{end}}"
package coffer.kms.key_in_use_healthy

import data.lib.resource
import rego.v1

# references are [reference, region, kind, index, rule index] of every key a backup bucket's default
# encryption ("bucket", bucket index, rule index) or a trail ("trail", trail index, -1) names. Who
# refers and where are put in words only for the keys that fail: on a large account almost every
# bucket refers to a healthy key, and a sprintf per bucket was most of this check's time.
references contains [rule.kms_key_id, b.region, "bucket", i, n] if {
	some i in resource.backup_buckets
	b := input.s3.buckets[i]
	some n, rule in b.encryption.rules
	object.get(rule, "kms_key_id", "") != ""
}

references contains [t.kms_key_id, t.home_region, "trail", n, -1] if {
	some n, t in input.cloudtrail.trails
	object.get(t, "kms_key_id", "") != ""
}

# distinct_refs are the distinct [reference, region] pairs: each is resolved once. Built without
# `references`, which is only evaluated when some key fails.
distinct_refs contains [rule.kms_key_id, b.region] if {
	some i in resource.backup_buckets
	b := input.s3.buckets[i]
	some rule in b.encryption.rules
	object.get(rule, "kms_key_id", "") != ""
}

distinct_refs contains [t.kms_key_id, t.home_region] if {
	some t in input.cloudtrail.trails
	object.get(t, "kms_key_id", "") != ""
}

referrer(kind, i) := sprintf("bucket %s", [input.s3.buckets[i].name]) if kind == "bucket"

referrer(kind, i) := sprintf("trail %s", [input.cloudtrail.trails[i].name]) if kind == "trail"

reference_path(kind, i, n) := sprintf("s3.buckets[%d].encryption.rules[%d].kms_key_id", [i, n]) if kind == "bucket"

reference_path(kind, i, _) := sprintf("cloudtrail.trails[%d].kms_key_id", [i]) if kind == "trail"

# referrers(ref, region) are the referrers of a reference, sorted.
referrers(ref, region) := sort({referrer(kind, i) | some [ref2, region2, kind, i, _] in references; ref2 == ref; region2 == region})

# key_names are the names a key answers to: its ARN and alias ARNs, and "region|id" and
# "region|alias/name" for references that are not ARNs (key ids of multi-Region keys repeat across
# regions).
key_names contains [k.arn, j] if some j, k in input.kms.keys

key_names contains [sprintf("%s|%s", [k.region, k.id]), j] if some j, k in input.kms.keys

key_names contains [alias_arn(k, a), j] if {
	some j, k in input.kms.keys
	some a in k.aliases
}

key_names contains [sprintf("%s|%s", [k.region, alias_name(a)]), j] if {
	some j, k in input.kms.keys
	some a in k.aliases
}

# key_index maps each name to its key. Names are unique in AWS (an alias names one key per region),
# so the comprehension cannot conflict on a real snapshot.
key_index := {name: j | some [name, j] in key_names}

alias_arn(_, a) := a if startswith(a, "arn:")

alias_arn(k, a) := sprintf("arn:%s:kms:%s:%s:%s", [resource.partition, k.region, resource.account_id, a]) if not startswith(a, "arn:")

alias_name(a) := split(a, ":")[5] if startswith(a, "arn:")
else := a

# resolved are [key index, reference, region] of the references found in the snapshot.
resolved contains [key_index[ref_name(ref, region)], ref, region] if some [ref, region] in distinct_refs

ref_name(ref, _) := ref if startswith(ref, "arn:")

ref_name(ref, region) := sprintf("%s|%s", [region, ref]) if not startswith(ref, "arn:")

resources contains resource.key(input.kms.keys[j]) if some [j, _, _] in resolved

deny contains {
	"resource": resource.key(k),
	"msg": sprintf("KMS key %s in %s is %s%s but encrypts %s.", [k.id, k.region, k.state, deletion_note(k), concat(", ", users)]),
	"evidence": {"path": sprintf("kms.keys[%d].state", [j]), "value": k.state},
	"vars": {"state": k.state, "referenced_by": users},
} if {
	some j in {j | some [j, _, _] in resolved}
	k := input.kms.keys[j]
	k.state != "Enabled"
	users := sort({user | some [j2, ref, region] in resolved; j2 == j; some user in referrers(ref, region)})
}

deletion_note(k) := sprintf(" (deletion on %s)", [k.deletion_date]) if k.deletion_date
else := ""

# missing are the [reference, region] pairs that match no key of the snapshot, unless listing the
# region's keys or aliases failed (then the engine reports ERROR from input.errors).
missing contains [ref, region] if {
	some [ref, region] in distinct_refs
	not key_index[ref_name(ref, region)]
	not kms_listing_failed(ref_region(ref, region))
}

ref_region(ref, _) := split(ref, ":")[3] if startswith(ref, "arn:")

ref_region(ref, region) := region if not startswith(ref, "arn:")

kms_listing_failed(region) if {
	some e in input.errors
	e.operation in {"ListKeys", "ListAliases", "kms:ListKeys", "kms:ListAliases"}
	object.get(e, "region", "") in {region, ""}
}

missing_resource(ref, region) := {"arn": ref, "type": "AWS::KMS::Key", "name": ref, "region": split(ref, ":")[3]} if startswith(ref, "arn:")
else := {
	"arn": sprintf("arn:%s:kms:%s:%s:%s", [resource.partition, region, resource.account_id, key_path(ref)]),
	"type": "AWS::KMS::Key", "name": ref, "region": region,
}

key_path(ref) := ref if startswith(ref, "alias/")
else := sprintf("key/%s", [ref])

deny contains {
	"resource": missing_resource(ref, region),
	"msg": sprintf("KMS key %s (in %s) is used by %s but is not in the snapshot: it was deleted, is in another account, or could not be read.", [ref, region, concat(", ", users)]),
	"evidence": {"path": min(paths), "value": ref},
	"vars": {"state": "Missing", "reference": ref, "referenced_by": users},
} if {
	some [ref, region] in missing
	users := referrers(ref, region)
	paths := {reference_path(kind, i, n) | some [ref2, region2, kind, i, n] in references; ref2 == ref; region2 == region}
}
