# METADATA
# title: Buckets have ACLs disabled
# description: >-
#   With Object Ownership set to BucketOwnerEnforced, S3 ignores access control lists and the bucket
#   owner owns every object, so access is governed by policies alone and no ACL can quietly grant
#   access to another account or to the public.
# custom:
#   id: s3-bucket-acls-disabled
#   severity: LOW
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: all buckets
#   requires: ["s3:ListBuckets", "s3:GetBucketOwnershipControls"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: ["S3.12"]
#     workshop: ["6.2"]
#   remediation:
#     summary: >-
#       Set Object Ownership to BucketOwnerEnforced (S3 refuses while the bucket ACL grants access to
#       anyone but the owner; move such grants into the bucket policy first).
#     fix: auto
#     commands:
#       - aws s3api put-bucket-ownership-controls --bucket {{.Resource.Name}} --region {{.Resource.Region}} --ownership-controls '{"Rules":[{"ObjectOwnership":"BucketOwnerEnforced"}]}'
package coffer.s3.acls_disabled

import data.lib.s3
import rego.v1

resources := s3.all_bucket_resources

# A null ownership means it could not be read: the engine reports ERROR from input.errors. An empty
# object_ownership means the bucket has no ownership controls, so ACLs are in effect.
deny contains {
	"resource": s3.bucket_resource(b, role),
	"msg": sprintf("Bucket %s does not disable ACLs (Object Ownership is %s, not BucketOwnerEnforced).", [b.name, shown]),
	"evidence": {"path": sprintf("s3.buckets[%d].ownership.object_ownership", [i]), "value": ownership},
} if {
	some i, b in input.s3.buckets
	is_object(b.ownership)
	ownership := object.get(b.ownership, "object_ownership", "")
	ownership != "BucketOwnerEnforced"
	role := object.get(s3.roles, b.name, "primary")
	role != "ignore"
	shown := describe(ownership)
}

describe(o) := "not set" if o in {"", null}

describe(o) := o if not o in {"", null}
