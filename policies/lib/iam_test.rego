package lib.iam_test

import data.lib.iam
import rego.v1

build_input(buckets, roles) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"s3": {"buckets": [{"name": n, "arn": sprintf("arn:aws:s3:::%s", [n]), "region": "us-east-1"} | some n in buckets]},
	"coffer": {"roles": roles},
}

backup_input := build_input(["vault", "vault-standby", "scratch"], {"vault": "primary", "vault-standby": "standby", "scratch": "ignore"})

allow(actions, resources) := {"effect": "Allow", "action": actions, "resource": resources}

public_allow(condition) := {
	"effect": "Allow", "principal": {"AWS": ["*"]}, "action": ["s3:GetObject"],
	"resource": ["arn:aws:s3:::vault/*"], "condition": condition,
}

# --- action and resource matching

test_pass_action_wildcards if {
	iam.action_matches("s3:*", "s3:GetObject")
	iam.action_matches("S3:get*", "s3:GetObject")
	iam.action_matches("*", "kms:Decrypt")
	iam.action_matches("s3:Get?bject", "s3:GetObject")
	not iam.action_matches("s3:Put*", "s3:GetObject")
	not iam.action_matches("s3:Get", "s3:GetObject")
}

test_pass_resource_globs if {
	iam.resource_matches("arn:aws:s3:::vault/*", "arn:aws:s3:::vault/a/b")
	iam.resource_matches("arn:aws:s3:::${aws:username}/*", "arn:aws:s3:::alice/x")
	not iam.resource_matches("arn:aws:s3:::vault", "arn:aws:s3:::vault2")
	iam.resource_matches("arn:aws:s3:::va[1]", "arn:aws:s3:::va[1]")
}

# --- full S3 access

test_pass_s3_star_on_unrelated_bucket_is_not_full_access if {
	not iam.grants_s3_full_access(allow(["s3:*"], ["arn:aws:s3:::other", "arn:aws:s3:::other/*"])) with input as backup_input
}

test_pass_s3_star_on_ignored_bucket_is_not_full_access if {
	not iam.grants_s3_full_access(allow(["s3:*"], ["arn:aws:s3:::scratch/*"])) with input as backup_input
}

test_fail_s3_star_on_star_is_full_access if {
	iam.grants_s3_full_access(allow(["s3:*"], ["*"])) with input as backup_input
	iam.grants_s3_full_access(allow(["s3:*"], ["arn:aws:s3:::*"])) with input as backup_input
}

test_fail_s3_star_on_backup_bucket_is_full_access if {
	iam.grants_s3_full_access(allow(["s3:*"], ["arn:aws:s3:::vault"])) with input as backup_input
	iam.grants_s3_full_access(allow(["S3:*"], ["arn:aws:s3:::vault/*"])) with input as backup_input
	iam.grants_s3_full_access(allow(["s3:*"], ["arn:aws:s3:::vault-st*"])) with input as backup_input
	iam.grants_s3_full_access(allow(["s3:*"], ["arn:aws:s3:::vault/2024/*"])) with input as backup_input
}

test_fail_star_on_star_is_full_access if {
	iam.grants_s3_full_access(allow(["*"], ["*"])) with input as backup_input
	iam.grants_admin(allow(["*"], ["*"]))
}

test_pass_partial_s3_actions_are_not_full_access if {
	not iam.grants_s3_full_access(allow(["s3:Get*", "s3:List*"], ["*"])) with input as backup_input
	not iam.grants_admin(allow(["s3:*"], ["*"]))
}

test_pass_deny_is_not_full_access if {
	not iam.grants_s3_full_access({"effect": "Deny", "action": ["s3:*"], "resource": ["*"]}) with input as backup_input
}

test_fail_not_action_not_excluding_s3_is_full_access if {
	s := {"effect": "Allow", "not_action": ["iam:*", "s3:DeleteBucket"], "resource": ["*"]}
	iam.grants_s3_full_access(s) with input as backup_input
}

test_pass_not_action_excluding_s3_is_not_full_access if {
	s := {"effect": "Allow", "not_action": ["s3:*"], "resource": ["*"]}
	not iam.grants_s3_full_access(s) with input as backup_input
}

