# Package lib.iam answers questions about normalised policy statements (checks/policydoc.go):
# which actions and resources a statement covers, whether it grants all of S3 or read/write access to
# a backup bucket, whether a resource-policy statement is public in AWS's sense, and whether a trust
# policy statement requires MFA. It also indexes the account's managed policies and principals once.
#
# Statements are normalised: `effect`, `principal`/`not_principal` ({type: [values]}, "*" is
# {"AWS": ["*"]}), `action`, `not_action`, `resource`, `not_resource` (lists, absent when unset) and
# `condition` ({operator: {lower-cased key: [values]}}).
package lib.iam

import data.lib.resource
import rego.v1

# ---------------------------------------------------------------------------------------------------
# Patterns

# glob_pattern turns an IAM pattern (wildcards * and ?) into an OPA glob pattern (no delimiters):
# policy variables such as ${aws:username} become * (they can take any value), and the glob
# metacharacters IAM does not have ([ ] { } \) are escaped so they match themselves.
glob_pattern(p) := escape_glob(regex.replace(p, `\$\{[^}]*\}`, "*")) if contains(p, "${")

glob_pattern(p) := escape_glob(p) if not contains(p, "${")

escape_glob(p) := strings.replace_n({"\\": "\\\\", "[": "\\[", "]": "\\]", "{": "\\{", "}": "\\}"}, p)

# is_wildcard(p) holds when p contains an IAM wildcard or a policy variable.
is_wildcard(p) if contains(p, "*")

is_wildcard(p) if contains(p, "?")

is_wildcard(p) if contains(p, "${")

# action_matches(pattern, action) holds when the IAM action pattern covers the action. Actions are
# case-insensitive.
action_matches(pattern, action) if glob.match(glob_pattern(lower(pattern)), null, lower(action))

# any_action_matches(patterns, action) holds when one of the patterns covers the action.
any_action_matches(patterns, action) if {
	some p in patterns
	action_matches(p, action)
}

# resource_matches(pattern, arn) holds when the IAM resource pattern covers the ARN (case-sensitive,
# as ARNs are).
resource_matches(pattern, arn) if glob.match(glob_pattern(pattern), null, arn)

# covers_all_s3_actions(pattern) holds for patterns that grant every S3 action: "*", "s3:*", "s?:*"…
# A pattern covers every "s3:X" exactly when it matches the literal "s3:*" and ends in a wildcard.
covers_all_s3_actions(pattern) if {
	p := lower(pattern)
	endswith(p, "*")
	glob.match(glob_pattern(p), null, "s3:*")
}

# ---------------------------------------------------------------------------------------------------
# What a statement grants

# grants_action(s, action) holds when s is an Allow that covers the action, through Action or through
# a NotAction that does not exclude it.
grants_action(s, action) if {
	s.effect == "Allow"
	any_action_matches(object.get(s, "action", []), action)
}

grants_action(s, action) if {
	s.effect == "Allow"
	is_array(s.not_action)
	not any_action_matches(s.not_action, action)
}

# grants_all_s3_actions(s) holds when s is an Allow of every S3 action. Allow + NotAction counts
# (conservatively) unless the NotAction excludes all of S3 ("s3:*" or "*"): an Allow of everything
# but s3:DeleteBucket still lets the principal overwrite and delete backups.
grants_all_s3_actions(s) if {
	s.effect == "Allow"
	some p in object.get(s, "action", [])
	covers_all_s3_actions(p)
}

grants_all_s3_actions(s) if {
	s.effect == "Allow"
	is_array(s.not_action)
	not excludes_all_s3(s.not_action)
}

excludes_all_s3(patterns) if {
	some p in patterns
	covers_all_s3_actions(p)
}

# bucket_part(p) is the part of an S3 resource pattern before the first "/" (the bucket ARN part of an
# object pattern): "arn:aws:s3:::b/*" → "arn:aws:s3:::b"; "*" → "*".
bucket_part(p) := split(p, "/")[0]

# all_s3_resource(p) holds when the resource pattern covers every bucket (or every object of every
# bucket): "*", "arn:aws:s3:::*", "arn:*:s3:::*/*"…
all_s3_resource(p) if {
	bp := bucket_part(p)
	endswith(bp, "*")
	glob.match(glob_pattern(bp), null, sprintf("arn:%s:s3:::*", [resource.partition]))
}

# backup_bucket_arns is the set of ARNs of the backup (primary and standby) buckets.
backup_bucket_arns := {b.arn | some i in resource.backup_buckets; b := input.s3.buckets[i]}

