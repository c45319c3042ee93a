# METADATA
# title: Backup and trail-log buckets have server access logging to another bucket
# description: >-
#   Server access logs record every request made to a bucket, including the reads and deletes that
#   CloudTrail data events may miss, so access to the backups and to the CloudTrail log bucket can be
#   audited (workshop 6.4; CIS 3.4 for the trail bucket). Logs must go to a different bucket: a
#   bucket that logs to itself writes a log object for every log delivery, and anyone who can delete
#   its data can delete the record of having done so.
# custom:
#   id: s3-bucket-access-logging
#   severity: MEDIUM
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: backup buckets (primary, standby) and trail-logs buckets
#   requires: ["s3:ListBuckets", "s3:GetBucketLogging"]
#   frameworks:
#     cis-aws-3.0.0: ["3.4"]
#     aws-fsbp: ["S3.9", "CloudTrail.7"]
#     workshop: ["6.4"]
#   matrix:
#     table: buckets
#     column: Access logging
#     order: 70
#   remediation:
#     summary: >-
#       Turn server access logging on, delivering to a dedicated log bucket in the same region (the
#       log bucket must allow the S3 logging service, logging.s3.amazonaws.com, to write to it).
#     fix: auto
#     commands:
#       - aws s3api put-bucket-logging --bucket {{.Resource.Name}} --region {{.Resource.Region}} --bucket-logging-status {{tojson (obj "LoggingEnabled" (obj "TargetBucket" .Fix.LogBucket "TargetPrefix" (print .Resource.Name "/")))}}
package coffer.s3.access_logging

import data.lib.s3
import rego.v1

roles := {"primary", "standby", "trail-logs"}

resources contains arn if {
	some role in roles
	some arn in s3.bucket_arns_with_role(role)
}

# A null logging means it could not be read: the engine reports ERROR from input.errors.
deny contains {
	"resource": s3.bucket_resource(b, role),
	"msg": problem.msg,
	"evidence": {"path": sprintf("s3.buckets[%d].logging.%s", [i, problem.field]), "value": problem.value},
} if {
	some i, b in input.s3.buckets
	is_object(b.logging)
	not logs_elsewhere(b, b.logging)
	role := object.get(s3.roles, b.name, "primary")
	role in roles
	problem := logging_problem(b, b.logging)
}

logs_elsewhere(b, l) if {
	l.enabled == true
	not l.target_bucket in {"", null, b.name}
}

logging_problem(b, l) := {
	"msg": sprintf("Bucket %s does not have server access logging enabled.", [b.name]),
	"field": "enabled",
	"value": object.get(l, "enabled", false),
} if {
	object.get(l, "enabled", false) != true
} else := {
	"msg": sprintf("Bucket %s has server access logging enabled without a target bucket.", [b.name]),
	"field": "target_bucket",
	"value": object.get(l, "target_bucket", ""),
} if {
	object.get(l, "target_bucket", "") in {"", null}
} else := {
	"msg": sprintf("Bucket %s delivers its server access logs to itself instead of a separate log bucket.", [b.name]),
	"field": "target_bucket",
	"value": l.target_bucket,
} if {
	l.target_bucket == b.name
}
