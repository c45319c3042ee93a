package coffer.cloudtrail.multi_region_test

import data.coffer.cloudtrail.multi_region
import rego.v1

build_input(trails) := {
	"account": {"id": "123456789012", "partition": "aws", "home_region": "us-east-1"},
	"cloudtrail": {"trails": trails},
}

trail(name, fields) := object.union(
	{
		"name": name, "arn": sprintf("arn:aws:cloudtrail:us-east-1:123456789012:trail/%s", [name]),
		"home_region": "us-east-1", "multi_region": true, "is_logging": true, "selectors_read": true,
		"event_selectors": [{"read_write_type": "All", "include_management_events": true, "data_resources": []}],
		"advanced_event_selectors": [],
	},
	fields,
)

advanced_management := {"name": "mgmt", "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}]}

test_pass_basic_selector if {
	inp := build_input([trail("main", {})])
	count(multi_region.deny) == 0 with input as inp
	count(multi_region.resources) == 1 with input as inp
}

test_pass_advanced_selector if {
	t := trail("main", {"event_selectors": [], "advanced_event_selectors": [advanced_management]})
	count(multi_region.deny) == 0 with input as build_input([t])
}

test_pass_advanced_read_and_write_pair if {
	read := {"field_selectors": [{"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "equals": ["true"]}]}
	write := {"field_selectors": [{"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "equals": ["false"]}]}
	t := trail("main", {"event_selectors": [], "advanced_event_selectors": [read, write]})
	count(multi_region.deny) == 0 with input as build_input([t])
}

test_fail_no_trail if {
	denies := multi_region.deny with input as build_input([])
	count(denies) == 1
	some d in denies
	d.vars == {}
	d.resource.type == "AWS::::Account"
}

test_fail_not_logging if {
	denies := multi_region.deny with input as build_input([trail("main", {"is_logging": false})])
	count(denies) == 1
	some d in denies
	d.vars == {
		"trail_name": "main", "trail_region": "us-east-1",
		"trail_arn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
		"multi_region": true, "logging": false,
	}
}

test_fail_single_region if {
	denies := multi_region.deny with input as build_input([trail("local", {"multi_region": false})])
	count(denies) == 1
	some d in denies
	d.vars.multi_region == false
}

test_fail_write_only_management_merges_selectors if {
	data_sel := {"read_write_type": "All", "include_management_events": false, "data_resources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::vault/"]}]}
	t := trail("main", {"event_selectors": [{"read_write_type": "WriteOnly", "include_management_events": true, "data_resources": []}, data_sel]})
	denies := multi_region.deny with input as build_input([t])
	count(denies) == 1
	some d in denies
	d.vars.selectors_flag == "--event-selectors"
	d.vars.selectors == [
		{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true, "DataResources": []},
		{"ReadWriteType": "All", "IncludeManagementEvents": false, "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::vault/"]}]},
		{"ReadWriteType": "All", "IncludeManagementEvents": true},
	]
}

test_fail_advanced_read_only_management if {
	sel := {"name": "ro", "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "equals": ["true"]}]}
	denies := multi_region.deny with input as build_input([trail("main", {"event_selectors": [], "advanced_event_selectors": [sel]})])
	count(denies) == 1
	some d in denies
	d.vars.selectors_flag == "--advanced-event-selectors"
	count(d.vars.selectors) == 2
	d.vars.selectors[0] == {"Name": "ro", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["true"]}]}
}

test_fail_selectors_not_read_do_not_count if {
	denies := multi_region.deny with input as build_input([trail("main", {"selectors_read": false, "event_selectors": []})])
	count(denies) == 1
	some d in denies
	not d.vars.selectors_flag
}

test_pass_one_good_trail_among_others if {
	count(multi_region.deny) == 0 with input as build_input([trail("local", {"multi_region": false, "is_logging": false}), trail("main", {})])
}