# touches_backup_bucket(p) holds when the resource pattern covers a backup bucket or objects in one:
# "arn:aws:s3:::vault", "arn:aws:s3:::vault/*", "arn:aws:s3:::vault/2024/*", "arn:aws:s3:::va*".
# Literal patterns are a set lookup. Wildcard patterns are judged once per distinct pattern of the
# account (wildcard_patterns_touching_backups), not once per statement and principal.
touches_backup_bucket(p) if {
	bp := bucket_part(p)
	not is_wildcard(bp)
	bp in backup_bucket_arns
}

touches_backup_bucket(p) if {
	bp := bucket_part(p)
	is_wildcard(bp)
	bp in wildcard_patterns_touching_backups
}

# A pattern that is in no policy of the account (e.g. a statement built by a test) is judged directly.
touches_backup_bucket(p) if {
	bp := bucket_part(p)
	is_wildcard(bp)
	not bp in account_wildcard_patterns
	wildcard_touches_backups(bp)
}

# account_policy_documents are every identity policy document of the account: managed policies and
# the inline policies of users, groups and roles.
account_policy_documents contains p.document if some p in input.iam.policies

account_policy_documents contains ip.document if {
	some coll in ["users", "groups", "roles"]
	some principal in object.get(input.iam, coll, [])
	some ip in principal.inline_policies
}

# account_wildcard_patterns are the distinct wildcard bucket parts of the Resource and NotResource
# of those documents.
account_wildcard_patterns contains bp if {
	some d in account_policy_documents
	some s in statements(d)
	some field in ["resource", "not_resource"]
	some r in object.get(s, field, [])
	bp := bucket_part(r)
	is_wildcard(bp)
}

wildcard_patterns_touching_backups := {bp | some bp in account_wildcard_patterns; wildcard_touches_backups(bp)}

# wildcard_touches_backups(bp) scans only the backup buckets whose name starts with the pattern's
# literal head (the characters before the first wildcard), found through backup_arns_by_prefix; all
# backup buckets when the head is shorter than the shortest indexed prefix.
wildcard_touches_backups(bp) if {
	g := glob_pattern(bp)
	some arn in backup_candidates(literal_head(bp))
	glob.match(g, null, arn)
}

# prefix_lengths are the bucket-name prefix lengths indexed, longest first.
prefix_lengths := [16, 10, 6, 3]

backup_candidates(head) := object.keys(object.get(backup_arns_by_prefix, key, {})) if {
	n := [l | some l in prefix_lengths; count(head) >= l][0]
	key := sprintf("%d|%s", [n, substring(head, 0, n)])
} else := backup_bucket_arns

# literal_head(bp) is the bucket-name characters of an S3 ARN pattern before its first wildcard;
# "" when the pattern does not start with a literal S3 ARN prefix.
literal_head(bp) := regex.replace(substring(bp, count(s3_arn_prefix), -1), `[*?$].*$`, "") if {
	startswith(bp, s3_arn_prefix)
} else := ""

s3_arn_prefix := sprintf("arn:%s:s3:::", [resource.partition])

# backup_arns_by_prefix["n|p"] is {arn: true} for the backup buckets whose name starts with the n
# characters p. Built with one object.union_n (a grouping multi-value rule is quadratic in OPA).
backup_arns_by_prefix := object.union_n([{key: {arn: true}} |
	some arn in backup_bucket_arns
	name := substring(arn, count(s3_arn_prefix), -1)
	some n in prefix_lengths
	count(name) >= n
	key := sprintf("%d|%s", [n, substring(name, 0, n)])
])

# on_all_or_backup_buckets(s) holds when the statement's resources include every bucket or a backup
# bucket. A NotResource counts (conservatively) as all resources.
on_all_or_backup_buckets(s) if {
	some p in object.get(s, "resource", [])
	all_s3_resource(p)
}

on_all_or_backup_buckets(s) if {
	some p in object.get(s, "resource", [])
	touches_backup_bucket(p)
}

on_all_or_backup_buckets(s) if is_array(s.not_resource)

# grants_s3_full_access(s) holds when s allows every S3 action (s3:* or *) on all resources or on a
# backup bucket. s3:* limited to an unrelated bucket is not full access.
grants_s3_full_access(s) if {
	grants_all_s3_actions(s)
	on_all_or_backup_buckets(s)
}

# grants_admin(s) holds when s allows "*" on "*" (CIS 1.16 / IAM.1). An Allow of "*" with a
# NotResource counts (conservatively). Allow + NotAction is not admin here: it is judged by
# iam-no-s3-full-access instead.
grants_admin(s) if {
	s.effect == "Allow"
	some a in object.get(s, "action", [])
	lower(a) in {"*", "*:*"}
	admin_resources(s)
}

admin_resources(s) if "*" in object.get(s, "resource", [])

admin_resources(s) if is_array(s.not_resource)

# backup_data_actions are the object and listing actions that read or write the contents of a bucket.
backup_data_actions := {
	"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion",
	"s3:ListBucket", "s3:ListBucketVersions", "s3:RestoreObject", "s3:PutObjectRetention",
	"s3:BypassGovernanceRetention",
}

