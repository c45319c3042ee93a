package coffer.kms.key_rotation_test

import data.coffer.kms.key_rotation
import rego.v1

build_input(keys) := {"account": {"id": "123456789012", "partition": "aws"}, "kms": {"keys": keys}}

key(id, fields) := object.union(
	{
		"id": id, "arn": sprintf("arn:aws:kms:us-east-1:123456789012:key/%s", [id]), "region": "us-east-1",
		"state": "Enabled", "manager": "CUSTOMER", "spec": "SYMMETRIC_DEFAULT", "origin": "AWS_KMS",
		"rotation_enabled": true,
	},
	fields,
)

test_fail_rotation_off if {
	denies := key_rotation.deny with input as build_input([key("k1", {"rotation_enabled": false})])
	count(denies) == 1
	some d in denies
	d.resource == {"arn": "arn:aws:kms:us-east-1:123456789012:key/k1", "type": "AWS::KMS::Key", "name": "k1", "region": "us-east-1"}
}

test_pass_rotation_on if {
	inp := build_input([key("k1", {})])
	count(key_rotation.deny) == 0 with input as inp
	count(key_rotation.resources) == 1 with input as inp
}

test_pass_out_of_scope_keys if {
	inp := build_input([
		key("aws", {"manager": "AWS", "rotation_enabled": null}),
		key("rsa", {"spec": "RSA_2048", "rotation_enabled": null}),
		key("off", {"state": "Disabled", "rotation_enabled": null}),
		key("ext", {"origin": "EXTERNAL", "rotation_enabled": false}),
	])
	count(key_rotation.deny) == 0 with input as inp
	count(key_rotation.resources) == 0 with input as inp
}

test_pass_unreadable_is_left_to_errors if {
	inp := build_input([key("k1", {"rotation_enabled": null})])
	count(key_rotation.deny) == 0 with input as inp
	count(key_rotation.resources) == 1 with input as inp
}
