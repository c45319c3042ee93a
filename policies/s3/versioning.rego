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
#   remediation:
#     summary: Turn versioning on for the bucket.
#     fix: auto
#     commands:
#       - aws s3api put-bucket-versioning --bucket {{.Resource.Name}} --versioning-configuration Status=Enabled
package coffer.s3.versioning

import data.lib.resource
import rego.v1

resources contains resource.bucket(input.s3.buckets[i]) if some i in resource.backup_buckets

deny contains {
	"resource": resource.bucket(b),
	"msg": sprintf("Bucket %s does not have versioning enabled (status %q).", [b.name, status]),
	"evidence": {"path": sprintf("s3.buckets[%d].versioning.status", [i]), "value": status},
} if {
	some i in resource.backup_buckets
	b := input.s3.buckets[i]
	status := b.versioning.status
	status != "Enabled"
}
