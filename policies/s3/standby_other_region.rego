# METADATA
# title: Standby buckets are in another region than their primary
# description: >-
#   A standby in the primary's own region shares its fate in a regional outage or a regional
#   misconfiguration; in another region it survives both (workshop 5.2, which places the standby
#   away from the primary). Applies to each standby bucket paired with a primary.
# custom:
#   id: s3-standby-other-region
#   severity: MEDIUM
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: standby buckets paired with a primary
#   requires: ["s3:ListBuckets", "s3:GetBucketLocation"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: []
#     workshop: ["5.2"]
#   matrix:
#     table: buckets
#     column: Replication / standby
#     order: 82
#   remediation:
#     summary: >-
#       A bucket cannot move between regions. Create a versioned standby in another region, replicate
#       the primary to it (see s3-bucket-replication), copy the existing objects over, then retire this
#       bucket (tag it coffer:role=ignore or delete it).
#     fix: manual
#     commands:
#       - aws s3api create-bucket --bucket '<NEW_STANDBY_BUCKET>' --region '<OTHER_REGION>' --create-bucket-configuration 'LocationConstraint=<OTHER_REGION>'
#       - aws s3api put-bucket-versioning --bucket '<NEW_STANDBY_BUCKET>' --region '<OTHER_REGION>' --versioning-configuration Status=Enabled
#       - aws s3 sync s3://{{.Resource.Name}} 's3://<NEW_STANDBY_BUCKET>' --source-region {{.Resource.Region}} --region '<OTHER_REGION>'
package coffer.s3.standby_other_region

import data.lib.s3
import rego.v1

# pairs are [primary bucket, standby index] for every pairing whose standby is a bucket of this
# account with the standby role; the primary is in this account or, in an organisation scan, in
# another one (lib.s3.peer_buckets).
pairs contains [pb, s] if {
	some primary_name, standby_name in s3.standby_of
	s := s3.bucket_index[standby_name]
	object.get(s3.roles, standby_name, "primary") == "standby"
	pb := s3.bucket_named(primary_name)
}

resources contains input.s3.buckets[s].arn if some [_, s] in pairs

deny contains {
	"resource": s3.bucket_resource(sb, "standby"),
	"msg": sprintf("Bucket %s is the standby of %s but is in the same region, %s.", [sb.name, pb.name, region]),
	"evidence": {"path": sprintf("s3.buckets[%d].region", [s]), "value": sb.region},
} if {
	some [pb, s] in pairs
	sb := input.s3.buckets[s]
	region := s3.region(sb)
	s3.region(pb) == region
}