# grants_backup_data_access(s) holds when s allows reading or writing the objects of a backup bucket
# (or of every bucket).
grants_backup_data_access(s) if {
	s.effect == "Allow"
	on_all_or_backup_buckets(s)
	some a in backup_data_actions
	grants_action(s, a)
}

# ---------------------------------------------------------------------------------------------------
# Public resource policies (S3 bucket policies, KMS key policies)
#
# AWS's definition: an Allow to everyone (Principal "*" or {"AWS": "*"}, alone or among other
# principals) is public unless a condition pins it to fixed values of a limiting key. Decisions:
# - a "fixed" value contains no wildcard (* or ?) and no policy variable, and is not empty;
# - only positive operators limit (StringEquals, StringEqualsIgnoreCase, StringLike, ArnEquals,
#   ArnLike, IpAddress for aws:SourceIp), optionally ForAnyValue:. Negated operators, ...IfExists
#   (the condition passes when the key is absent) and ForAllValues: (passes on an empty set) do not;
# - aws:SourceIp limits when every value is a single address or a CIDR of /8 or narrower for IPv4,
#   /32 or narrower for IPv6 (so 0.0.0.0/0, 0.0.0.0/1 and ::/0 stay public);
# - Allow with NotPrincipal is public (conservative); a Deny is never public.

limiting_keys_s3 := {
	"aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:sourceaccount",
	"aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:userid", "aws:sourceip",
}

limiting_keys_kms := limiting_keys_s3 | {"kms:calleraccount", "kms:viaservice"}

limiting_string_operators := {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}

# is_public_s3(s) holds when the statement of a bucket policy makes the bucket public.
is_public_s3(s) if statement_is_public(s, limiting_keys_s3)

# is_public_kms(s) holds when the statement of a key policy makes the key public.
is_public_kms(s) if statement_is_public(s, limiting_keys_kms)

statement_is_public(s, keys) if {
	s.effect == "Allow"
	to_everyone(s)
	not limited(s, keys)
}

# to_everyone(s) holds when the principal includes AWS "*" or the statement uses NotPrincipal.
to_everyone(s) if "*" in object.get(s, ["principal", "AWS"], [])

to_everyone(s) if "*" in object.get(s, ["principal", "CanonicalUser"], [])

to_everyone(s) if count(object.get(s, "not_principal", {})) > 0

# limited(s, keys) holds when one condition of s pins a limiting key to fixed values.
limited(s, keys) if {
	some op, kv in object.get(s, "condition", {})
	some key, values in kv
	key in keys
	limiting_operator(op, key)
	count(values) > 0
	every v in values {
		fixed_value(key, v)
	}
}

limiting_operator(op, key) if {
	key != "aws:sourceip"
	base_operator(op) in limiting_string_operators
}

limiting_operator(op, "aws:sourceip") if base_operator(op) == "ipaddress"

# base_operator(op) is the lower-cased operator without a ForAnyValue: prefix; undefined for
# ForAllValues: and ...IfExists operators, which do not limit.
base_operator(op) := b if {
	l := lower(op)
	not startswith(l, "forallvalues:")
	not endswith(l, "ifexists")
	b := trim_prefix(l, "foranyvalue:")
}

fixed_value(key, v) if {
	key != "aws:sourceip"
	v != ""
	not is_wildcard(v)
}

fixed_value("aws:sourceip", v) if narrow_cidr(v)

# narrow_cidr(v) holds for a single IP address or a CIDR no wider than /8 (IPv4) or /32 (IPv6).
narrow_cidr(v) if {
	not contains(v, "/")
	net.cidr_is_valid(sprintf("%s/%d", [v, max_prefix(v)]))
}

narrow_cidr(v) if {
	net.cidr_is_valid(v)
	parts := split(v, "/")
	count(parts) == 2
	regex.match(`^[0-9]{1,3}$`, parts[1])
	to_number(parts[1]) >= min_prefix(v)
}

max_prefix(v) := 128 if contains(v, ":")

max_prefix(v) := 32 if not contains(v, ":")

min_prefix(v) := 32 if contains(v, ":")

min_prefix(v) := 8 if not contains(v, ":")

# public_group_uris are the ACL grantee groups that make a bucket public.
public_group_uris := {
	"http://acs.amazonaws.com/groups/global/AllUsers",
	"http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
}

# is_public_grant(g) holds for an ACL grant to AllUsers or AuthenticatedUsers (any permission).
is_public_grant(g) if {
	g.type == "Group"
	g.uri in public_group_uris
}

# ---------------------------------------------------------------------------------------------------
# Trust policies and MFA

