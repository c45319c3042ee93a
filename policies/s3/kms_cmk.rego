# METADATA
# title: Buckets that need it are encrypted with a usable customer-managed KMS key
# description: >-
#   SSE-KMS with a customer-managed key puts reading the backups behind a second permission, the key
#   policy, that can be audited and revoked independently of S3; the workshop encrypts the standby
#   bucket this way (6.5). The default rule must use aws:kms (with an S3 Bucket Key, which cuts KMS
#   calls and cost) or aws:kms:dsse, with a key that is not AWS managed (aws/s3), that coffer found in
#   the snapshot and that is Enabled. A key coffer could not see (another region or account) fails
#   with a message saying so, rather than passing unverified. Applies to the roles in
#   cmk_required_for (standby by default).
# custom:
#   id: s3-bucket-kms-cmk
#   severity: HIGH
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: buckets whose role is in cmk_required_for (standby)
#   requires: ["s3:ListBuckets", "s3:GetBucketEncryption", "kms:ListKeys", "kms:DescribeKey", "kms:ListAliases"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: ["S3.17"]
#     workshop: ["6.5"]
#   matrix:
#     table: buckets
#     column: Encryption / CMK
#     order: 51
#   remediation:
#     summary: >-
#       Set default encryption to SSE-KMS with an enabled customer-managed key in the bucket's region
#       and turn the S3 Bucket Key on. Existing objects keep their old encryption until rewritten.
#     fix: auto
#     commands:
#       - aws s3api put-bucket-encryption --bucket {{.Resource.Name}} --region {{.Resource.Region}} --server-side-encryption-configuration {{tojson (obj "Rules" (list (obj "ApplyServerSideEncryptionByDefault" (obj "SSEAlgorithm" "aws:kms" "KMSMasterKeyID" .Fix.KMSKey) "BucketKeyEnabled" true)))}}
package coffer.s3.kms_cmk

import data.lib.s3
import rego.v1

required_roles := {r | some r in s3.param("cmk_required_for", ["standby"])}

resources contains arn if {
	some role in required_roles
	role != "ignore"
	some arn in s3.bucket_arns_with_role(role)
}

# A null encryption means it could not be read: the engine reports ERROR from input.errors.
deny contains {
	"resource": s3.bucket_resource(b, role),
	"msg": problem.msg,
	"evidence": {"path": problem.path, "value": problem.value},
} if {
	some i, b in input.s3.buckets
	is_object(b.encryption)
	not cmk_ok(b.encryption, b.region)
	role := object.get(s3.roles, b.name, "primary")
	role != "ignore"
	role in required_roles
	problem := cmk_problem(i, b, kms_facts(b))
}

# cmk_ok(encryption, region) is the fast path for the common compliant bucket: its first rule uses
# an enabled, customer-managed key in the snapshot (with a Bucket Key for SSE-KMS). It takes the
# configuration and region, not the bucket, so OPA evaluates it once per distinct pair (the engine
# shares equal input values). Anything else goes through cmk_problem.
cmk_ok(encryption, region) if {
	rule := encryption.rules[0]
	rule.algorithm in s3.kms_algorithms
	ref := s3.kms_key_ref(rule)
	not s3.aws_managed_ref(ref)
	key := input.kms.keys[s3.key_position(ref, s3.normal_region(region))]
	key.manager != "AWS"
	object.get(key, "state", "") == "Enabled"
	bucket_key_ok(rule)
}

bucket_key_ok(rule) if rule.algorithm != "aws:kms"

bucket_key_ok(rule) if object.get(rule, "bucket_key_enabled", false) == true

# kms_facts(b) are, for the bucket's KMS rule, its index j, its key reference and the key's index
# in input.kms.keys (-1 when not in the snapshot); {} when the bucket does not use KMS.
kms_facts(b) := {"j": j, "ref": ref, "key": key_at(ref, s3.region(b))} if {
	[j, ref] := kms_rule_key(b)
} else := {}

key_at(ref, region) := s3.key_position(ref, region) if s3.key_position(ref, region)

key_at(ref, region) := -1 if not s3.key_position(ref, region)

# cmk_problem(i, b, f) is the first reason, in order, why bucket b (input.s3.buckets[i]) fails.
cmk_problem(i, b, f) := {
	"msg": sprintf("Bucket %s is not encrypted with SSE-KMS by default (algorithms: %s).", [b.name, algorithms(b)]),
	"path": sprintf("s3.buckets[%d].encryption.rules", [i]),
	"value": object.get(b.encryption, "rules", []),
} if {
	f == {}
} else := {
	"msg": sprintf("Bucket %s is encrypted with the AWS managed key %s, not a customer-managed key.", [b.name, shown_ref(f.ref)]),
	"path": sprintf("s3.buckets[%d].encryption.rules[%d].kms_key_id", [i, f.j]),
	"value": f.ref,
} if {
	s3.aws_managed_ref(f.ref)
} else := {
	"msg": sprintf("Bucket %s is encrypted with KMS key %s, which is not in the snapshot (%s), so coffer cannot confirm it is an enabled customer-managed key.", [b.name, f.ref, s3.missing_key_reason(f.ref, s3.region(b))]),
	"path": sprintf("s3.buckets[%d].encryption.rules[%d].kms_key_id", [i, f.j]),
	"value": f.ref,
} if {
	f.key == -1
} else := {
	"msg": sprintf("Bucket %s is encrypted with the AWS managed key %s, not a customer-managed key.", [b.name, f.ref]),
	"path": sprintf("kms.keys[%d].manager", [f.key]),
	"value": input.kms.keys[f.key].manager,
} if {
	input.kms.keys[f.key].manager == "AWS"
} else := {
	"msg": sprintf("Bucket %s is encrypted with KMS key %s, which is %s, not Enabled, so its objects cannot be read or written.", [b.name, f.ref, state]),
	"path": sprintf("kms.keys[%d].state", [f.key]),
	"value": state,
} if {
	state := object.get(input.kms.keys[f.key], "state", "")
	state != "Enabled"
} else := {
	"msg": sprintf("Bucket %s uses SSE-KMS without an S3 Bucket Key.", [b.name]),
	"path": sprintf("s3.buckets[%d].encryption.rules[%d].bucket_key_enabled", [i, f.j]),
	"value": object.get(rule, "bucket_key_enabled", false),
} if {
	# DSSE-KMS does not support Bucket Keys, so only aws:kms needs one.
	rule := b.encryption.rules[f.j]
	rule.algorithm == "aws:kms"
	object.get(rule, "bucket_key_enabled", false) != true
}

# kms_rule_key(b) is [index, key reference] of the bucket's first KMS encryption rule (S3 keeps one).
kms_rule_key(b) := [j, s3.kms_key_ref(b.encryption.rules[j])] if {
	j := min({n | some n, r in b.encryption.rules; r.algorithm in s3.kms_algorithms})
}

algorithms(b) := "none" if count(algorithm_list(b)) == 0

algorithms(b) := concat(", ", algorithm_list(b)) if count(algorithm_list(b)) > 0

algorithm_list(b) := [r.algorithm |
	rules := object.get(b.encryption, "rules", [])
	is_array(rules)
	some r in rules
]

shown_ref(ref) := "aws/s3" if ref == ""

shown_ref(ref) := ref if ref != ""
