# METADATA
# title: Backup buckets clean up old versions and incomplete uploads
# description: >-
#   In a versioned bucket every overwrite keeps the previous version, and an interrupted multipart
#   upload keeps its parts, both billed forever unless a lifecycle rule deals with them. An Enabled
#   whole-bucket rule must transition or expire noncurrent versions, and one must abort incomplete
#   multipart uploads within abort_multipart_max_days (7) days. A rule that is disabled, or filtered
#   by prefix, tags or object size, does not count. The workshop sets up lifecycle management (6.3).
# custom:
#   id: s3-bucket-lifecycle-hygiene
#   severity: LOW
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: backup buckets (primary, standby)
#   requires: ["s3:ListBuckets", "s3:GetBucketLifecycleConfiguration"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: ["S3.10"]
#     workshop: ["6.3"]
#   remediation:
#     summary: >-
#       Add an Enabled whole-bucket lifecycle rule that expires (or archives) noncurrent versions and
#       aborts incomplete multipart uploads, keeping every existing rule.
#     fix: auto
#     rewrites: lifecycle
#     commands:
#       - aws s3api put-bucket-lifecycle-configuration --bucket {{.Resource.Name}} --region {{.Resource.Region}} --lifecycle-configuration {{lifecycleHygiene .Bucket .Params}}
package coffer.s3.lifecycle_hygiene

import data.lib.s3
import rego.v1

abort_max_days := s3.param("abort_multipart_max_days", 7)

resources := s3.backup_bucket_resources

# A null lifecycle means it could not be read: the engine reports ERROR from input.errors.
deny contains {
	"resource": s3.bucket_resource(b, role),
	"msg": sprintf("Bucket %s has no enabled whole-bucket lifecycle rule that %s%s.", [b.name, concat(" or that ", missing), hint(rules)]),
	"evidence": {"path": sprintf("s3.buckets[%d].lifecycle.rules", [i]), "value": rules},
} if {
	some i, b in input.s3.buckets
	is_object(b.lifecycle)
	not hygienic(b.lifecycle)
	role := object.get(s3.roles, b.name, "primary")
	role in s3.backup_roles
	rules := s3.lifecycle_rules(b)
	effective := [r | some r in rules; s3.effective(r)]
	missing := [what |
		some [what, ok] in [
			["transitions or expires noncurrent versions", handles_noncurrent(effective)],
			[sprintf("aborts incomplete multipart uploads within %d days", [abort_max_days]), aborts_uploads(effective)],
		]
		not ok
	]
	count(missing) > 0
}

# hygienic(lifecycle) is the fast path for the common compliant bucket. It takes the lifecycle
# configuration alone, not the bucket, so OPA evaluates it once per distinct configuration (the
# engine shares equal input values, and buckets made from one template have equal lifecycles).
hygienic(lifecycle) if {
	rules := object.get(lifecycle, "rules", [])
	effective := [r | some r in rules; s3.effective(r)]
	handles_noncurrent(effective)
	aborts_uploads(effective)
}

handles_noncurrent(rules) if {
	some r in rules
	noncurrent_action(r)
} else := false

noncurrent_action(r) if {
	transitions := object.get(r, "noncurrent_transitions", [])
	is_array(transitions)
	count(transitions) > 0
}

noncurrent_action(r) if is_object(object.get(r, "noncurrent_expiration", null))

aborts_uploads(rules) if {
	some r in rules
	abort_days(r) <= abort_max_days
} else := false

abort_days(r) := days if {
	days := object.get(r, "abort_incomplete_multipart_upload_days", null)
	is_number(days)
}

# hint(rules) explains why rules with hygiene actions do not count, e.g. ` (rule "tidy" is disabled)`.
hint(rules) := sprintf(" (%s)", [concat("; ", near)]) if {
	near := [sprintf("%s %s", [s3.rule_name(r), why]) |
		some r in rules
		why := near_miss(r)
	]
	count(near) > 0
} else := ""

near_miss(r) := s3.scope_problem(r) if {
	not s3.effective(r)
	hygiene_action(r)
}

near_miss(r) := sprintf("aborts incomplete multipart uploads only after %d days", [abort_days(r)]) if {
	s3.effective(r)
	abort_days(r) > abort_max_days
}

hygiene_action(r) if noncurrent_action(r)

hygiene_action(r) if abort_days(r)
