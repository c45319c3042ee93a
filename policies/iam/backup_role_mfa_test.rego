package coffer.iam.backup_role_mfa_test

import data.coffer.iam.backup_role_mfa
import rego.v1

build_input(roles, policies) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": [
		{"name": "vault", "arn": "arn:aws:s3:::vault", "region": "us-east-1"},
		{"name": "other", "arn": "arn:aws:s3:::other", "region": "us-east-1"},
	]},
	"coffer": {"roles": {"vault": "primary", "other": "ignore"}},
	"iam": {"users": [], "groups": [], "roles": roles, "policies": policies},
}

doc(statements) := {"text": "{}", "document": {"statements": statements}}

assume(principal, condition) := {"effect": "Allow", "principal": principal, "action": ["sts:AssumeRole"], "condition": condition}

account_root := {"AWS": ["arn:aws:iam::123456789012:root"]}

mfa := {"Bool": {"aws:multifactorauthpresent": ["true"]}}

vault_rw := {"name": "vault-rw", "document": doc([{
	"effect": "Allow", "action": ["s3:GetObject", "s3:PutObject"],
	"resource": ["arn:aws:s3:::vault/*"],
}])}

role(name, trust, inline, attached) := {
	"name": name, "arn": sprintf("arn:aws:iam::123456789012:role/%s", [name]), "path": "/",
	"trust_policy": doc(trust), "inline_policies": inline,
	"attached_policies": [{"name": a, "arn": a} | some a in attached],
}

test_fail_trust_without_mfa if {
	denies := backup_role_mfa.deny with input as build_input([role("BackupAccess", [assume(account_root, {})], [vault_rw], [])], [])
	count(denies) == 1
	some d in denies
	d.resource.name == "BackupAccess"
	contains(d.msg, "arn:aws:iam::123456789012:root")
	d.evidence.path == "iam.roles[0].trust_policy.document.statements"
}

test_fail_one_statement_without_mfa if {
	trust := [assume(account_root, mfa), assume({"AWS": ["arn:aws:iam::111122223333:user/eve"]}, {})]
	denies := backup_role_mfa.deny with input as build_input([role("BackupAccess", trust, [vault_rw], [])], [])
	count(denies) == 1
	some d in denies
	count(d.evidence.value) == 1
}

test_fail_bool_if_exists_true_is_not_mfa if {
	trust := [assume(account_root, {"BoolIfExists": {"aws:multifactorauthpresent": ["true"]}})]
	count(backup_role_mfa.deny) == 1 with input as build_input([role("BackupAccess", trust, [vault_rw], [])], [])
}

test_fail_access_through_aws_managed_policy if {
	inp := build_input([role("S3Admin", [assume({"AWS": ["*"]}, {})], [], ["arn:aws:iam::aws:policy/AmazonS3FullAccess"])], [])
	count(backup_role_mfa.deny) == 1 with input as inp
}

test_pass_trust_with_mfa if {
	inp := build_input([role("BackupAccess", [assume(account_root, mfa)], [vault_rw], [])], [])
	count(backup_role_mfa.deny) == 0 with input as inp
	count(backup_role_mfa.resources) == 1 with input as inp
}

test_pass_trust_with_mfa_age if {
	trust := [assume(account_root, {"NumericLessThan": {"aws:multifactorauthage": ["3600"]}})]
	count(backup_role_mfa.deny) == 0 with input as build_input([role("BackupAccess", trust, [vault_rw], [])], [])
}

test_pass_service_principal_only_out_of_scope if {
	inp := build_input([role("DatabaseAccessRole", [assume({"Service": ["ec2.amazonaws.com"]}, {})], [vault_rw], ["arn:aws:iam::aws:policy/AmazonS3FullAccess"])], [])
	count(backup_role_mfa.deny) == 0 with input as inp
	count(backup_role_mfa.resources) == 0 with input as inp
}

test_pass_no_backup_access_out_of_scope if {
	other := {"name": "other-rw", "document": doc([{"effect": "Allow", "action": ["s3:*"], "resource": ["arn:aws:s3:::other/*"]}])}
	inp := build_input([role("Other", [assume(account_root, {})], [other], [])], [])
	count(backup_role_mfa.deny) == 0 with input as inp
	count(backup_role_mfa.resources) == 0 with input as inp
}

test_fail_unparsable_managed_policy_counts_as_access if {
	p := {"name": "Broken", "arn": "arn:aws:iam::123456789012:policy/Broken", "aws_managed": false, "attachment_count": 1, "document": {"text": "x", "document": null, "parse_error": "bad"}}
	denies := backup_role_mfa.deny with input as build_input([role("R", [assume(account_root, {})], [], [p.arn])], [p])
	count(denies) == 1
	some d in denies
	contains(d.msg, "could not be judged")
}

test_pass_deny_without_mfa_statement if {
	trust := [assume(account_root, {}), {
		"effect": "Deny", "principal": {"AWS": ["*"]}, "action": ["sts:AssumeRole"],
		"condition": {"BoolIfExists": {"aws:multifactorauthpresent": ["false"]}},
	}]
	count(backup_role_mfa.deny) == 0 with input as build_input([role("BackupAccess", trust, [vault_rw], [])], [])
}
