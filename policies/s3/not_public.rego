# METADATA
# title: Buckets are not public
# description: >-
#   A bucket policy statement that allows everyone (Principal "*" or {"AWS": "*"}) without a condition
#   pinning it to fixed values of aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn,
#   aws:SourceAccount, aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:userid or a narrow
#   aws:SourceIp (/8 or narrower) makes the bucket public, as does an ACL grant to AllUsers or
#   AuthenticatedUsers. Backups and trail logs must never be readable or writable by the world.
#   A bucket policy that cannot be parsed cannot be shown to be private and fails too.
# custom:
#   id: s3-bucket-not-public
#   severity: CRITICAL
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: all buckets (except role ignore)
#   requires: ["s3:ListBuckets", "s3:GetBucketPolicy", "s3:GetBucketAcl"]
#   frameworks:
#     cis-aws-3.0.0: []
#     aws-fsbp: ["S3.2", "S3.3"]
#     workshop: ["6.2"]
#   matrix:
#     table: buckets
#     column: Public access
#     order: 11
#   remediation:
#     summary: >-
#       Remove or narrow the public statements of the bucket policy (name the principals, or add a
#       condition on aws:PrincipalOrgID or aws:SourceVpce), reset a public ACL to private, and turn on
#       Block Public Access for the bucket.
#     fix: manual
#     commands:
#       - aws s3api get-bucket-policy --bucket {{.Resource.Name}} --query Policy --output text > {{.Resource.Name}}-policy.json
#       - "{{if .Vars.public_statements}}aws s3api put-bucket-policy --bucket {{.Resource.Name}} --policy file://{{.Resource.Name}}-policy.json{{end}}"
#       - "{{if .Vars.public_grants}}aws s3api put-bucket-acl --bucket {{.Resource.Name}} --acl private{{end}}"
#       - aws s3api put-public-access-block --bucket {{.Resource.Name}} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
package coffer.s3.not_public

import data.lib.iam
import data.lib.resource
import rego.v1

resources contains input.s3.buckets[i].arn if some i in resource.buckets_in_scope

# public_buckets are the indexes of the buckets with a public statement or grant. Only these build
# the lists and messages below: on a large account almost no bucket is public.
public_buckets contains i if {
	some i in resource.buckets_in_scope
	# A direct reference rather than iam.statements: undefined (no statements) for a missing or
	# unparsed policy, and no function call per bucket.
	some s in input.s3.buckets[i].policy.document.statements
	s.effect == "Allow" # cheap filter before the function call: most bucket statements are Denies
	iam.is_public_s3(s)
}

public_buckets contains i if {
	some i in resource.buckets_in_scope
	count(public_grant_list(object.get(input.s3.buckets[i], "acl", null))) > 0
}

# public_statements(i) are the indexes of the public statements of bucket i's policy.
public_statements(i) := [j |
	some j, s in iam.statements(input.s3.buckets[i].policy)
	s.effect == "Allow"
	iam.is_public_s3(s)
]

# public_grants(i) are the ACL grants of bucket i to AllUsers or AuthenticatedUsers.
public_grants(i) := public_grant_list(object.get(input.s3.buckets[i], "acl", null))

# public_grant_list(acl) takes the ACL, not the bucket, so that OPA evaluates it once per distinct
# ACL (the engine shares equal input values, and most buckets have the same owner-only ACL).
public_grant_list(acl) := [g |
	some g in object.get(acl, "grants", [])
	iam.is_public_grant(g)
] if is_object(acl)
else := []

deny contains {
	"resource": resource.bucket(b),
	"msg": sprintf("Bucket %s is public: %s.", [b.name, concat(" and ", reasons)]),
	"evidence": evidence(i),
	"vars": {"public_statements": public_statements(i), "public_grants": public_grants(i)},
} if {
	some i in public_buckets
	b := input.s3.buckets[i]
	reasons := array.concat(policy_reasons(i), acl_reasons(i))
}

# An unparsable policy is reported on its own: it cannot be shown to be private.
deny contains {
	"resource": resource.bucket(b),
	"msg": sprintf("Bucket %s has a bucket policy that could not be parsed (%s), so it cannot be shown not to be public.", [b.name, b.policy.parse_error]),
	"evidence": {"path": sprintf("s3.buckets[%d].policy.parse_error", [i]), "value": b.policy.parse_error},
} if {
	some i in resource.buckets_in_scope
	b := input.s3.buckets[i]
	b.policy.parse_error != "" # iam.unparsed, inline: a function call per bucket costs
}

policy_reasons(i) := [sprintf("its policy allows everyone in %s", [concat(", ", labels)])] if {
	count(public_statements(i)) > 0
	stmts := iam.statements(input.s3.buckets[i].policy)
	labels := [statement_label(j, stmts[j]) | some j in public_statements(i)]
} else := []

acl_reasons(i) := [sprintf("its ACL grants %s", [concat(", ", labels)])] if {
	count(public_grants(i)) > 0
	labels := [sprintf("%s to %s", [g.permission, group_name(g.uri)]) | some g in public_grants(i)]
} else := []

statement_label(j, s) := sprintf("statement %q", [s.sid]) if object.get(s, "sid", "") != ""
else := sprintf("statement %d", [j])

group_name(uri) := parts[count(parts) - 1] if parts := split(uri, "/")

evidence(i) := {"path": sprintf("s3.buckets[%d].policy.document.statements", [i]), "value": [stmts[j] | some j in public_statements(i)]} if {
	count(public_grants(i)) == 0
	stmts := iam.statements(input.s3.buckets[i].policy)
}

evidence(i) := {"path": sprintf("s3.buckets[%d].acl.grants", [i]), "value": public_grants(i)} if {
	count(public_statements(i)) == 0
}

evidence(i) := {"path": sprintf("s3.buckets[%d]", [i]), "value": {
	"policy_statements": [stmts[j] | some j in public_statements(i)],
	"acl_grants": public_grants(i),
}} if {
	count(public_statements(i)) > 0
	count(public_grants(i)) > 0
	stmts := iam.statements(input.s3.buckets[i].policy)
}
