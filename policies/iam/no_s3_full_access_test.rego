package coffer.iam.no_s3_full_access_test

import data.coffer.iam.no_s3_full_access
import rego.v1

s3_full_arn := "arn:aws:iam::aws:policy/AmazonS3FullAccess"

build_input(iam) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": [
		{"name": "vault", "arn": "arn:aws:s3:::vault", "region": "us-east-1"},
		{"name": "scratch", "arn": "arn:aws:s3:::scratch", "region": "us-east-1"},
	]},
	"coffer": {"roles": {"vault": "primary", "scratch": "ignore"}},
	"iam": object.union({"users": [], "groups": [], "roles": [], "policies": []}, iam),
}

doc(statements) := {"text": "{}", "document": {"statements": statements}}

allow(actions, resources) := {"effect": "Allow", "action": actions, "resource": resources}

managed(name, statements) := {
	"name": name, "arn": sprintf("arn:aws:iam::123456789012:policy/%s", [name]),
	"aws_managed": false, "attachment_count": 1, "document": doc(statements),
}

user(name, attached, inline) := {
	"name": name, "arn": sprintf("arn:aws:iam::123456789012:user/%s", [name]),
	"attached_policies": [{"name": a, "arn": a} | some a in attached], "inline_policies": inline,
}

role(name, attached, inline) := {
	"name": name, "arn": sprintf("arn:aws:iam::123456789012:role/%s", [name]), "path": "/",
	"attached_policies": [{"name": a, "arn": a} | some a in attached], "inline_policies": inline,
}

test_fail_amazon_s3_full_access_by_arn if {
	denies := no_s3_full_access.deny with input as build_input({"users": [user("alice", [s3_full_arn], [])]})
	count(denies) == 1
	some d in denies
	d.vars == {"principal_kind": "user", "policy_arns": [s3_full_arn], "inline_policy_names": []}
	d.resource.type == "AWS::IAM::User"
}

test_fail_s3_star_on_star_managed if {
	p := managed("S3Admin", [allow(["s3:*"], ["*"])])
	denies := no_s3_full_access.deny with input as build_input({"roles": [role("ops", [p.arn], [])], "policies": [p]})
	count(denies) == 1
	some d in denies
	d.vars.principal_kind == "role"
	d.vars.policy_arns == [p.arn]
}

test_fail_s3_star_on_backup_bucket_inline if {
	inline := [{"name": "vault-admin", "document": doc([allow(["s3:*"], ["arn:aws:s3:::vault", "arn:aws:s3:::vault/*"])])}]
	denies := no_s3_full_access.deny with input as build_input({"groups": [{"name": "admins", "arn": "arn:aws:iam::123456789012:group/admins", "attached_policies": [], "inline_policies": inline}]})
	count(denies) == 1
	some d in denies
	d.vars == {"principal_kind": "group", "policy_arns": [], "inline_policy_names": ["vault-admin"]}
}

test_fail_star_on_star if {
	inline := [{"name": "god", "document": doc([allow(["*"], ["*"])])}]
	count(no_s3_full_access.deny) == 1 with input as build_input({"users": [user("bob", [], inline)]})
}

test_fail_not_action_not_excluding_s3 if {
	inline := [{"name": "almost-all", "document": doc([{"effect": "Allow", "not_action": ["iam:*"], "resource": ["*"]}])}]
	count(no_s3_full_access.deny) == 1 with input as build_input({"users": [user("bob", [], inline)]})
}

test_fail_not_resource_counts_as_everything if {
	inline := [{"name": "nr", "document": doc([{"effect": "Allow", "action": ["s3:*"], "not_resource": ["arn:aws:s3:::other/*"]}])}]
	count(no_s3_full_access.deny) == 1 with input as build_input({"users": [user("bob", [], inline)]})
}

test_fail_unparsable_policy_is_reported if {
	p := object.union(managed("Broken", []), {"document": {"text": "{", "document": null, "parse_error": "unexpected end of JSON input"}})
	denies := no_s3_full_access.deny with input as build_input({"users": [user("bob", [p.arn], [])], "policies": [p]})
	count(denies) == 1
	some d in denies
	contains(d.msg, "could not be parsed")
	d.vars.policy_arns == []
}

test_pass_s3_star_on_unrelated_bucket if {
	p := managed("ScratchAdmin", [allow(["s3:*"], ["arn:aws:s3:::scratch", "arn:aws:s3:::scratch/*"])])
	inp := build_input({"users": [user("alice", [p.arn], [])], "policies": [p]})
	count(no_s3_full_access.deny) == 0 with input as inp
	count(no_s3_full_access.resources) == 1 with input as inp
}

test_pass_not_action_excluding_s3 if {
	inline := [{"name": "no-s3", "document": doc([{"effect": "Allow", "not_action": ["s3:*"], "resource": ["*"]}])}]
	count(no_s3_full_access.deny) == 0 with input as build_input({"users": [user("bob", [], inline)]})
}

test_pass_read_only_access if {
	p := managed("ReadVault", [allow(["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::vault", "arn:aws:s3:::vault/*"])])
	count(no_s3_full_access.deny) == 0 with input as build_input({"roles": [role("reader", [p.arn], [])], "policies": [p]})
}

test_pass_service_linked_role_out_of_scope if {
	r := object.union(role("AWSServiceRoleForX", [s3_full_arn], []), {"path": "/aws-service-role/x.amazonaws.com/"})
	inp := build_input({"roles": [r]})
	count(no_s3_full_access.deny) == 0 with input as inp
	count(no_s3_full_access.resources) == 0 with input as inp
}

test_fail_wildcard_resource_matching_a_backup_bucket if {
	# Wildcard patterns found in the account's policies go through the precomputed prefix index.
	inline := [{"name": "v", "document": doc([allow(["s3:*"], ["arn:aws:s3:::vau*/*"])])}]
	count(no_s3_full_access.deny) == 1 with input as build_input({"users": [user("bob", [], inline)]})
	long := [{"name": "v", "document": doc([allow(["s3:*"], ["arn:aws:s3:::vault*"])])}]
	count(no_s3_full_access.deny) == 1 with input as build_input({"users": [user("bob", [], long)]})
}

test_pass_wildcard_resource_matching_no_backup_bucket if {
	inline := [{"name": "s", "document": doc([allow(["s3:*"], ["arn:aws:s3:::scratch*", "arn:aws:s3:::vault-archive-*/*"])])}]
	count(no_s3_full_access.deny) == 0 with input as build_input({"users": [user("bob", [], inline)]})
}
