# METADATA
# title: Every primary bucket has a standby
# description: >-
#   A standby bucket (in another region, receiving replicated copies) keeps the backups available
#   when the primary bucket, its region or its data is lost; the workshop's design has one (5.2). A
#   primary has a standby when coffer.yaml pairs one with it, a bucket tagged coffer:role=standby is
#   paired with it, or it replicates to another bucket of the account.
# custom:
#   id: s3-standby-exists
#   severity: HIGH
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: primary buckets
#   requires: ["s3:ListBuckets", "s3:GetBucketTagging", "s3:GetBucketReplication"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: []
#     workshop: ["5.2"]
#   matrix:
#     table: buckets
#     column: Replication / standby
#     order: 80
#   remediation:
#     summary: >-
#       Create a versioned standby bucket in another region (pick the region and, if needed, a shorter
#       name), mark it as the standby, then replicate the primary to it (see s3-bucket-replication).
#     fix: manual
#     commands:
#       - aws s3api create-bucket --bucket {{.Resource.Name}}-standby --region '<STANDBY_REGION>' --create-bucket-configuration 'LocationConstraint=<STANDBY_REGION>'
#       - aws s3api put-bucket-versioning --bucket {{.Resource.Name}}-standby --region '<STANDBY_REGION>' --versioning-configuration Status=Enabled
#       - aws s3api put-bucket-tagging --bucket {{.Resource.Name}}-standby --region '<STANDBY_REGION>' --tagging 'TagSet=[{Key=coffer:role,Value=standby}]'
package coffer.s3.standby_exists

import data.lib.s3
import rego.v1

resources := s3.primary_bucket_resources

deny contains {
	"resource": s3.bucket_resource(b, "primary"),
	"msg": sprintf("Bucket %s has no standby bucket (none configured, tagged or replicated to).", [b.name]),
	"evidence": {"path": sprintf("s3.buckets[%d].replication.rules", [i]), "value": object.get(b, ["replication", "rules"], null)},
} if {
	some i, b in input.s3.buckets
	object.get(s3.standby_of, b.name, "") in {"", null}
	object.get(s3.roles, b.name, "primary") == "primary"
}
