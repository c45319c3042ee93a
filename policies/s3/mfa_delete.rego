# METADATA
# title: Backup buckets require MFA to delete versions
# description: >-
#   With MFA Delete, permanently deleting an object version or suspending versioning needs the root
#   user's MFA code, so stolen access keys alone cannot destroy the backup history (workshop 6.1).
#   S3 refuses MFA Delete on a bucket with a lifecycle configuration, and lifecycle rules are
#   required here for archiving and hygiene, so the check is not applicable to, and passes for, any
#   bucket with lifecycle rules; Object Lock then protects the versions instead.
# custom:
#   id: s3-bucket-mfa-delete
#   severity: LOW
#   service: s3
#   resource_type: AWS::S3::Bucket
#   applies_to: backup buckets (primary, standby) without a lifecycle configuration
#   requires: ["s3:ListBuckets", "s3:GetBucketVersioning", "s3:GetBucketLifecycleConfiguration"]
#   frameworks:
#     cis-aws-3.0.0: ["2.1.2"]
#     aws-fsbp: ["S3.20"]
#     workshop: ["6.1"]
#   remediation:
#     summary: >-
#       As the root user, with the root MFA device, enable versioning with MFA Delete (only the root
#       user can; replace the device serial if yours differs and the code with the current one).
#     fix: manual
#     commands:
#       - aws s3api put-bucket-versioning --bucket {{.Resource.Name}} --region {{.Resource.Region}} --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa 'arn:{{.Partition}}:iam::{{.AccountID}}:mfa/root-account-mfa-device <MFA_CODE>'
package coffer.s3.mfa_delete

import data.lib.s3
import rego.v1

resources := s3.backup_bucket_resources

# Not applicable where a lifecycle configuration exists: S3 forbids MFA Delete there. Such a bucket
# stays in resources with no deny (PASS) and a note saying why, marked not_applicable so reports
# show n/a. A null versioning or lifecycle means it could not be read: the engine reports ERROR
# from input.errors, so neither is denied here.
notes contains {
	"resource": b.arn,
	"not_applicable": true,
	"msg": sprintf("Not applicable: bucket %s has a lifecycle configuration, and S3 does not allow MFA Delete together with lifecycle rules; Object Lock protects its versions instead.", [b.name]),
} if {
	some b in input.s3.buckets
	has_rules(b.lifecycle)
	role := object.get(s3.roles, b.name, "primary")
	role in s3.backup_roles
}

deny contains {
	"resource": s3.bucket_resource(b, role),
	"msg": sprintf("Bucket %s does not have MFA Delete enabled.", [b.name]),
	"evidence": {"path": sprintf("s3.buckets[%d].versioning.mfa_delete", [i]), "value": mfa_delete},
} if {
	some i, b in input.s3.buckets
	is_object(b.lifecycle)
	not has_rules(b.lifecycle)
	is_object(b.versioning)
	mfa_delete := object.get(b.versioning, "mfa_delete", "")
	mfa_delete != "Enabled"
	role := object.get(s3.roles, b.name, "primary")
	role in s3.backup_roles
}

# has_rules(lifecycle): the configuration has lifecycle rules. A function of the configuration alone,
# so that OPA evaluates it once per distinct configuration (see lib.s3).
has_rules(lifecycle) if {
	rules := object.get(lifecycle, "rules", [])
	is_array(rules)
	count(rules) > 0
}
