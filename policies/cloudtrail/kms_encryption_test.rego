package coffer.cloudtrail.kms_encryption_test

import data.coffer.cloudtrail.kms_encryption
import rego.v1

cmk_arn := "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111"

aws_key_arn := "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222"

build_input(key_id) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"cloudtrail": {"trails": [{
		"name": "main", "arn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
		"home_region": "us-east-1", "kms_key_id": key_id,
	}]},
	"kms": {"keys": [
		{"id": "11111111-1111-1111-1111-111111111111", "arn": cmk_arn, "region": "us-east-1", "manager": "CUSTOMER", "aliases": ["alias/trail"]},
		{"id": "22222222-2222-2222-2222-222222222222", "arn": aws_key_arn, "region": "us-east-1", "manager": "AWS", "aliases": ["alias/aws/s3"]},
	]},
}

test_fail_no_key if {
	denies := kms_encryption.deny with input as build_input("")
	count(denies) == 1
	some d in denies
	d.evidence.path == "cloudtrail.trails[0].kms_key_id"
}

test_fail_aws_managed_key if {
	denies := kms_encryption.deny with input as build_input("arn:aws:kms:us-east-1:123456789012:alias/aws/s3")
	count(denies) == 1
	some d in denies
	contains(d.msg, "aws-managed")
}

test_pass_customer_key if {
	count(kms_encryption.deny) == 0 with input as build_input(cmk_arn)
	count(kms_encryption.resources) == 1 with input as build_input(cmk_arn)
}

test_pass_key_in_another_account if {
	count(kms_encryption.deny) == 0 with input as build_input("arn:aws:kms:us-east-1:999999999999:key/33333333-3333-3333-3333-333333333333")
}