test_fail_not_resource_counts_as_all_resources if {
	s := {"effect": "Allow", "action": ["s3:*"], "not_resource": ["arn:aws:s3:::vault/*"]}
	iam.grants_s3_full_access(s) with input as backup_input
	iam.grants_admin({"effect": "Allow", "action": ["*"], "not_resource": ["arn:aws:iam::*:role/x"]})
}

test_fail_backup_data_access if {
	iam.grants_backup_data_access(allow(["s3:GetObject"], ["arn:aws:s3:::vault/*"])) with input as backup_input
	iam.grants_backup_data_access(allow(["s3:Put*"], ["*"])) with input as backup_input
	not iam.grants_backup_data_access(allow(["s3:GetObject"], ["arn:aws:s3:::other/*"])) with input as backup_input
	not iam.grants_backup_data_access(allow(["s3:GetBucketPolicy"], ["arn:aws:s3:::vault"])) with input as backup_input
}

# --- public statements

test_pass_deny_with_star_principal_is_not_public if {
	not iam.is_public_s3({"effect": "Deny", "principal": {"AWS": ["*"]}, "action": ["s3:*"], "resource": ["*"]})
}

test_fail_star_principal_is_public if {
	# Principal "*" and {"AWS": "*"} both normalise to {"AWS": ["*"]}.
	iam.is_public_s3(public_allow({}))
	iam.is_public_kms(public_allow({}))
}

test_fail_star_among_other_principals_is_public if {
	iam.is_public_s3(with_principal({"AWS": ["arn:aws:iam::111122223333:root", "*"]}))
	iam.is_public_s3(with_principal({"AWS": ["*"], "Service": ["cloudtrail.amazonaws.com"]}))
}

# with_principal(p) is public_allow({}) with its principal replaced (object.union would merge them).
with_principal(p) := object.union(object.remove(public_allow({}), ["principal"]), {"principal": p})

test_fail_not_principal_allow_is_public if {
	s := object.remove(object.union(public_allow({}), {"not_principal": {"AWS": ["arn:aws:iam::111122223333:root"]}}), ["principal"])
	iam.is_public_s3(s)
}

test_pass_named_principal_is_not_public if {
	not iam.is_public_s3(with_principal({"AWS": ["arn:aws:iam::111122223333:root"]}))
	not iam.is_public_s3(with_principal({"Service": ["cloudtrail.amazonaws.com"]}))
}

fixed_values := {
	"aws:principalorgid": "o-abc123def4",
	"aws:principalaccount": "111122223333",
	"aws:principalarn": "arn:aws:iam::111122223333:role/backup",
	"aws:sourceaccount": "111122223333",
	"aws:sourcearn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/main",
	"aws:sourcevpc": "vpc-0123456789abcdef0",
	"aws:sourcevpce": "vpce-0123456789abcdef0",
	"aws:userid": "AROAEXAMPLEID:alice",
}

test_pass_each_limiting_key_with_fixed_value_is_not_public if {
	every key, value in fixed_values {
		not iam.is_public_s3(public_allow({"StringEquals": {key: [value]}}))
		not iam.is_public_kms(public_allow({"StringEquals": {key: [value]}}))
	}
	not iam.is_public_s3(public_allow({"ArnLike": {"aws:principalarn": ["arn:aws:iam::111122223333:role/backup"]}}))
	not iam.is_public_s3(public_allow({"ForAnyValue:StringEquals": {"aws:principalorgid": ["o-abc123def4"]}}))
}

test_fail_each_limiting_key_with_wildcard_value_is_public if {
	every key, _ in fixed_values {
		iam.is_public_s3(public_allow({"StringLike": {key: ["*"]}}))
	}
	iam.is_public_s3(public_allow({"StringLike": {"aws:principalarn": ["arn:aws:iam::*:role/backup"]}}))
	iam.is_public_s3(public_allow({"StringEquals": {"aws:principalorgid": ["o-abc123def4", "o-*"]}}))
}

test_fail_weak_operators_do_not_limit if {
	iam.is_public_s3(public_allow({"StringNotEquals": {"aws:principalaccount": ["111122223333"]}}))
	iam.is_public_s3(public_allow({"StringEqualsIfExists": {"aws:principalaccount": ["111122223333"]}}))
	iam.is_public_s3(public_allow({"ForAllValues:StringEquals": {"aws:principalorgid": ["o-abc123def4"]}}))
	iam.is_public_s3(public_allow({"Bool": {"aws:securetransport": ["true"]}}))
}

