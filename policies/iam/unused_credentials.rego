# METADATA
# title: Unused passwords and access keys are disabled
# description: >-
#   A console password or an active access key that has not been used for unused_credentials_days
#   (45) belongs to nobody who needs it and is a standing way in. A credential never used counts from
#   the user's (password) or the key's creation date. Ages are computed from the snapshot's
#   collection time.
# custom:
#   id: iam-unused-credentials
#   severity: MEDIUM
#   service: iam
#   resource_type: AWS::IAM::User
#   applies_to: users with a console password or an active access key
#   requires: ["iam:GetAccountAuthorizationDetails", "iam:GetCredentialReport", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"]
#   frameworks:
#     cis-aws-3.0.0: ["1.12"]
#     aws-fsbp: ["IAM.22"]
#     workshop: ["6.1"]
#   matrix:
#     table: principals
#     column: Key age / unused
#     order: 51
#   remediation:
#     summary: >-
#       Deactivate the unused access keys (delete them later if nothing complains) and remove the
#       unused console password.
#     fix: opt-in
#     commands:
#       - |-
#         {{range .Vars.access_key_ids}}aws iam update-access-key --user-name {{$.Resource.Name}} --access-key-id {{.}} --status Inactive
#         {{end}}
#       - "{{if .Vars.password_unused}}aws iam delete-login-profile --user-name {{.Resource.Name}}{{end}}"
package coffer.iam.unused_credentials

import data.lib.iam
import data.lib.resource
import rego.v1

max_days := input.coffer.params.unused_credentials_days

report := {row.user: row | some row in input.iam.credential_report}

password_enabled(u) if u.password_enabled == true

password_enabled(u) if report[u.name].password_enabled == true

# password_last_activity(u) is the last sign-in, else the user's creation date.
password_last_activity(u) := u.password_last_used if u.password_last_used
else := report[u.name].password_last_used if report[u.name].password_last_used
else := u.create_date

# key_last_activity(k) is the key's last use, else its creation date.
key_last_activity(k) := k.last_used_date if k.last_used_date
else := k.create_date

active_keys(u) := [k | some k in u.access_keys; k.status == "Active"]

resources contains resource.user(u) if {
	some u in input.iam.users
	has_credentials(u)
}

has_credentials(u) if password_enabled(u)

has_credentials(u) if count(active_keys(u)) > 0

deny contains {
	"resource": resource.user(u),
	"msg": sprintf("User %s has credentials unused for more than %d days: %s.", [u.name, max_days, concat(", ", array.concat(password_label, key_labels))]),
	"evidence": {"path": sprintf("iam.users[%d]", [i]), "value": {"password_last_activity": password_evidence, "access_keys": keys}},
	"vars": {"access_key_ids": [k.id | some k in keys], "password_unused": password_unused},
} if {
	some i, u in input.iam.users
	keys := [{"id": k.id, "last_activity": last, "days": iam.age_days(last)} |
		some k in active_keys(u)
		last := key_last_activity(k)
		iam.older_than_days(last, max_days)
	]
	password_unused := stale_password(u)
	password_label := [sprintf("console password (last activity %d days ago)", [iam.age_days(password_last_activity(u))]) | password_unused]
	count(keys) + count(password_label) > 0
	password_evidence := password_evidence_of(u, password_unused)
	key_labels := [sprintf("access key %s (last activity %d days ago)", [k.id, k.days]) | some k in keys]
}

password_evidence_of(u, true) := password_last_activity(u)

password_evidence_of(_, false) := null

stale_password(u) if {
	password_enabled(u)
	iam.older_than_days(password_last_activity(u), max_days)
} else := false
