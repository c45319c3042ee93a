# METADATA
# title: Key policies are not public
# description: >-
#   A key policy statement that allows everyone (Principal "*" or {"AWS": "*"}) without a condition
#   pinning it to fixed values of kms:CallerAccount, kms:ViaService, aws:PrincipalOrgID,
#   aws:PrincipalAccount, aws:PrincipalArn, aws:SourceAccount, aws:SourceArn, aws:SourceVpc,
#   aws:SourceVpce, aws:userid or a narrow aws:SourceIp lets anyone use or manage the key that
#   protects the backups. A key policy that cannot be parsed fails too.
# custom:
#   id: kms-key-policy-not-public
#   severity: CRITICAL
#   service: kms
#   resource_type: AWS::KMS::Key
#   applies_to: keys
#   requires: ["kms:ListKeys", "kms:GetKeyPolicy"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: ["KMS.5"]
#     workshop: ["6.5"]
#   remediation:
#     summary: >-
#       Edit the key policy: name the principals in the public statements, or add a condition on
#       kms:CallerAccount (your account id) or aws:PrincipalOrgID, then put the policy back.
#     fix: manual
#     commands:
#       - aws kms get-key-policy --key-id {{.Resource.Name}} --policy-name default --region {{.Resource.Region}} --query Policy --output text > key-{{.Resource.Name}}-policy.json
#       - aws kms put-key-policy --key-id {{.Resource.Name}} --policy-name default --region {{.Resource.Region}} --policy file://key-{{.Resource.Name}}-policy.json
package coffer.kms.key_policy_not_public

import data.lib.iam
import data.lib.resource
import rego.v1

resources contains resource.key(k) if some k in input.kms.keys

deny contains {
	"resource": resource.key(k),
	"msg": sprintf("KMS key %s in %s has a key policy that allows everyone without a limiting condition (%s).", [k.id, k.region, concat(", ", labels)]),
	"evidence": {"path": sprintf("kms.keys[%d].policy.document.statements", [j]), "value": [stmts[n] | some n in public]},
} if {
	some j, k in input.kms.keys
	stmts := iam.statements(k.policy)
	public := [n | some n, s in stmts; iam.is_public_kms(s)]
	count(public) > 0
	labels := [label(n, stmts[n]) | some n in public]
}

deny contains {
	"resource": resource.key(k),
	"msg": sprintf("KMS key %s in %s has a key policy that could not be parsed (%s), so it cannot be shown not to be public.", [k.id, k.region, k.policy.parse_error]),
	"evidence": {"path": sprintf("kms.keys[%d].policy.parse_error", [j]), "value": k.policy.parse_error},
} if {
	some j, k in input.kms.keys
	iam.unparsed(k.policy)
}

label(n, s) := sprintf("statement %q", [s.sid]) if object.get(s, "sid", "") != ""
else := sprintf("statement %d", [n])