test_pass_kms_keys_limit_key_policies_only if {
	not iam.is_public_kms(public_allow({"StringEquals": {"kms:calleraccount": ["111122223333"]}}))
	not iam.is_public_kms(public_allow({"StringEquals": {"kms:viaservice": ["s3.us-east-1.amazonaws.com"]}}))
	iam.is_public_kms(public_allow({"StringEquals": {"kms:calleraccount": ["*"]}}))
	iam.is_public_s3(public_allow({"StringEquals": {"kms:calleraccount": ["111122223333"]}}))
}

test_pass_narrow_source_ip_is_not_public if {
	not iam.is_public_s3(public_allow({"IpAddress": {"aws:sourceip": ["203.0.113.0/24"]}}))
	not iam.is_public_s3(public_allow({"IpAddress": {"aws:sourceip": ["10.0.0.0/8", "203.0.113.7"]}}))
	not iam.is_public_s3(public_allow({"IpAddress": {"aws:sourceip": ["2001:db8::/32"]}}))
}

test_fail_broad_source_ip_is_public if {
	iam.is_public_s3(public_allow({"IpAddress": {"aws:sourceip": ["0.0.0.0/0"]}}))
	iam.is_public_s3(public_allow({"IpAddress": {"aws:sourceip": ["0.0.0.0/1"]}}))
	iam.is_public_s3(public_allow({"IpAddress": {"aws:sourceip": ["203.0.113.0/24", "0.0.0.0/7"]}}))
	iam.is_public_s3(public_allow({"IpAddress": {"aws:sourceip": ["::/0"]}}))
	iam.is_public_s3(public_allow({"NotIpAddress": {"aws:sourceip": ["203.0.113.0/24"]}}))
	iam.is_public_s3(public_allow({"IpAddress": {"aws:sourceip": ["not-an-ip"]}}))
}

test_fail_public_acl_grants if {
	iam.is_public_grant({"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers", "permission": "READ"})
	iam.is_public_grant({"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers", "permission": "WRITE"})
	not iam.is_public_grant({"type": "Group", "uri": "http://acs.amazonaws.com/groups/s3/LogDelivery", "permission": "WRITE"})
	not iam.is_public_grant({"type": "CanonicalUser", "id": "abc", "permission": "FULL_CONTROL"})
}

# --- trust policies

trust(principal, condition) := {"effect": "Allow", "principal": principal, "action": ["sts:AssumeRole"], "condition": condition}

test_pass_trust_with_mfa if {
	iam.requires_mfa(trust({"AWS": ["arn:aws:iam::123456789012:root"]}, {"Bool": {"aws:multifactorauthpresent": ["true"]}}))
	iam.requires_mfa(trust({"AWS": ["arn:aws:iam::123456789012:root"]}, {"NumericLessThan": {"aws:multifactorauthage": ["3600"]}}))
}

test_fail_trust_without_mfa if {
	not iam.requires_mfa(trust({"AWS": ["arn:aws:iam::123456789012:root"]}, {}))
	not iam.requires_mfa(trust({"AWS": ["*"]}, {"Bool": {"aws:multifactorauthpresent": ["false"]}}))

	# BoolIfExists true passes when the key is absent (long-term keys): not an MFA requirement.
	not iam.requires_mfa(trust({"AWS": ["*"]}, {"BoolIfExists": {"aws:multifactorauthpresent": ["true"]}}))
}

test_pass_service_principal_is_not_an_iam_principal if {
	not iam.assumable_by_iam(trust({"Service": ["ec2.amazonaws.com"]}, {}))
	iam.assumable_by_iam(trust({"AWS": ["123456789012"]}, {}))
	iam.assumable_by_iam({"effect": "Allow", "principal": {"AWS": ["*"]}, "action": ["sts:*"]})
	not iam.assumable_by_iam({"effect": "Allow", "principal": {"AWS": ["*"]}, "action": ["sts:TagSession"]})
}

test_pass_deny_without_mfa_enforces_mfa if {
	iam.denies_assume_without_mfa([{
		"effect": "Deny", "principal": {"AWS": ["*"]}, "action": ["sts:AssumeRole"],
		"condition": {"BoolIfExists": {"aws:multifactorauthpresent": ["false"]}},
	}])
}
