# Package lib.s3 holds helpers shared by the S3 checks: parameters with their defaults, bucket
# lookup by name, lifecycle rule scope, encryption algorithms and KMS key lookup.
#
# Everything that depends on the whole snapshot (bucket_index, key_index) is computed once per
# evaluation, so per-bucket rules look things up in O(1) instead of scanning every bucket or key.
package lib.s3

import rego.v1

# roles maps bucket names to roles. A bucket that is not listed is primary, as in lib.resource.role.
# Checks read it inline (object.get(s3.roles, b.name, "primary")) rather than through a function:
# at 10,000 buckets a user-function call per bucket doubles the evaluation's allocations.
roles := object.get(input, ["coffer", "roles"], {})

backup_roles := {"primary", "standby"}

# bucket_resource(b, role) is the resource object of bucket b, equal to lib.resource.bucket(b).
bucket_resource(b, role) := {"arn": b.arn, "type": "AWS::S3::Bucket", "name": b.name, "region": b.region, "role": role}

# all_bucket_resources, backup_bucket_resources and primary_bucket_resources are the resources of
# the checks that apply to all buckets (every role but ignore), to backup buckets (primary and
# standby) and to primary buckets: bucket ARNs, which the engine completes from the snapshot (an
# object per bucket per check was a fifth of the evaluation of a large account). The engine
# precomputes the lists (input.coffer.scope_arns); the fallbacks serve unit tests.
all_bucket_resources := {a | some a in input.coffer.scope_arns.all} if {
	input.coffer.scope_arns
} else := {b.arn |
	some b in input.s3.buckets
	object.get(roles, b.name, "primary") != "ignore"
}

backup_bucket_resources := {a | some a in input.coffer.scope_arns.backup} if {
	input.coffer.scope_arns
} else := {b.arn |
	some b in input.s3.buckets
	object.get(roles, b.name, "primary") in backup_roles
}

primary_bucket_resources := {a | some a in object.get(input.coffer.scope_arns, "primary", [])} if {
	input.coffer.scope_arns
} else := {b.arn |
	some b in input.s3.buckets
	object.get(roles, b.name, "primary") == "primary"
}

# bucket_arns_with_role(r) is the set of ARNs of the buckets with role r.
bucket_arns_with_role(r) := {a | some a in object.get(input.coffer.scope_arns, r, [])} if {
	input.coffer.scope_arns
} else := {b.arn |
	some b in input.s3.buckets
	object.get(roles, b.name, "primary") == r
}

# param(name, default_value) is input.coffer.params[name], or default_value when it is not set.
param(name, default_value) := object.get(input, ["coffer", "params", name], default_value)

# standby_of maps each primary bucket name to the name of its paired standby.
standby_of := object.get(input, ["coffer", "standby_of"], {})

# bucket_index maps a bucket name to its index in input.s3.buckets.
bucket_index := {b.name: i | some i, b in input.s3.buckets}

# peer_buckets are the buckets of other accounts paired with this account's in an organisation
# scan, by name: {"account_id", "role", "bucket"}. They are never in scope here (each bucket is
# judged in its own account); checks that compare a primary with its standby read them.
peer_buckets := object.get(input, ["coffer", "peer_buckets"], {})

# bucket_named(name) is the bucket of that name: this account's, else a peer's.
bucket_named(name) := input.s3.buckets[bucket_index[name]]

bucket_named(name) := peer_buckets[name].bucket if not bucket_index[name]

# region(b) is the bucket's region, with GetBucketLocation's legacy answers normalised.
region(b) := normal_region(object.get(b, "region", ""))

# normal_region(r) is a GetBucketLocation answer as a region name. Checks whose fast path depends on
# the region take it (b.region) rather than the bucket, so that their results are shared (see
# s3-bucket-kms-cmk).
normal_region(r) := "us-east-1" if r in {"", null}

normal_region(r) := "eu-west-1" if r == "EU"

normal_region(r) := r if not r in {"", null, "EU"}

# --- encryption -------------------------------------------------------------------------------

# encryption_algorithms are the default-encryption algorithms S3 accepts (SSE-S3, SSE-KMS, DSSE-KMS).
encryption_algorithms := {"AES256", "aws:kms", "aws:kms:dsse"}

kms_algorithms := {"aws:kms", "aws:kms:dsse"}

# encryption_kms_rules(encryption) are the rules of a default-encryption configuration that use KMS
# (SSE-KMS or DSSE-KMS). Helpers that take a configuration rather than the bucket are evaluated once
# per distinct configuration: OPA caches function results by argument, and the engine shares equal
# input values.
encryption_kms_rules(encryption) := [r |
	is_object(encryption)
	some r in object.get(encryption, "rules", [])
	r.algorithm in kms_algorithms
]

# kms_encrypted(b): new objects of the bucket are encrypted with a KMS key by default.
kms_encrypted(b) if count(encryption_kms_rules(b.encryption)) > 0

# kms_key_ref(rule) is the key a KMS encryption rule names ("" means the AWS managed aws/s3 key).
kms_key_ref(rule) := object.get(rule, "kms_key_id", "") if object.get(rule, "kms_key_id", "") != null

kms_key_ref(rule) := "" if object.get(rule, "kms_key_id", "") == null

# --- KMS key lookup ---------------------------------------------------------------------------

