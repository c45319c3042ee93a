# METADATA
# title: Buckets encrypt new objects by default
# description: >-
#   A default encryption rule (SSE-S3, SSE-KMS or DSSE-KMS) makes S3 encrypt every object written to
#   the bucket, whatever the client asks for. The workshop selects SSE-S3 at bucket creation (6.2).
#   Since January 2023 S3 applies SSE-S3 to new buckets, so a failure here usually means the bucket
#   predates that, or its encryption configuration was deleted.
# custom:
#   id: s3-bucket-default-encryption
#   severity: MEDIUM
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: all buckets
#   requires: ["s3:ListBuckets", "s3:GetBucketEncryption"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: []
#     workshop: ["6.2"]
#   matrix:
#     table: buckets
#     column: Encryption / CMK
#     order: 50
#   remediation:
#     summary: Set a default encryption rule (SSE-S3 here; s3-bucket-kms-cmk asks for SSE-KMS where it applies).
#     fix: auto
#     commands:
#       - aws s3api put-bucket-encryption --bucket {{.Resource.Name}} --region {{.Resource.Region}} --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
package coffer.s3.default_encryption

import data.lib.s3
import rego.v1

resources := s3.all_bucket_resources

# A null encryption means it could not be read: the engine reports ERROR from input.errors.
deny contains {
	"resource": s3.bucket_resource(b, role),
	"msg": sprintf("Bucket %s has no default encryption rule.", [b.name]),
	"evidence": {"path": sprintf("s3.buckets[%d].encryption.rules", [i]), "value": rules},
} if {
	some i, b in input.s3.buckets
	is_object(b.encryption)
	rules := object.get(b.encryption, "rules", [])
	not encrypts(rules)
	role := object.get(s3.roles, b.name, "primary")
	role != "ignore"
}

encrypts(rules) if {
	some r in rules
	r.algorithm in s3.encryption_algorithms
}
