# METADATA
# title: Trails encrypt their logs with a customer-managed key
# description: >-
#   With SSE-KMS under a customer-managed key, reading the logs needs kms:Decrypt on that key as well
#   as s3:GetObject, and every use of the key is itself logged. The key named by the trail must be
#   customer-managed when it is in the snapshot (a key in a central logging account cannot be
#   inspected and is accepted).
# custom:
#   id: cloudtrail-kms-encryption
#   severity: MEDIUM
#   service: cloudtrail
#   resource_type: AWS::CloudTrail::Trail
#   applies_to: trails
#   requires: ["cloudtrail:DescribeTrails", "kms:ListKeys", "kms:DescribeKey"]
#   frameworks:
#     cis-aws-3.0.0: ["3.5"]
#     aws-fsbp: ["CloudTrail.2"]
#     workshop: ["6.4", "6.5"]
#   remediation:
#     summary: >-
#       Encrypt the trail's logs with a customer-managed key whose key policy lets
#       cloudtrail.amazonaws.com use it (kms:GenerateDataKey*, kms:DescribeKey) for this trail.
#     fix: auto
#     commands:
#       - aws cloudtrail update-trail --name {{.Resource.Name}} --region {{.Resource.Region}} --kms-key-id {{.Fix.KMSKey}}
package coffer.cloudtrail.kms_encryption

import data.lib.resource
import rego.v1

# key_by_name maps key ARNs and alias ARNs to keys (DescribeTrails returns the key as a full ARN).
key_by_name := object.union(
	{k.arn: k | some k in input.kms.keys},
	{alias_arn(k, a): k | some k in input.kms.keys; some a in k.aliases},
)

alias_arn(_, a) := a if startswith(a, "arn:")

alias_arn(k, a) := sprintf("arn:%s:kms:%s:%s:%s", [resource.partition, k.region, resource.account_id, a]) if not startswith(a, "arn:")

resources contains resource.trail(t) if some t in input.cloudtrail.trails

deny contains {
	"resource": resource.trail(t),
	"msg": sprintf("Trail %s does not encrypt its logs with a KMS key.", [t.name]),
	"evidence": {"path": sprintf("cloudtrail.trails[%d].kms_key_id", [n]), "value": ""},
} if {
	some n, t in input.cloudtrail.trails
	object.get(t, "kms_key_id", "") == ""
}

deny contains {
	"resource": resource.trail(t),
	"msg": sprintf("Trail %s encrypts its logs with KMS key %s, which is %s-managed, not customer-managed.", [t.name, t.kms_key_id, lower(k.manager)]),
	"evidence": {"path": sprintf("cloudtrail.trails[%d].kms_key_id", [n]), "value": t.kms_key_id},
} if {
	some n, t in input.cloudtrail.trails
	k := key_by_name[t.kms_key_id]
	k.manager != "CUSTOMER"
}