# assumable_by_iam(s) holds when s is an Allow of sts:AssumeRole to an IAM (AWS) principal: an
# account, a user or role ARN, or "*". Service and federated principals are not IAM principals.
# NotPrincipal counts (conservative).
assumable_by_iam(s) if {
	grants_action(s, "sts:AssumeRole")
	count(object.get(s, ["principal", "AWS"], [])) > 0
}

assumable_by_iam(s) if {
	grants_action(s, "sts:AssumeRole")
	count(object.get(s, "not_principal", {})) > 0
}

# requires_mfa(s) holds when the statement requires MFA: Bool aws:MultiFactorAuthPresent "true", or
# NumericLessThan(Equals) aws:MultiFactorAuthAge. BoolIfExists "true" does NOT count in an Allow: the
# key is absent when sts:AssumeRole is called with long-term access keys, so the condition passes
# without MFA (AWS documents this pitfall for aws:MultiFactorAuthPresent).
requires_mfa(s) if {
	some op, kv in object.get(s, "condition", {})
	lower(op) == "bool"
	values := kv["aws:multifactorauthpresent"]
	count(values) > 0
	every v in values {
		lower(v) == "true"
	}
}

requires_mfa(s) if {
	some op, kv in object.get(s, "condition", {})
	lower(op) in {"numericlessthan", "numericlessthanequals"}
	count(kv["aws:multifactorauthage"]) > 0
}

# denies_assume_without_mfa(statements) holds when a Deny of sts:AssumeRole to everyone applies
# whenever MFA is absent (BoolIfExists aws:MultiFactorAuthPresent "false" as its only condition),
# which enforces MFA for every Allow of the trust policy.
denies_assume_without_mfa(statements) if {
	some s in statements
	s.effect == "Deny"
	"*" in object.get(s, ["principal", "AWS"], [])
	any_action_matches(object.get(s, "action", []), "sts:AssumeRole")
	cond := object.get(s, "condition", {})
	count(cond) == 1
	some op, kv in cond
	lower(op) == "boolifexists"
	count(kv) == 1
	values := kv["aws:multifactorauthpresent"]
	count(values) > 0
	every v in values {
		lower(v) == "false"
	}
}

# ---------------------------------------------------------------------------------------------------
# Policies and principals of the account

# statements(policy) are the statements of a {text, document, parse_error} policy; empty when it has
# no document.
statements(policy) := object.get(policy, ["document", "statements"], []) if is_object(policy)
else := []

# unparsed(policy) holds when the policy text could not be parsed: checks must report it, never pass.
unparsed(policy) if {
	is_object(policy)
	object.get(policy, "parse_error", "") != ""
}

# managed_policy_index maps a managed policy ARN to its index in input.iam.policies.
managed_policy_index := {p.arn: j | some j, p in input.iam.policies}

# unparsed_policy_arns are the managed policies whose default version could not be parsed.
unparsed_policy_arns := {p.arn | some p in input.iam.policies; unparsed(p.document)}

# aws_policy_arn(name) is the ARN of an AWS-managed policy in the account's partition.
aws_policy_arn(name) := sprintf("arn:%s:iam::aws:policy/%s", [resource.partition, name])

s3_full_access_arn := aws_policy_arn("AmazonS3FullAccess")

# principal_collections maps a principal kind to its list under input.iam.
principal_collections := {"user": "users", "group": "groups", "role": "roles"}

principal_labels := {"user": "User", "group": "Group", "role": "Role"}

# principals are [kind, index] pairs of every user, group and role.
principals contains [kind, i] if {
	some kind, coll in principal_collections
	some i, _ in object.get(input.iam, coll, [])
}

# principal(kind, i) is the snapshot object of a principal.
principal(kind, i) := input.iam[principal_collections[kind]][i]

# principal_path(kind, i) is the evidence path of a principal, e.g. "iam.roles[2]".
principal_path(kind, i) := sprintf("iam.%s[%d]", [principal_collections[kind], i])

# principal_resource(kind, p) is the resource object of a principal.
principal_resource("user", p) := resource.user(p)

principal_resource("group", p) := resource.group(p)

principal_resource("role", p) := resource.role_resource(p)

# service_linked(kind, p) holds for service-linked roles, which only the owning service can change.
service_linked("role", p) if startswith(object.get(p, "path", ""), "/aws-service-role/")

# ---------------------------------------------------------------------------------------------------
# Credential ages (always from input.coffer.now, the snapshot's collection time, never the clock)

day_ns := 86400000000000

now_ns := time.parse_rfc3339_ns(input.coffer.now)

# age_days(ts) is the number of whole days between the RFC 3339 time ts and input.coffer.now.
age_days(ts) := floor((now_ns - time.parse_rfc3339_ns(ts)) / day_ns)

# older_than_days(ts, days) holds when ts is more than `days` days before input.coffer.now.
older_than_days(ts, days) if now_ns - time.parse_rfc3339_ns(ts) > days * day_ns
