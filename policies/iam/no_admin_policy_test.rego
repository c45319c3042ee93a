package coffer.iam.no_admin_policy_test

import data.coffer.iam.no_admin_policy
import rego.v1

build_input(iam) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"iam": object.union({"users": [], "groups": [], "roles": [], "policies": []}, iam),
}

doc(statements) := {"text": "{}", "document": {"statements": statements}}

admin_statement := {"effect": "Allow", "action": ["*"], "resource": ["*"]}

policy(name, statements, attachments, aws_managed) := {
	"name": name, "arn": sprintf("arn:aws:iam::123456789012:policy/%s", [name]),
	"aws_managed": aws_managed, "attachment_count": attachments, "document": doc(statements),
}

user(name, inline) := {
	"name": name, "arn": sprintf("arn:aws:iam::123456789012:user/%s", [name]),
	"attached_policies": [], "inline_policies": inline,
}

test_fail_attached_admin_policy if {
	denies := no_admin_policy.deny with input as build_input({"policies": [policy("Admin", [admin_statement], 2, false)]})
	count(denies) == 1
	some d in denies
	d.resource.type == "AWS::IAM::Policy"
	d.evidence.path == "iam.policies[0].document.document.statements[0]"
}

test_fail_inline_admin_policy if {
	denies := no_admin_policy.deny with input as build_input({"users": [user("bob", [{"name": "god", "document": doc([admin_statement])}])]})
	count(denies) == 1
	some d in denies
	d.resource.type == "AWS::IAM::User"
	d.vars == {"principal_kind": "user", "inline_policy_names": ["god"]}
}

test_fail_unparsable_attached_policy if {
	p := object.union(policy("Broken", [], 1, false), {"document": {"text": "x", "document": null, "parse_error": "bad"}})
	count(no_admin_policy.deny) == 1 with input as build_input({"policies": [p]})
}

test_pass_unattached_or_aws_managed if {
	inp := build_input({"policies": [
		policy("Unused", [admin_statement], 0, false),
		object.union(policy("AdministratorAccess", [admin_statement], 1, true), {"arn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
	]})
	count(no_admin_policy.deny) == 0 with input as inp
	count(no_admin_policy.resources) == 0 with input as inp
}

test_pass_scoped_policy if {
	inp := build_input({
		"policies": [policy("S3Vault", [{"effect": "Allow", "action": ["s3:*"], "resource": ["*"]}], 1, false)],
		"users": [user("bob", [{"name": "iam-read", "document": doc([{"effect": "Allow", "action": ["iam:Get*"], "resource": ["*"]}])}])],
	})
	count(no_admin_policy.deny) == 0 with input as inp
	count(no_admin_policy.resources) == 2 with input as inp
}
