# METADATA
# title: Active access keys are rotated
# description: >-
#   An active access key older than access_key_max_age_days (90) has had a long time to leak (laptops,
#   CI logs, old scripts). Ages are computed from the snapshot's collection time. When a user's keys
#   could not be listed, the credential report's access_key_N_last_rotated is used.
# custom:
#   id: iam-access-key-rotation
#   severity: MEDIUM
#   service: iam
#   resource_type: AWS::IAM::User
#   applies_to: users with active access keys
#   requires: ["iam:GetAccountAuthorizationDetails", "iam:ListAccessKeys"]
#   frameworks:
#     cis-aws-3.0.0: ["1.14"]
#     aws-fsbp: ["IAM.3"]
#     workshop: ["6.1"]
#   matrix:
#     table: principals
#     column: Key age / unused
#     order: 50
#   remediation:
#     summary: >-
#       Create a new access key, move every user of the old key to it, deactivate the old key, and
#       delete it once nothing breaks.
#     fix: manual
#     commands:
#       - aws iam create-access-key --user-name {{.Resource.Name}}
#       - |-
#         {{range .Vars.access_key_ids}}aws iam update-access-key --user-name {{$.Resource.Name}} --access-key-id {{.}} --status Inactive
#         {{end}}
#       - |-
#         {{range .Vars.access_key_ids}}aws iam delete-access-key --user-name {{$.Resource.Name}} --access-key-id {{.}}
#         {{end}}
package coffer.iam.access_key_rotation

import data.lib.iam
import data.lib.resource
import rego.v1

max_days := input.coffer.params.access_key_max_age_days

report := {row.user: row | some row in input.iam.credential_report}

# active_keys(u) are [key id, created] of the user's active keys; from the credential report (with
# "access key N" for the id) when the keys could not be listed (access_keys null).
active_keys(u) := {[k.id, k.create_date] | some k in u.access_keys; k.status == "Active"; k.create_date} if {
	is_array(u.access_keys)
} else := {[sprintf("access key %d", [n]), created] |
	row := report[u.name]
	some n in [1, 2]
	object.get(row, sprintf("access_key_%d_active", [n]), false) == true
	created := row[sprintf("access_key_%d_last_rotated", [n])]
}

resources contains resource.user(u) if {
	some u in input.iam.users
	count(active_keys(u)) > 0
}

deny contains {
	"resource": resource.user(u),
	"msg": sprintf("User %s has active access keys older than %d days: %s.", [u.name, max_days, concat(", ", [sprintf("%s (%d days)", [k[0], k[2]]) | some k in old])]),
	"evidence": {"path": sprintf("iam.users[%d].access_keys", [i]), "value": [{"id": k[0], "create_date": k[1], "age_days": k[2]} | some k in old]},
	"vars": {"access_key_ids": [k[0] | some k in old; not startswith(k[0], "access key ")]},
} if {
	some i, u in input.iam.users
	old := sort({[id, created, iam.age_days(created)] |
		some [id, created] in active_keys(u)
		iam.older_than_days(created, max_days)
	})
	count(old) > 0
}
