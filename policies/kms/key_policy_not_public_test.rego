package coffer.kms.key_policy_not_public_test

import data.coffer.kms.key_policy_not_public
import rego.v1

build_input(statements) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"kms": {"keys": [{
		"id": "k1", "arn": "arn:aws:kms:us-east-1:123456789012:key/k1", "region": "us-east-1",
		"manager": "CUSTOMER", "state": "Enabled",
		"policy": {"text": "{}", "document": {"statements": statements}},
	}]},
}

root_admin := {"sid": "Enable IAM User Permissions", "effect": "Allow", "principal": {"AWS": ["arn:aws:iam::123456789012:root"]}, "action": ["kms:*"], "resource": ["*"]}

everyone_use := {"sid": "Use", "effect": "Allow", "principal": {"AWS": ["*"]}, "action": ["kms:Decrypt", "kms:GenerateDataKey*"], "resource": ["*"]}

test_fail_public_statement if {
	denies := key_policy_not_public.deny with input as build_input([root_admin, everyone_use])
	count(denies) == 1
	some d in denies
	contains(d.msg, "\"Use\"")
	d.evidence.value == [everyone_use]
}

test_fail_wildcard_caller_account if {
	s := object.union(everyone_use, {"condition": {"StringLike": {"kms:calleraccount": ["*"]}}})
	count(key_policy_not_public.deny) == 1 with input as build_input([s])
}

test_pass_limited_to_account if {
	s := object.union(everyone_use, {"condition": {"StringEquals": {"kms:calleraccount": ["123456789012"], "kms:viaservice": ["s3.us-east-1.amazonaws.com"]}}})
	inp := build_input([root_admin, s])
	count(key_policy_not_public.deny) == 0 with input as inp
	count(key_policy_not_public.resources) == 1 with input as inp
}

test_pass_deny_to_everyone if {
	s := {"effect": "Deny", "principal": {"AWS": ["*"]}, "action": ["kms:ScheduleKeyDeletion"], "resource": ["*"]}
	count(key_policy_not_public.deny) == 0 with input as build_input([root_admin, s])
}

test_fail_unparsable_policy if {
	inp := {"account": {"id": "123456789012"}, "kms": {"keys": [{"id": "k1", "arn": "a", "region": "us-east-1", "policy": {"text": "x", "document": null, "parse_error": "bad"}}]}}
	count(key_policy_not_public.deny) == 1 with input as inp
}
