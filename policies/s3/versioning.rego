# METADATA
# title: Backup buckets have versioning enabled
# description: >-
#   Versioning keeps every version of every object, so an accidental overwrite or delete of a backup
#   can be undone. Object Lock needs it too. The workshop enables it on the primary bucket (6.2).
# custom:
#   id: s3-bucket-versioning
#   severity: HIGH
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: backup buckets (primary, standby)
#   requires: ["s3:ListBuckets", "s3:GetBucketVersioning"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: ["S3.14"]
#     workshop: ["6.2"]
#   matrix:
#     table: buckets
#     column: Versioning
#     order: 30
#   remediation:
#     summary: Turn versioning on for the bucket.
#     fix: auto
#     commands:
#       - aws s3api put-bucket-versioning --bucket {{.Resource.Name}} --region {{.Resource.Region}} --versioning-configuration Status=Enabled
package coffer.s3.versioning

import data.lib.s3
import rego.v1

resources := s3.backup_bucket_resources

# A null versioning means it could not be read: the engine reports ERROR from input.errors. An empty
# status means versioning was never enabled.
deny contains {
	"resource": s3.bucket_resource(b, role),
	"msg": sprintf("Bucket %s does not have versioning enabled (status %s).", [b.name, shown]),
	"evidence": {"path": sprintf("s3.buckets[%d].versioning.status", [i]), "value": status},
} if {
	some i, b in input.s3.buckets
	is_object(b.versioning)
	status := object.get(b.versioning, "status", "")
	status != "Enabled"
	role := object.get(s3.roles, b.name, "primary")
	role in s3.backup_roles
	shown := describe(status)
}

describe(s) := "never enabled" if s in {"", null}

describe(s) := s if not s in {"", null}
