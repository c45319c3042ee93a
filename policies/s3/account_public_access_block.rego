# METADATA
# title: The account blocks public access to S3
# description: >-
#   The four account-level S3 Block Public Access settings override every bucket policy and ACL in
#   the account, so a single mistaken grant cannot expose a backup. The workshop blocks public access
#   on the primary bucket (6.2); the account-level block covers every bucket, including new ones.
# custom:
#   id: s3-account-public-access-block
#   severity: HIGH
#   service: s3
#   resource_type: AWS::::Account
#   applies_to: account
#   requires: ["s3control:GetPublicAccessBlock"]
#   frameworks:
#     cis-aws-3.0.0: ["2.1.4"]
#     aws-fsbp: ["S3.1"]
#     workshop: ["6.2"]
#   remediation:
#     summary: Turn on all four account-level Block Public Access settings.
#     fix: auto
#     commands:
#       - aws s3control put-public-access-block --account-id {{.AccountID}} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
package coffer.s3.account_public_access_block

import data.lib.resource
import rego.v1

flags := ["block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"]

resources contains resource.account

# A null public_access_block means it could not be read: the engine reports ERROR from input.errors.
deny contains {
	"resource": resource.account,
	"msg": sprintf("Account %s does not turn on every S3 Block Public Access setting (off: %s).", [resource.account_id, concat(", ", off)]),
	"evidence": {"path": "account.public_access_block", "value": pab},
} if {
	pab := input.account.public_access_block
	is_object(pab)
	off := [f | some f in flags; object.get(pab, f, false) != true]
	count(off) > 0
}
