package coffer.s3.not_public_test

import data.coffer.s3.not_public
import rego.v1

build_input(buckets, roles) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": buckets},
	"coffer": {"roles": roles},
}

bucket(name, statements, grants) := {
	"name": name, "arn": sprintf("arn:aws:s3:::%s", [name]), "region": "us-east-1",
	"policy": {"text": "{}", "document": {"statements": statements}},
	"acl": {"owner_id": "abc", "grants": grants},
}

owner_grant := {"type": "CanonicalUser", "id": "abc", "permission": "FULL_CONTROL"}

all_users_read := {"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers", "permission": "READ"}

public_read := {"sid": "PublicRead", "effect": "Allow", "principal": {"AWS": ["*"]}, "action": ["s3:GetObject"], "resource": ["arn:aws:s3:::vault/*"]}

tls_deny := {
	"effect": "Deny", "principal": {"AWS": ["*"]}, "action": ["s3:*"],
	"resource": ["arn:aws:s3:::vault", "arn:aws:s3:::vault/*"],
	"condition": {"Bool": {"aws:securetransport": ["false"]}},
}

test_fail_public_policy if {
	denies := not_public.deny with input as build_input([bucket("vault", [tls_deny, public_read], [owner_grant])], {"vault": "primary"})
	count(denies) == 1
	some d in denies
	d.resource.name == "vault"
	d.vars.public_statements == [1]
	d.vars.public_grants == []
	contains(d.msg, "PublicRead")
	d.evidence.path == "s3.buckets[0].policy.document.statements"
}

test_fail_public_acl if {
	denies := not_public.deny with input as build_input([bucket("logs", [], [owner_grant, all_users_read])], {"logs": "trail-logs"})
	count(denies) == 1
	some d in denies
	d.vars.public_grants == [all_users_read]
	contains(d.msg, "READ to AllUsers")
}

test_fail_policy_and_acl_one_finding if {
	denies := not_public.deny with input as build_input([bucket("vault", [public_read], [all_users_read])], {})
	count(denies) == 1
	some d in denies
	d.evidence.path == "s3.buckets[0]"
}

test_fail_broad_source_ip if {
	s := object.union(public_read, {"condition": {"IpAddress": {"aws:sourceip": ["0.0.0.0/0"]}}})
	count(not_public.deny) == 1 with input as build_input([bucket("vault", [s], [])], {})
}

test_fail_unparsable_policy if {
	b := object.union(bucket("vault", [], []), {"policy": {"text": "{", "document": null, "parse_error": "unexpected end of JSON input"}})
	denies := not_public.deny with input as build_input([b], {})
	count(denies) == 1
	some d in denies
	contains(d.msg, "could not be parsed")
}

test_pass_deny_star_and_private_acl if {
	inp := build_input([bucket("vault", [tls_deny], [owner_grant])], {"vault": "primary"})
	count(not_public.deny) == 0 with input as inp
	count(not_public.resources) == 1 with input as inp
}

test_pass_limited_by_org_id if {
	s := object.union(public_read, {"condition": {"StringEquals": {"aws:principalorgid": ["o-abc123def4"]}}})
	count(not_public.deny) == 0 with input as build_input([bucket("vault", [s], [])], {})
}

test_pass_no_policy if {
	b := object.union(bucket("vault", [], [owner_grant]), {"policy": {"text": "", "document": null}})
	count(not_public.deny) == 0 with input as build_input([b], {})
}

test_pass_ignored_bucket_out_of_scope if {
	inp := build_input([bucket("scratch", [public_read], [all_users_read])], {"scratch": "ignore"})
	count(not_public.deny) == 0 with input as inp
	count(not_public.resources) == 0 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	b := object.union(bucket("vault", [], []), {"policy": null, "acl": null})
	count(not_public.deny) == 0 with input as build_input([b], {})
}
