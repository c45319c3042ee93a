# METADATA
# title: Users with a password or an active access key have MFA
# description: >-
#   A user who can sign in (console password) or call the API (active access key) must have an MFA
#   device, so a leaked password or key is not enough on its own. MFA counts when the user has an MFA
#   device, a virtual MFA device is assigned to them, or the credential report says mfa_active.
# custom:
#   id: iam-user-mfa
#   severity: HIGH
#   service: iam
#   resource_type: AWS::IAM::User
#   applies_to: users with a console password or an active access key
#   requires: ["iam:GetAccountAuthorizationDetails", "iam:ListMFADevices", "iam:ListAccessKeys"]
#   frameworks:
#     cis-aws-3.0.0: ["1.10"]
#     aws-fsbp: ["IAM.5", "IAM.19"]
#     workshop: ["6.1"]
#   matrix:
#     table: principals
#     column: MFA
#     order: 10
#   remediation:
#     summary: >-
#       Create a virtual MFA device for the user, scan the QR code with an authenticator app, and
#       enable it with two consecutive codes (or let the user do it under Security credentials).
#     fix: manual
#     commands:
#       - aws iam create-virtual-mfa-device --virtual-mfa-device-name {{.Resource.Name}} --outfile {{.Resource.Name}}-mfa.png --bootstrap-method QRCodePNG
#       - aws iam enable-mfa-device --user-name {{.Resource.Name}} --serial-number arn:{{.Partition}}:iam::{{.AccountID}}:mfa/{{.Resource.Name}} --authentication-code1 '<CODE1>' --authentication-code2 '<CODE2>'
package coffer.iam.user_mfa

import data.lib.resource
import rego.v1

report := {row.user: row | some row in input.iam.credential_report}

# virtual_mfa_users are the users (name or ARN, as the collector records them) with a virtual MFA device.
virtual_mfa_users := {d.user | some d in input.iam.virtual_mfa_devices; object.get(d, "user", "") != ""}

resources contains resource.user(u) if {
	some u in input.iam.users
	has_credentials(u)
}

deny contains {
	"resource": resource.user(u),
	"msg": sprintf("User %s has %s but no MFA device.", [u.name, concat(" and ", credentials(u))]),
	"evidence": {"path": sprintf("iam.users[%d].mfa_devices", [i]), "value": object.get(u, "mfa_devices", [])},
} if {
	some i, u in input.iam.users
	has_credentials(u)
	not has_mfa(u)
}

has_credentials(u) if count(credentials(u)) > 0

credentials(u) := array.concat(
	["a console password" | password_enabled(u)],
	["an active access key" | active_key(u)],
)

password_enabled(u) if u.password_enabled == true

password_enabled(u) if report[u.name].password_enabled == true

active_key(u) if {
	some k in u.access_keys
	k.status == "Active"
}

active_key(u) if report[u.name].access_key_1_active == true

active_key(u) if report[u.name].access_key_2_active == true

has_mfa(u) if count(object.get(u, "mfa_devices", [])) > 0

has_mfa(u) if report[u.name].mfa_active == true

has_mfa(u) if u.name in virtual_mfa_users

has_mfa(u) if u.arn in virtual_mfa_users
