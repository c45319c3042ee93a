# METADATA
# title: Buckets deny requests without TLS
# description: >-
#   A bucket policy statement that denies every request with aws:SecureTransport false, on the bucket
#   and on its objects, makes S3 refuse plain-HTTP access, so credentials and backup data never cross
#   the network unencrypted. The statement must Deny s3:* (or *) to every principal, on the bucket ARN
#   and on all its objects (separate statements may cover the two), with Bool aws:SecureTransport
#   false as its only condition. A policy coffer cannot parse is reported, never assumed compliant.
# custom:
#   id: s3-bucket-tls-only
#   severity: MEDIUM
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: all buckets
#   requires: ["s3:ListBuckets", "s3:GetBucketPolicy"]
#   frameworks:
#     cis-aws-3.0.0: ["2.1.1"]
#     aws-fsbp: ["S3.5"]
#     workshop: ["6.2"]
#   matrix:
#     table: buckets
#     column: TLS only
#     order: 20
#   remediation:
#     summary: >-
#       Add a statement denying s3:* when aws:SecureTransport is false, on the bucket and its objects,
#       to the bucket policy, keeping every existing statement.
#     fix: auto
#     commands:
#       - aws s3api put-bucket-policy --bucket {{.Resource.Name}} --region {{.Resource.Region}} --policy {{tlsPolicy .Bucket}}
package coffer.s3.tls_only

import data.lib.s3
import rego.v1

resources := s3.all_bucket_resources

# A null policy means GetBucketPolicy failed: the engine reports ERROR from input.errors.
deny contains {
	"resource": s3.bucket_resource(b, role),
	"msg": problem.msg,
	"evidence": {"path": sprintf("s3.buckets[%d].%s", [i, problem.path]), "value": problem.value},
} if {
	some i, b in input.s3.buckets
	is_object(b.policy)
	not tls_enforced(b)
	role := object.get(s3.roles, b.name, "primary")
	role != "ignore"
	problem := policy_problem(b, b.policy)
}

policy_problem(b, p) := {
	"msg": sprintf("Bucket %s has a bucket policy coffer could not parse (%s), so it cannot confirm that requests without TLS are denied.", [b.name, p.parse_error]),
	"path": "policy.parse_error",
	"value": p.parse_error,
} if {
	not object.get(p, "parse_error", "") in {"", null}
} else := {
	"msg": sprintf("Bucket %s has no bucket policy, so requests without TLS are not denied.", [b.name]),
	"path": "policy.text",
	"value": object.get(p, "text", ""),
} if {
	object.get(p, "document", null) == null
	object.get(p, "text", "") in {"", null}
} else := {
	"msg": sprintf("Bucket %s has a bucket policy coffer could not read, so it cannot confirm that requests without TLS are denied.", [b.name]),
	"path": "policy.document",
	"value": null,
} if {
	object.get(p, "document", null) == null
} else := {
	"msg": sprintf("Bucket %s has a bucket policy that does not deny requests without TLS (aws:SecureTransport false) for %s.", [b.name, concat(" and ", uncovered)]),
	"path": "policy.document.statements",
	"value": statements,
} if {
	statements := object.get(p.document, "statements", [])
	tls_statements := [st | some st in statements; tls_deny(st)]
	uncovered := [what |
		some [what, target] in [["the bucket", b.arn], ["its objects", concat("", [b.arn, "/*"])]]
		not covered(tls_statements, target)
	]
	count(uncovered) > 0
}

# tls_enforced(b) is the fast path for the common compliant bucket, checked before anything
# allocates much: one statement in the usual form covers the bucket and its objects. Other forms
# (split statements, wildcards, "*" actions) go through policy_problem.
tls_enforced(b) if {
	some st in b.policy.document.statements
	st.condition == {"Bool": {"aws:securetransport": ["false"]}}
	st.effect == "Deny"
	st.principal == {"AWS": ["*"]}
	"s3:*" in st.action
	b.arn in st.resource
	concat("", [b.arn, "/*"]) in st.resource
	not st.not_principal
	not st.not_action
	not st.not_resource
}

# tls_deny(st): st denies all S3 actions to every principal when the request is not over TLS, and
# nothing narrows it (no NotPrincipal, NotAction or NotResource, no other condition).
tls_deny(st) if {
	st.effect == "Deny"
	"*" in object.get(st, ["principal", "AWS"], [])
	count(object.get(st, "not_principal", {})) == 0
	count(object.get(st, "not_action", [])) == 0
	count(object.get(st, "not_resource", [])) == 0
	some a in st.action
	lower(a) in {"*", "s3:*"}
	insecure_transport_only(st.condition)
}

insecure_transport_only(condition) if {
	count(condition) == 1
	some op, keys in condition
	op in {"Bool", "BoolIfExists"}
	count(keys) == 1
	some v in keys["aws:securetransport"]
	lower(v) == "false"
}

# covered(statements, target): a Resource of one of the statements matches every ARN target does.
covered(statements, target) if {
	some st in statements
	some pattern in st.resource
	pattern_covers(pattern, target)
}

# pattern_covers(pattern, target) is exact for the patterns used in practice: the same ARN, or a
# wildcard-free prefix ending in "*" ("*", "arn:aws:s3:::*", "arn:aws:s3:::b*", "arn:aws:s3:::b/*").
pattern_covers(pattern, target) if pattern == target

pattern_covers(pattern, target) if {
	endswith(pattern, "*")
	prefix := trim_suffix(pattern, "*")
	not contains(prefix, "*")
	not contains(prefix, "?")
	startswith(target, prefix)
}
