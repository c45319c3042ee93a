package coffer.s3.tls_only_test

import data.coffer.s3.tls_only as check
import rego.v1

build_input(buckets, roles) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": buckets},
	"coffer": {"roles": roles},
}

bucket(name, policy) := {"name": name, "arn": sprintf("arn:aws:s3:::%s", [name]), "region": "us-east-1", "policy": policy}

policy(statements) := {"text": "{…}", "document": {"version": "2012-10-17", "statements": statements}}

tls_statement(resources) := {
	"effect": "Deny",
	"principal": {"AWS": ["*"]},
	"action": ["s3:*"],
	"resource": resources,
	"condition": {"Bool": {"aws:securetransport": ["false"]}},
}

vault_both := ["arn:aws:s3:::vault", "arn:aws:s3:::vault/*"]

allow_statement := {"effect": "Allow", "principal": {"AWS": ["arn:aws:iam::123456789012:role/backup"]}, "action": ["s3:PutObject"], "resource": ["arn:aws:s3:::vault/*"]}

test_pass_tls_deny_on_bucket_and_objects if {
	inp := build_input([bucket("vault", policy([allow_statement, tls_statement(vault_both)]))], {"vault": "primary"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 1 with input as inp
}

test_pass_split_statements if {
	p := policy([tls_statement(["arn:aws:s3:::vault"]), tls_statement(["arn:aws:s3:::vault/*"])])
	count(check.deny) == 0 with input as build_input([bucket("vault", p)], {"vault": "primary"})
}

test_pass_star_resource_and_action if {
	st := object.union(tls_statement(["*"]), {"action": ["*"]})
	count(check.deny) == 0 with input as build_input([bucket("vault", policy([st]))], {"vault": "primary"})
}

test_pass_bucket_wildcard_resource if {
	count(check.deny) == 0 with input as build_input([bucket("vault", policy([tls_statement(["arn:aws:s3:::vault*"])]))], {"vault": "primary"})
}

test_fail_no_policy if {
	denies := check.deny with input as build_input([bucket("vault", {"text": "", "document": null})], {"vault": "primary"})
	count(denies) == 1
	some d in denies
	contains(d.msg, "has no bucket policy")
	d.evidence.path == "s3.buckets[0].policy.text"
}

test_fail_parse_error_is_unknown_not_pass if {
	p := {"text": "{not json", "document": null, "parse_error": "policy document: line 1, column 2: invalid character"}
	some d in check.deny with input as build_input([bucket("vault", p)], {"vault": "primary"})
	contains(d.msg, "could not parse")
	d.evidence.path == "s3.buckets[0].policy.parse_error"
}

test_fail_objects_not_covered if {
	some d in check.deny with input as build_input([bucket("vault", policy([tls_statement(["arn:aws:s3:::vault"])]))], {"vault": "primary"})
	contains(d.msg, "for its objects")
	not contains(d.msg, "the bucket and")
}

test_fail_prefix_only_objects if {
	st := tls_statement(["arn:aws:s3:::vault", "arn:aws:s3:::vault/docs/*"])
	some d in check.deny with input as build_input([bucket("vault", policy([st]))], {"vault": "primary"})
	contains(d.msg, "its objects")
}

test_fail_other_bucket if {
	st := tls_statement(["arn:aws:s3:::other", "arn:aws:s3:::other/*"])
	some d in check.deny with input as build_input([bucket("vault", policy([st]))], {"vault": "primary"})
	contains(d.msg, "for the bucket and its objects")
}

test_fail_allow_instead_of_deny if {
	st := object.union(tls_statement(vault_both), {"effect": "Allow"})
	count(check.deny) == 1 with input as build_input([bucket("vault", policy([st]))], {"vault": "primary"})
}

test_fail_secure_transport_true if {
	st := object.union(tls_statement(vault_both), {"condition": {"Bool": {"aws:securetransport": ["true"]}}})
	count(check.deny) == 1 with input as build_input([bucket("vault", policy([st]))], {"vault": "primary"})
}

test_fail_tls_version_condition_is_not_enough if {
	st := object.union(tls_statement(vault_both), {"condition": {"NumericLessThan": {"s3:tlsversion": ["1.2"]}}})
	count(check.deny) == 1 with input as build_input([bucket("vault", policy([st]))], {"vault": "primary"})
}

test_fail_extra_condition_narrows_the_deny if {
	cond := {"Bool": {"aws:securetransport": ["false"]}, "IpAddress": {"aws:sourceip": ["10.0.0.0/8"]}}
	st := object.union(tls_statement(vault_both), {"condition": cond})
	count(check.deny) == 1 with input as build_input([bucket("vault", policy([st]))], {"vault": "primary"})
}

test_fail_single_principal if {
	st := object.union(tls_statement(vault_both), {"principal": {"AWS": ["arn:aws:iam::123456789012:root"]}})
	count(check.deny) == 1 with input as build_input([bucket("vault", policy([st]))], {"vault": "primary"})
}

test_fail_only_get_denied if {
	st := object.union(tls_statement(vault_both), {"action": ["s3:GetObject"]})
	count(check.deny) == 1 with input as build_input([bucket("vault", policy([st]))], {"vault": "primary"})
}

test_fail_trail_logs_bucket_is_in_scope if {
	count(check.deny) == 1 with input as build_input([bucket("trail", {"text": "", "document": null})], {"trail": "trail-logs"})
}

test_pass_ignored_bucket_out_of_scope if {
	inp := build_input([bucket("scratch", {"text": "", "document": null})], {"scratch": "ignore"})
	count(check.deny) == 0 with input as inp
	count(check.resources) == 0 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	count(check.deny) == 0 with input as build_input([bucket("vault", null)], {"vault": "primary"})
}
