package coffer.iam.no_user_policies_test

import data.coffer.iam.no_user_policies
import rego.v1

build_input(users) := {"account": {"id": "123456789012", "partition": "aws"}, "iam": {"users": users}}

user(name, attached, inline) := {
	"name": name, "arn": sprintf("arn:aws:iam::123456789012:user/%s", [name]), "groups": ["backup-operators"],
	"attached_policies": [{"name": "P", "arn": a} | some a in attached],
	"inline_policies": [{"name": n, "document": {"text": "{}", "document": {"statements": []}}} | some n in inline],
}

test_fail_attached_policy if {
	denies := no_user_policies.deny with input as build_input([user("alice", ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"], [])])
	count(denies) == 1
	some d in denies
	d.vars == {"policy_arns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"], "inline_policy_names": []}
}

test_fail_inline_policy if {
	denies := no_user_policies.deny with input as build_input([user("alice", [], ["extra"])])
	count(denies) == 1
	some d in denies
	d.vars.inline_policy_names == ["extra"]
}

test_pass_group_only if {
	inp := build_input([user("alice", [], [])])
	count(no_user_policies.deny) == 0 with input as inp
	count(no_user_policies.resources) == 1 with input as inp
}
