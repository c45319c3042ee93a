# Package lib.resource builds the resource objects that checks put in `resources` and `deny`, and
# answers which buckets are in scope for which role.
package lib.resource

import rego.v1

account_id := input.account.id

partition := object.get(input.account, "partition", "aws")

# The engine precomputes every bucket's role and the scope index sets once per scan
# (input.coffer.roles, input.coffer.scopes): a Rego function call per bucket per check is what made
# 10,000-bucket accounts slow. The computed fallbacks serve unit tests whose input lacks them.
#
# A resource may also be given as the ARN of a resource in the snapshot (the engine completes it):
# checks over every bucket do so in `resources`, where thousands of objects would cost time.

role(bucket) := input.coffer.roles[bucket.name]

role(bucket) := "primary" if not input.coffer.roles[bucket.name]

backup_roles := {"primary", "standby"}

# bucket(b) is the resource object of a bucket.
bucket(b) := {"arn": b.arn, "type": "AWS::S3::Bucket", "name": b.name, "region": b.region, "role": role(b)}

# account is the resource object of the account itself (for account-wide checks).
account := {
	"arn": sprintf("arn:%s:iam::%s:root", [partition, account_id]),
	"type": "AWS::::Account",
	"name": account_id,
	"region": object.get(input.account, "home_region", "global"),
}

user(u) := {"arn": u.arn, "type": "AWS::IAM::User", "name": u.name, "region": "global"}

group(g) := {"arn": g.arn, "type": "AWS::IAM::Group", "name": g.name, "region": "global"}

role_resource(r) := {"arn": r.arn, "type": "AWS::IAM::Role", "name": r.name, "region": "global"}

policy(p) := {"arn": p.arn, "type": "AWS::IAM::Policy", "name": p.name, "region": "global"}

key(k) := {"arn": k.arn, "type": "AWS::KMS::Key", "name": k.id, "region": k.region}

trail(t) := {"arn": t.arn, "type": "AWS::CloudTrail::Trail", "name": t.name, "region": t.home_region}

# buckets_in_scope are the indexes of buckets whose role is not "ignore".
buckets_in_scope := s if {
	all := input.coffer.scopes.all
	s := {i | some i in all}
} else := {i | some i, b in input.s3.buckets; role(b) != "ignore"}

# backup_buckets are the indexes of primary and standby buckets.
backup_buckets := s if {
	backup := input.coffer.scopes.backup
	s := {i | some i in backup}
} else := {i | some i, b in input.s3.buckets; role(b) in backup_roles}

# buckets_with_role[r] are the indexes of the buckets with role r.
buckets_with_role(r) := s if {
	input.coffer.scopes
	indexes := object.get(input.coffer.scopes, r, [])
	s := {i | some i in indexes}
} else := {i | some i, b in input.s3.buckets; role(b) == r}
