# METADATA
# title: Customer-managed keys rotate automatically
# description: >-
#   Automatic rotation gives an enabled customer-managed symmetric key new key material every year
#   (older material is kept, so existing data stays readable), limiting how much data one leaked
#   key version exposes. Keys with imported or custom-key-store material cannot rotate
#   automatically and are out of scope. A rotation status that could not be read is left to the
#   engine (ERROR), never PASS.
# custom:
#   id: kms-key-rotation
#   severity: MEDIUM
#   service: kms
#   resource_type: AWS::KMS::Key
#   applies_to: enabled customer-managed SYMMETRIC_DEFAULT keys with AWS_KMS key material
#   requires: ["kms:ListKeys", "kms:DescribeKey", "kms:GetKeyRotationStatus"]
#   frameworks:
#     cis-aws-3.0.0: ["3.6"]
#     aws-fsbp: ["KMS.4"]
#     workshop: ["6.5"]
#   remediation:
#     summary: Turn on automatic key rotation for the key.
#     fix: auto
#     commands:
#       - aws kms enable-key-rotation --key-id {{.Resource.Name}} --region {{.Resource.Region}}
package coffer.kms.key_rotation

import data.lib.resource
import rego.v1

in_scope contains j if {
	some j, k in input.kms.keys
	k.manager == "CUSTOMER"
	k.spec == "SYMMETRIC_DEFAULT"
	k.state == "Enabled"
	object.get(k, "origin", "AWS_KMS") in {"AWS_KMS", ""}
}

resources contains resource.key(input.kms.keys[j]) if some j in in_scope

deny contains {
	"resource": resource.key(k),
	"msg": sprintf("KMS key %s in %s does not rotate automatically.", [k.id, k.region]),
	"evidence": {"path": sprintf("kms.keys[%d].rotation_enabled", [j]), "value": false},
} if {
	some j in in_scope
	k := input.kms.keys[j]
	k.rotation_enabled == false
}
