# METADATA
# title: A multi-region trail logs read and write management events
# description: >-
#   At least one trail must be multi-region, logging, and record management events, read and write
#   (a basic selector with IncludeManagementEvents and ReadWriteType All, or ReadOnly plus WriteOnly;
#   or an advanced selector on eventCategory Management without a readOnly restriction, or a pair
#   covering both). Otherwise changes to buckets, keys and policies in some region go unrecorded. A
#   trail whose status or selectors could not be read does not count.
# custom:
#   id: cloudtrail-multi-region
#   severity: HIGH
#   service: cloudtrail
#   resource_type: AWS::::Account
#   applies_to: account
#   requires: ["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"]
#   frameworks:
#     cis-aws-3.0.0: ["3.1"]
#     aws-fsbp: ["CloudTrail.1"]
#     workshop: ["6.4"]
#   remediation:
#     summary: >-
#       Make the trail multi-region, add a read/write management-event selector (existing selectors are
#       kept) and start logging; with no trail, create one (the log bucket needs a policy that lets
#       CloudTrail write to it).
#     fix: auto
#     rewrites: trail-selectors
#     commands:
#       - |-
#         {{if .Vars.trail_name}}{{if not .Vars.multi_region}}aws cloudtrail update-trail --name {{.Vars.trail_name}} --region {{.Vars.trail_region}} --is-multi-region-trail
#         {{end}}{{if .Vars.selectors_flag}}aws cloudtrail put-event-selectors --trail-name {{.Vars.trail_name}} --region {{.Vars.trail_region}} {{trailSelectorArgs .Vars.trail_arn}}
#         {{end}}{{if not .Vars.logging}}aws cloudtrail start-logging --name {{.Vars.trail_name}} --region {{.Vars.trail_region}}
#         {{end}}{{else}}aws cloudtrail create-trail --name {{.Fix.TrailName}} --s3-bucket-name {{.Fix.TrailBucket}} --is-multi-region-trail --enable-log-file-validation --region {{.Resource.Region}}
#         aws cloudtrail start-logging --name {{.Fix.TrailName}} --region {{.Resource.Region}}{{end}}
package coffer.cloudtrail.multi_region

import data.lib.resource
import rego.v1

trails := object.get(input, ["cloudtrail", "trails"], [])

resources contains resource.account if input.account.id

# compliant(t) holds for a multi-region trail that is logging and records read and write
# management events.
compliant(t) if {
	t.multi_region == true
	t.is_logging == true
	records_management(t)
}

records_management(t) if {
	t.selectors_read == true
	modes := management_modes(t)
	"read" in modes
	"write" in modes
}

# management_modes(t) is the set of management event kinds ("read", "write") the trail records.
management_modes(t) := {m |
	some s in object.get(t, "event_selectors", [])
	s.include_management_events == true
	some m in basic_modes[s.read_write_type]
} | {m |
	some a in object.get(t, "advanced_event_selectors", [])
	management_selector(a)
	some m in advanced_modes(a)
}

basic_modes := {"All": {"read", "write"}, "ReadOnly": {"read"}, "WriteOnly": {"write"}}

# management_selector(a) holds for an advanced selector on every management event: eventCategory
# Equals Management and no other field than readOnly (an eventSource exclusion drops events).
management_selector(a) if {
	some f in a.field_selectors
	f.field == "eventCategory"
	"Management" in object.get(f, "equals", [])
	every g in a.field_selectors {
		g.field in {"eventCategory", "readOnly"}
	}
}

# advanced_modes(a) is what the selector's readOnly field lets through (both without one).
advanced_modes(a) := {"read", "write"} if {
	not has_read_only_field(a)
} else := {m |
	some f in a.field_selectors
	f.field == "readOnly"
	some m in read_only_modes(f)
}

has_read_only_field(a) if {
	some f in a.field_selectors
	f.field == "readOnly"
}

read_only_modes(f) := {m |
	some v in object.get(f, "equals", [])
	m := {"true": "read", "false": "write"}[lower(v)]
} | {m |
	some v in object.get(f, "not_equals", [])
	m := {"true": "write", "false": "read"}[lower(v)]
}

deny contains {
	"resource": resource.account,
	"msg": sprintf("Account %s has no multi-region trail that is logging and records read and write management events%s.", [resource.account_id, trail_note]),
	"evidence": {"path": "cloudtrail.trails", "value": [summary(t) | some t in trails]},
	"vars": fix_vars,
} if {
	not any_compliant
}

any_compliant if {
	some t in trails
	compliant(t)
}

trail_note := "" if count(trails) == 0
else := sprintf(" (trails: %s)", [concat(", ", sort([t.name | some t in trails]))])

summary(t) := {
	"name": t.name,
	"multi_region": t.multi_region,
	"is_logging": object.get(t, "is_logging", null),
	"selectors_read": object.get(t, "selectors_read", false),
	"management_events": sort(management_modes(t)),
}

own(t) if split(t.arn, ":")[4] == resource.account_id

# best is the trail to repair: an own trail, preferring multi-region, then logging, then by name.
best := sorted[0][4] if {
	sorted := sort([[own_rank(t), multi_rank(t), logging_rank(t), t.name, t.arn] | some t in trails])
	count(sorted) > 0
}

own_rank(t) := 0 if own(t)
else := 1

multi_rank(t) := 0 if t.multi_region == true
else := 1

logging_rank(t) := 0 if t.is_logging == true
else := 1

best_trail := t if {
	some t in trails
	t.arn == best
}

fix_vars := {} if not best_trail
else := object.union(
	{
		"trail_name": best_trail.name, "trail_region": best_trail.home_region, "trail_arn": best_trail.arn,
		"multi_region": best_trail.multi_region == true, "logging": best_trail.is_logging == true,
	},
	selector_vars(best_trail),
)

# selector_vars(t) are the selectors to put on the trail when it does not record management events:
# its existing selectors plus a read/write management one, in the form the CLI takes. Nothing when
# the selectors could not be read: they cannot be merged, and putting ours would drop them.
selector_vars(t) := {} if records_management(t)
else := {} if t.selectors_read != true
else := {"selectors_flag": "--advanced-event-selectors", "selectors": array.concat(
	[advanced_cli(a) | some a in t.advanced_event_selectors],
	[{"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}],
)} if {
	count(object.get(t, "advanced_event_selectors", [])) > 0
}
else := {"selectors_flag": "--event-selectors", "selectors": array.concat(
	[basic_cli(s) | some s in object.get(t, "event_selectors", [])],
	[{"ReadWriteType": "All", "IncludeManagementEvents": true}],
)}

basic_cli(s) := {
	"ReadWriteType": s.read_write_type,
	"IncludeManagementEvents": s.include_management_events,
	"DataResources": [{"Type": d.type, "Values": d.values} | some d in object.get(s, "data_resources", [])],
}

advanced_cli(a) := object.union(
	{"FieldSelectors": [field_cli(f) | some f in a.field_selectors]},
	{"Name": a.name | object.get(a, "name", "") != ""},
)

field_cli(f) := object.union({"Field": f.field}, {cli: f[k] |
	some k, cli in {
		"equals": "Equals", "starts_with": "StartsWith", "ends_with": "EndsWith",
		"not_equals": "NotEquals", "not_starts_with": "NotStartsWith", "not_ends_with": "NotEndsWith",
	}
	count(object.get(f, k, [])) > 0
})
