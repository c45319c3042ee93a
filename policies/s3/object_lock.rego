# METADATA
# title: Backup buckets lock objects for the minimum retention
# description: >-
#   Object Lock with a default retention makes every new object version write-once for that period,
#   so neither a mistake nor stolen credentials can delete or overwrite a recent backup. The workshop
#   enables Object Lock on the primary and standby buckets (6.2). The default retention must be at
#   least object_lock_min_days (30) days; a retention in years counts 365 days a year.
# custom:
#   id: s3-bucket-object-lock
#   severity: HIGH
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: backup buckets (primary, standby)
#   requires: ["s3:ListBuckets", "s3:GetObjectLockConfiguration"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: ["S3.15"]
#     workshop: ["6.2"]
#   matrix:
#     table: buckets
#     column: Object Lock
#     order: 40
#   remediation:
#     summary: >-
#       Enable versioning, then Object Lock with a GOVERNANCE-mode default retention (COMPLIANCE mode
#       cannot be shortened or removed, even by root; choose it only deliberately).
#     fix: opt-in
#     commands:
#       - aws s3api put-bucket-versioning --bucket {{.Resource.Name}} --region {{.Resource.Region}} --versioning-configuration Status=Enabled
#       - aws s3api put-object-lock-configuration --bucket {{.Resource.Name}} --region {{.Resource.Region}} --object-lock-configuration '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":{{.Fix.ObjectLockDays}}}}}'
package coffer.s3.object_lock

import data.lib.s3
import rego.v1

min_days := s3.param("object_lock_min_days", 30)

resources := s3.backup_bucket_resources

# A null object_lock means it could not be read: the engine reports ERROR from input.errors.
deny contains {
	"resource": s3.bucket_resource(b, role),
	"msg": problem.msg,
	"evidence": {"path": sprintf("s3.buckets[%d].object_lock%s", [i, problem.path]), "value": problem.value},
} if {
	some i, b in input.s3.buckets
	is_object(b.object_lock)
	not locked_long_enough(b.object_lock)
	role := object.get(s3.roles, b.name, "primary")
	role in s3.backup_roles
	problem := lock_problem(b, b.object_lock)
}

lock_problem(b, ol) := {
	"msg": sprintf("Bucket %s does not have Object Lock enabled.", [b.name]),
	"path": ".enabled",
	"value": object.get(ol, "enabled", false),
} if {
	object.get(ol, "enabled", false) != true
} else := {
	"msg": sprintf("Bucket %s has Object Lock enabled but no default retention, so new objects are not locked.", [b.name]),
	"path": ".default_retention",
	"value": null,
} if {
	not is_object(object.get(ol, "default_retention", null))
} else := {
	"msg": sprintf("Bucket %s locks new objects for %d days by default, less than the required %d.", [b.name, days, min_days]),
	"path": ".default_retention",
	"value": ol.default_retention,
} if {
	days := retention_days(ol.default_retention)
	days < min_days
}

locked_long_enough(ol) if {
	ol.enabled == true
	is_object(ol.default_retention)
	retention_days(ol.default_retention) >= min_days
}

# retention_days(r) is a default retention in days; AWS sets exactly one of days and years.
retention_days(r) := days + (365 * years) if {
	days := number_or_zero(object.get(r, "days", 0))
	years := number_or_zero(object.get(r, "years", 0))
}

number_or_zero(x) := x if is_number(x)

number_or_zero(x) := 0 if not is_number(x)
