# METADATA
# title: Buckets block public access
# description: >-
#   The four bucket-level S3 Block Public Access settings stop a bucket policy or ACL from ever making
#   the bucket or its objects public. The workshop turns "Block all public access" on for the primary
#   bucket (6.2). Every bucket coffer sees is checked, the trail and access-log buckets included.
# custom:
#   id: s3-bucket-public-access-block
#   severity: HIGH
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: all buckets
#   requires: ["s3:ListBuckets", "s3:GetPublicAccessBlock"]
#   frameworks:
#     cis-aws-3.0.0: ["2.1.4"]
#     aws-fsbp: ["S3.8"]
#     workshop: ["6.2"]
#   matrix:
#     table: buckets
#     column: Public access
#     order: 10
#   remediation:
#     summary: Turn on all four Block Public Access settings of the bucket.
#     fix: auto
#     commands:
#       - aws s3api put-public-access-block --bucket {{.Resource.Name}} --region {{.Resource.Region}} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
package coffer.s3.public_access_block

import data.lib.s3
import rego.v1

flags := ["block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"]

resources := s3.all_bucket_resources

# A null public_access_block means it could not be read: the engine reports ERROR from input.errors.
deny contains {
	"resource": s3.bucket_resource(b, role),
	"msg": sprintf("Bucket %s does not turn on every Block Public Access setting (off: %s).", [b.name, concat(", ", off)]),
	"evidence": {"path": sprintf("s3.buckets[%d].public_access_block", [i]), "value": pab},
} if {
	some i, b in input.s3.buckets
	pab := b.public_access_block
	is_object(pab)
	not all_on(pab)
	role := object.get(s3.roles, b.name, "primary")
	role != "ignore"
	off := [f | some f in flags; object.get(pab, f, false) != true]
}

# all_on(pab) takes the settings, not the bucket, so that OPA evaluates it once per distinct
# configuration (the engine shares equal input values).
all_on(pab) if [object.get(pab, f, false) | some f in flags] == [true, true, true, true]
