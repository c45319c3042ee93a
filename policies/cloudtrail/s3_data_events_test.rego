package coffer.cloudtrail.s3_data_events_test

import data.coffer.cloudtrail.s3_data_events
import rego.v1

build_input(trails) := {
	"account": {"id": "123456789012", "partition": "aws", "home_region": "us-east-1"},
	"s3": {"buckets": [
		{"name": "vault", "arn": "arn:aws:s3:::vault", "region": "us-east-1"},
		{"name": "vault-standby", "arn": "arn:aws:s3:::vault-standby", "region": "eu-west-1"},
		{"name": "trail-logs", "arn": "arn:aws:s3:::trail-logs", "region": "us-east-1"},
	]},
	"coffer": {"roles": {"vault": "primary", "vault-standby": "standby", "trail-logs": "trail-logs"}},
	"cloudtrail": {"trails": trails},
}

trail(name, basic, advanced) := {
	"name": name, "arn": sprintf("arn:aws:cloudtrail:us-east-1:123456789012:trail/%s", [name]),
	"home_region": "us-east-1", "multi_region": true, "is_logging": true, "selectors_read": true,
	"event_selectors": basic, "advanced_event_selectors": advanced,
}

basic(rw, values) := {"read_write_type": rw, "include_management_events": true, "data_resources": [{"type": "AWS::S3::Object", "values": values}]}

advanced(extra) := {"name": "s3", "field_selectors": array.concat(
	[{"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::S3::Object"]}],
	extra,
)}

failing(inp) := {d.resource.name | some d in s3_data_events.deny with input as inp}

test_pass_basic_all_buckets_selector_covers_every_bucket if {
	inp := build_input([trail("main", [basic("All", ["arn:aws:s3"])], [])])
	count(s3_data_events.deny) == 0 with input as inp
	count(s3_data_events.resources) == 2 with input as inp
	count(s3_data_events.deny) == 0 with input as build_input([trail("main", [basic("All", ["arn:aws:s3:::"])], [])])
}

test_pass_advanced_all_buckets_selector if {
	count(s3_data_events.deny) == 0 with input as build_input([trail("main", [], [advanced([])])])
}

test_pass_basic_per_bucket_selectors if {
	inp := build_input([trail("main", [basic("All", ["arn:aws:s3:::vault/", "arn:aws:s3:::vault-standby/"])], [])])
	count(s3_data_events.deny) == 0 with input as inp
}

test_pass_advanced_starts_with if {
	sel := advanced([{"field": "resources.ARN", "starts_with": ["arn:aws:s3:::vault/", "arn:aws:s3:::vault-standby/"]}])
	count(s3_data_events.deny) == 0 with input as build_input([trail("main", [], [sel])])
}

test_pass_read_and_write_selectors if {
	inp := build_input([trail("main", [basic("ReadOnly", ["arn:aws:s3"]), basic("WriteOnly", ["arn:aws:s3"])], [])])
	count(s3_data_events.deny) == 0 with input as inp
	ro := advanced([{"field": "readOnly", "equals": ["true"]}])
	wo := advanced([{"field": "readOnly", "equals": ["false"]}])
	count(s3_data_events.deny) == 0 with input as build_input([trail("main", [], [ro, wo])])
}

test_fail_no_trail if {
	denies := s3_data_events.deny with input as build_input([])
	failing(build_input([])) == {"vault", "vault-standby"}
	some d in denies
	d.resource.name == "vault"
	not d.vars.trail_name
	d.vars.new_trail_selectors[1].FieldSelectors[2] == {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::vault/"]}
}

test_fail_trail_not_logging_covers_nothing if {
	t := object.union(trail("main", [basic("All", ["arn:aws:s3"])], []), {"is_logging": false})
	inp := build_input([t])
	failing(inp) == {"vault", "vault-standby"}
	some d in s3_data_events.deny with input as inp
	d.vars == {
		"trail_name": "main", "trail_region": "us-east-1",
		"trail_arn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main", "start_logging": true,
	}
}

test_fail_write_only if {
	inp := build_input([trail("main", [basic("WriteOnly", ["arn:aws:s3"])], [])])
	failing(inp) == {"vault", "vault-standby"}
	some d in s3_data_events.deny with input as inp
	contains(d.msg, "read S3 data events")
}

test_fail_other_bucket_only if {
	inp := build_input([trail("main", [basic("All", ["arn:aws:s3:::vault/"])], [])])
	failing(inp) == {"vault-standby"}
}

test_fail_narrow_prefix_is_not_the_whole_bucket if {
	inp := build_input([trail("main", [basic("All", ["arn:aws:s3:::vault/2024/", "arn:aws:s3:::vault-standby/"])], [])])
	failing(inp) == {"vault"}
}

test_fail_single_region_trail_covers_its_region_only if {
	t := object.union(trail("local", [basic("All", ["arn:aws:s3"])], []), {"multi_region": false})
	failing(build_input([t])) == {"vault-standby"}
}

test_fail_advanced_selector_with_exclusion_or_event_name if {
	excl := advanced([{"field": "resources.ARN", "not_starts_with": ["arn:aws:s3:::vault/"]}])
	failing(build_input([trail("main", [], [excl])])) == {"vault"}
	names := advanced([{"field": "eventName", "equals": ["PutObject"]}])
	failing(build_input([trail("main", [], [names])])) == {"vault", "vault-standby"}
}

test_fail_selectors_not_read_cover_nothing if {
	t := object.union(trail("main", [basic("All", ["arn:aws:s3"])], []), {"selectors_read": false})
	failing(build_input([t])) == {"vault", "vault-standby"}
}

test_pass_read_and_write_from_two_trails if {
	inp := build_input([
		trail("reads", [basic("ReadOnly", ["arn:aws:s3"])], []),
		trail("writes", [], [advanced([{"field": "readOnly", "equals": ["false"]}])]),
	])
	count(s3_data_events.deny) == 0 with input as inp
}

test_fail_prefers_logging_multi_region_trail if {
	local := object.union(trail("a-local", [], []), {"multi_region": false})
	off := object.union(trail("b-off", [], []), {"is_logging": false})
	inp := build_input([local, off, trail("c-main", [], [])])
	some d in s3_data_events.deny with input as inp
	d.resource.name == "vault"
	d.vars.trail_name == "c-main"
	d.vars.start_logging == false
}