# regional(region, ref) is the key_index key of a region-relative reference (key id or alias name).
regional(region, ref) := concat("|", [region, ref])

# key_index maps every way a bucket or replication rule can name a key to the key's index in
# input.kms.keys: its ARN, its id (per region), each alias name (per region) and each alias ARN.
key_index := {ref: j |
	some j, k in input.kms.keys
	some ref in key_refs(k)
}

key_refs(k) := refs if {
	aliases := object.get(k, "aliases", [])
	alias_list := [a | is_array(aliases); some a in aliases]
	refs := {r |
		some r in array.concat(
			[k.arn, regional(k.region, k.id)],
			[f | some a in alias_list; some f in alias_forms(k, a)],
		)
	}
}

# alias_forms(k, a) are the region-relative name and the ARN of alias a of key k. The collector may
# give an alias as its name ("alias/backup") or as its ARN; both are accepted.
alias_forms(k, a) := [regional(k.region, name), a] if {
	startswith(a, "arn:")
	name := concat(":", array.slice(split(a, ":"), 5, 100))
}

alias_forms(k, a) := [regional(k.region, a), alias_arn(k, a)] if not startswith(a, "arn:")

# alias_arn(k, name) is the ARN of alias name in the account and region of key k.
alias_arn(k, name) := concat(":", array.concat(array.slice(split(k.arn, ":"), 0, 5), [name]))

# key_position(ref, region) is the index in input.kms.keys of the key that ref (a key id, key ARN,
# alias name or alias ARN, as S3 accepts them) names, resolved in region when ref is not an ARN.
# Undefined when the key is not in the snapshot.
key_position(ref, _) := key_index[ref] if startswith(ref, "arn:")

key_position(ref, region) := key_index[regional(region, ref)] if not startswith(ref, "arn:")

# lookup_key(ref, region) is the key ref names (see key_position).
lookup_key(ref, region) := input.kms.keys[key_position(ref, region)]

# aws_managed_ref(ref): ref is empty (S3 then uses aws/s3) or names an AWS managed alias (alias/aws/*).
aws_managed_ref(ref) if ref == ""

aws_managed_ref(ref) if startswith(ref, "alias/aws/")

aws_managed_ref(ref) if {
	startswith(ref, "arn:")
	contains(ref, ":alias/aws/")
}

# canonical_key(ref, region) is the key ARN ref resolves to, or ref itself when the key is unknown.
canonical_key(ref, region) := lookup_key(ref, region).arn

canonical_key(ref, region) := ref if not lookup_key(ref, region)

# missing_key_reason(ref, region) says why a key reference (resolved in region) is not in the snapshot.
missing_key_reason(ref, region) := sprintf("region %s was not collected", [key_region]) if {
	key_region := ref_region(ref, region)
	not key_region in object.get(input, "regions", [])
} else := sprintf("it belongs to account %s, which coffer cannot read", [owner]) if {
	startswith(ref, "arn:")
	owner := split(ref, ":")[4]
	owner != input.account.id
} else := "no such key or alias was found there"

ref_region(ref, _) := split(ref, ":")[3] if startswith(ref, "arn:")

ref_region(ref, region) := region if not startswith(ref, "arn:")

# --- lifecycle --------------------------------------------------------------------------------

# lifecycle_rules(b) are the bucket's lifecycle rules ([] when none are configured).
lifecycle_rules(b) := rules if {
	rules := object.get(b.lifecycle, "rules", [])
	is_array(rules)
} else := []

# whole_bucket(rule): the rule is not narrowed by prefix, tags or object size.
whole_bucket(rule) if object.get(rule, "filter", null) == null

whole_bucket(rule) if {
	f := object.get(rule, "filter", null)
	is_object(f)
	filter_empty(f)
}

filter_empty(f) if {
	object.get(f, "prefix", "") in {"", null}
	object.get(f, "tags", {}) in {{}, null}
	object.get(f, "object_size_greater_than", 0) in {0, null}
	object.get(f, "object_size_less_than", 0) in {0, null}
}

# enabled(rule): the rule's status is Enabled.
enabled(rule) if rule.status == "Enabled"

# effective(rule): an Enabled rule over the whole bucket; only such rules count for bucket-wide checks.
effective(rule) if {
	enabled(rule)
	whole_bucket(rule)
}

# scope_problem(rule) says, in words, why a rule does not count for the whole bucket.
scope_problem(rule) := "is disabled" if not enabled(rule)

scope_problem(rule) := sprintf("is limited to prefix %q", [rule.filter.prefix]) if {
	enabled(rule)
	not rule.filter.prefix in {"", null}
}

scope_problem(rule) := "is limited by object tags" if {
	enabled(rule)
	object.get(rule.filter, "prefix", "") in {"", null}
	not object.get(rule.filter, "tags", {}) in {{}, null}
}

scope_problem(rule) := "is limited by object size" if {
	enabled(rule)
	object.get(rule.filter, "prefix", "") in {"", null}
	object.get(rule.filter, "tags", {}) in {{}, null}
	not whole_bucket(rule)
}

# rule_name(rule) names a rule in a message ("rule \"archive\"").
rule_name(rule) := sprintf("rule %q", [rule.id]) if not object.get(rule, "id", "") in {"", null}

rule_name(rule) := "a rule without an ID" if object.get(rule, "id", "") in {"", null}
