# METADATA
# title: Primary buckets archive current versions
# description: >-
#   A lifecycle rule that moves current object versions to an archive storage class soon after upload
#   keeps the cost of the backups low; the workshop moves files to Glacier after 14 days (6.3). The
#   rule must be Enabled and cover the whole bucket: a rule that is disabled, or filtered by prefix,
#   tags or object size, does not count. Its transition must go to a class in archive_classes
#   (GLACIER, DEEP_ARCHIVE) within archive_after_days (14) days of creation. A transition on a fixed
#   Date does not count, since it bounds no object's age (objects uploaded after the date are not
#   moved by it in any given number of days).
# custom:
#   id: s3-bucket-lifecycle-archive
#   severity: MEDIUM
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: primary buckets
#   requires: ["s3:ListBuckets", "s3:GetBucketLifecycleConfiguration"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: ["S3.13"]
#     workshop: ["6.3"]
#   matrix:
#     table: buckets
#     column: Lifecycle to archive
#     order: 60
#   remediation:
#     summary: >-
#       Add an Enabled whole-bucket lifecycle rule that transitions current versions to an archive
#       class within the required days, keeping every existing rule.
#     fix: auto
#     rewrites: lifecycle
#     commands:
#       - aws s3api put-bucket-lifecycle-configuration --bucket {{.Resource.Name}} --region {{.Resource.Region}} --lifecycle-configuration {{lifecycleArchive .Bucket .Params}}
package coffer.s3.lifecycle_archive

import data.lib.s3
import rego.v1

archive_classes := {c | some c in s3.param("archive_classes", ["GLACIER", "DEEP_ARCHIVE"])}

max_days := s3.param("archive_after_days", 14)

resources := s3.primary_bucket_resources

# A null lifecycle means it could not be read: the engine reports ERROR from input.errors.
deny contains {
	"resource": s3.bucket_resource(b, "primary"),
	"msg": sprintf("Bucket %s has no enabled whole-bucket lifecycle rule moving current versions to %s within %d days%s.", [b.name, concat(" or ", sort(archive_classes)), max_days, hint(rules)]),
	"evidence": {"path": sprintf("s3.buckets[%d].lifecycle.rules", [i]), "value": rules},
} if {
	some i, b in input.s3.buckets
	is_object(b.lifecycle)
	not archives(b.lifecycle)
	object.get(s3.roles, b.name, "primary") == "primary"
	rules := s3.lifecycle_rules(b)
}

# archives(lifecycle) takes the configuration, not the bucket, so that OPA evaluates it once per
# distinct configuration (the engine shares equal input values).
archives(lifecycle) if {
	rules := object.get(lifecycle, "rules", [])
	is_array(rules)
	archived(rules)
}

archived(rules) if {
	some rule in rules
	s3.effective(rule)
	some t in archive_transitions(rule)
	in_time(t)
}

# archive_transitions(rule) are the rule's current-version transitions to an archive class.
archive_transitions(rule) := [t |
	transitions := object.get(rule, "transitions", [])
	is_array(transitions)
	some t in transitions
	t.storage_class in archive_classes
]

in_time(t) if {
	object.get(t, "date", "") in {"", null}
	is_number(t.days)
	t.days <= max_days
}

# hint(rules) explains why rules that do archive do not count, e.g. ` (rule "glacier" is disabled)`.
hint(rules) := sprintf(" (%s)", [concat("; ", near)]) if {
	near := [sprintf("%s %s", [s3.rule_name(rule), why]) |
		some rule in rules
		count(archive_transitions(rule)) > 0
		why := near_miss(rule)
	]
	count(near) > 0
} else := ""

near_miss(rule) := s3.scope_problem(rule) if not s3.effective(rule)

near_miss(rule) := "transitions on a fixed date, not by age" if {
	s3.effective(rule)
	every t in archive_transitions(rule) {
		not object.get(t, "date", "") in {"", null}
	}
}

near_miss(rule) := sprintf("archives only after %d days", [min(days)]) if {
	s3.effective(rule)
	days := {t.days | some t in archive_transitions(rule); object.get(t, "date", "") in {"", null}}
	count(days) > 0
}
