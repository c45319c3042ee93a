package coffer.cloudtrail.log_validation_test

import data.coffer.cloudtrail.log_validation
import rego.v1

build_input(validation) := {
	"account": {"id": "123456789012", "partition": "aws"},
	"cloudtrail": {"trails": [{
		"name": "main", "arn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
		"home_region": "us-east-1", "log_file_validation": validation,
	}]},
}

test_fail_validation_off if {
	denies := log_validation.deny with input as build_input(false)
	count(denies) == 1
	some d in denies
	d.resource == {"arn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main", "type": "AWS::CloudTrail::Trail", "name": "main", "region": "us-east-1"}
}

test_pass_validation_on if {
	count(log_validation.deny) == 0 with input as build_input(true)
	count(log_validation.resources) == 1 with input as build_input(true)
}
