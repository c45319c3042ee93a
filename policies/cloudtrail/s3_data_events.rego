# METADATA
# title: Trails record S3 data events for every backup bucket
# description: >-
#   Object-level reads and writes of the backups (GetObject, PutObject, DeleteObject) are only in
#   CloudTrail as S3 data events. A backup bucket passes when trails that are logging record both
#   read and write data events for it (one trail for both, or one for each): a basic selector with a
#   DataResource AWS::S3::Object on "arn:aws:s3" / "arn:aws:s3:::" (all buckets) or a prefix of
#   "arn:aws:s3:::BUCKET/", ReadWriteType All (or ReadOnly plus WriteOnly); or an advanced selector
#   with eventCategory Equals Data, resources.type Equals AWS::S3::Object, optionally
#   resources.ARN StartsWith a prefix of the bucket's objects, and no readOnly restriction (or a
#   pair covering both). A single-region trail covers only buckets in its region; a trail that is
#   not logging, or whose selectors could not be read, covers nothing. Selectors that filter on other
#   fields (eventName, userIdentity.arn…) or exclude the bucket do not count.
# custom:
#   id: cloudtrail-s3-data-events
#   severity: MEDIUM
#   service: cloudtrail
#   resource_type: AWS::S3::Bucket
#   applies_to: backup buckets (primary, standby)
#   requires: ["s3:ListBuckets", "cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"]
#   frameworks:
#     cis-aws-3.0.0: ["3.8", "3.9"]
#     aws-fsbp: ["S3.22", "S3.23"]
#     workshop: ["6.4"]
#   matrix:
#     table: buckets
#     column: Data events
#     order: 90
#   remediation:
#     summary: >-
#       Add the bucket's objects (read and write) to the event selectors of a logging trail, keeping
#       the existing selectors; with no usable trail, create a multi-region one (its log bucket needs
#       a policy that lets CloudTrail write to it).
#     fix: auto
#     rewrites: trail-selectors
#     commands:
#       - |-
#         {{if .Vars.trail_name}}aws cloudtrail put-event-selectors --trail-name {{.Vars.trail_name}} --region {{.Vars.trail_region}} {{dataEventSelectorArgs .Vars.trail_arn .Resource.Name}}{{if .Vars.start_logging}}
#         aws cloudtrail start-logging --name {{.Vars.trail_name}} --region {{.Vars.trail_region}}{{end}}{{else}}aws cloudtrail create-trail --name {{.Fix.TrailName}} --s3-bucket-name {{.Fix.TrailBucket}} --is-multi-region-trail --enable-log-file-validation --region {{.Resource.Region}}
#         aws cloudtrail put-event-selectors --trail-name {{.Fix.TrailName}} --region {{.Resource.Region}} --advanced-event-selectors {{tojson .Vars.new_trail_selectors}}
#         aws cloudtrail start-logging --name {{.Fix.TrailName}} --region {{.Resource.Region}}{{end}}
package coffer.cloudtrail.s3_data_events

import data.lib.resource
import rego.v1

trails := object.get(input, ["cloudtrail", "trails"], [])

s3_prefix := sprintf("arn:%s:s3:::", [resource.partition])

# region_scope(t) is "*" for a multi-region trail, else the trail's home region.
region_scope(t) := "*" if t.multi_region == true
else := t.home_region

logging(t) if {
	t.is_logging == true
	t.selectors_read == true
}

# ---------------------------------------------------------------------------------------------------
# What each logging trail covers, as entries {kind, value, region, mode}:
#   kind "all"     every bucket;
#   kind "exact"   the bucket named value (selector value "arn:aws:s3:::NAME/");
#   kind "generic" value is {"starts": [prefixes] | null, "excludes": [prefixes]}, judged per bucket.
# mode is "read" or "write".

entries contains entry if {
	some t in trails
	logging(t)
	some s in object.get(t, "event_selectors", [])
	some d in object.get(s, "data_resources", [])
	d.type == "AWS::S3::Object"
	some v in d.values
	some mode in basic_modes[s.read_write_type]
	entry := prefix_entry(v, region_scope(t), mode)
}

entries contains entry if {
	some t in trails
	logging(t)
	some a in object.get(t, "advanced_event_selectors", [])
	s3_data_selector(a)
	rule := arn_rule(a)
	some mode in advanced_modes(a)
	some entry in rule_entries(rule, region_scope(t), mode)
}

basic_modes := {"All": {"read", "write"}, "ReadOnly": {"read"}, "WriteOnly": {"write"}}

# prefix_entry classifies one object-ARN prefix.
prefix_entry(v, region, mode) := {"kind": "all", "value": "", "region": region, "mode": mode} if {
	startswith(s3_prefix, v)
	startswith(v, "arn:")
} else := {"kind": "exact", "value": name, "region": region, "mode": mode} if {
	startswith(v, s3_prefix)
	endswith(v, "/")
	name := trim_suffix(trim_prefix(v, s3_prefix), "/")
	name != ""
	not contains(name, "/")
} else := {"kind": "generic", "value": {"starts": [v], "excludes": []}, "region": region, "mode": mode}

rule_entries(rule, region, mode) := {prefix_entry(v, region, mode) | some v in rule.starts} if {
	is_array(rule.starts)
	count(rule.excludes) == 0
} else := {{"kind": "all", "value": "", "region": region, "mode": mode}} if {
	rule.starts == null
	count(rule.excludes) == 0
} else := {{"kind": "generic", "value": rule, "region": region, "mode": mode}}

# s3_data_selector(a) holds for an advanced selector of every S3 object data event: eventCategory
# Data, resources.type AWS::S3::Object, and no field other than resources.ARN and readOnly.
s3_data_selector(a) if {
	some c in a.field_selectors
	c.field == "eventCategory"
	"Data" in object.get(c, "equals", [])
	some r in a.field_selectors
	r.field == "resources.type"
	"AWS::S3::Object" in object.get(r, "equals", [])
	every f in a.field_selectors {
		f.field in {"eventCategory", "resources.type", "resources.ARN", "readOnly"}
	}
	usable_arn_fields(a)
}

# usable_arn_fields(a): resources.ARN may use StartsWith and the negative operators; Equals and
# EndsWith select single objects, which never cover a whole bucket.
usable_arn_fields(a) if {
	every f in a.field_selectors {
		arn_field_usable(f)
	}
}

arn_field_usable(f) if f.field != "resources.ARN"

arn_field_usable(f) if {
	f.field == "resources.ARN"
	count(object.get(f, "equals", [])) == 0
	count(object.get(f, "ends_with", [])) == 0
}

# arn_rule(a) is {"starts": StartsWith prefixes (null when unrestricted), "excludes": prefixes of
# NotStartsWith and values of NotEquals / NotEndsWith, which exclude what they touch}.
arn_rule(a) := {
	"starts": starts,
	"excludes": [v |
		some f in a.field_selectors
		f.field == "resources.ARN"
		some op in ["not_starts_with", "not_equals", "not_ends_with"]
		some v in object.get(f, op, [])
	],
} if {
	starts_lists := [object.get(f, "starts_with", []) | some f in a.field_selectors; f.field == "resources.ARN"; count(object.get(f, "starts_with", [])) > 0]
	starts := starts_of(starts_lists)
}

starts_of(lists) := null if count(lists) == 0
else := [v | some l in lists; some v in l]

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

# ---------------------------------------------------------------------------------------------------
# Per bucket: set lookups for "all" and "exact" entries; only the rare generic entries are scanned.

all_set := {[e.region, e.mode] | some e in entries; e.kind == "all"}

exact_set := {[e.value, e.region, e.mode] | some e in entries; e.kind == "exact"}

generic_entries := [e | some e in entries; e.kind == "generic"]

# backup_regions are the regions of the backup buckets.
backup_regions := {input.s3.buckets[i].region | some i in resource.backup_buckets}

# region_modes[r] is what the all-buckets selectors record for buckets in region r.
region_modes := {r: {m | some [scope, m] in all_set; scope in {"*", r}} | some r in backup_regions}

# modes(b) is what is recorded for the bucket: the all-buckets selectors of its region (enough on
# their own in the common case), plus selectors naming it, plus the generic ones.
modes(b) := region_modes[b.region] if {
	count(region_modes[b.region]) == 2
} else := (region_modes[b.region] | {m |
	some m in {"read", "write"}
	some r in {"*", b.region}
	[b.name, r, m] in exact_set
}) | {e.mode |
	some e in generic_entries
	e.region in {"*", b.region}
	generic_covers(e.value, b)
}

generic_covers(rule, b) if {
	object_prefix := concat("", [b.arn, "/"])
	starts_ok(rule.starts, object_prefix)
	not excluded(rule.excludes, object_prefix)
}

starts_ok(null, _)

starts_ok(starts, object_prefix) if {
	some v in starts
	startswith(object_prefix, v)
}

excluded(excludes, object_prefix) if {
	some v in excludes
	startswith(object_prefix, v)
}

excluded(excludes, object_prefix) if {
	some v in excludes
	startswith(v, object_prefix)
}

# ---------------------------------------------------------------------------------------------------
# Findings

resources contains input.s3.buckets[i].arn if some i in resource.backup_buckets

deny contains {
	"resource": resource.bucket(b),
	"msg": sprintf("No logging trail records %s S3 data events for bucket %s.", [missing_label(got), b.name]),
	"evidence": {"path": "cloudtrail.trails", "value": {"bucket": b.name, "recorded": sort(got)}},
	"vars": fix_vars(b),
} if {
	some i in resource.backup_buckets
	b := input.s3.buckets[i]
	got := modes(b)
	count(got) < 2
}

missing_label(got) := "read or write" if {
	count(got) == 0
} else := "write" if {
	"read" in got
} else := "read"

own(t) if split(t.arn, ":")[4] == resource.account_id

# best_trail_arn[region] is the trail to extend for buckets of that region: an own trail whose
# selectors were read and that covers the region, preferring logging, then multi-region, then name.
best_trail_arn := {region: ranked[0][3] |
	some region in backup_regions
	ranked := sort([[not_logging_rank(t), single_region_rank(t), t.name, t.arn] |
		some t in trails
		own(t)
		t.selectors_read == true
		region_scope(t) in {"*", region}
	])
	count(ranked) > 0
}

not_logging_rank(t) := 0 if t.is_logging == true
else := 1

single_region_rank(t) := 0 if t.multi_region == true
else := 1

# trail_vars[r] are the vars naming the trail to extend for buckets of region r.
trail_vars := {r: {
	"trail_name": t.name, "trail_region": t.home_region, "trail_arn": t.arn,
	"start_logging": t.is_logging != true,
} |
	some r, arn in best_trail_arn
	some t in trails
	t.arn == arn
}

fix_vars(b) := v if {
	v := trail_vars[b.region]
} else := {"new_trail_selectors": [
	{"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
	{"Name": sprintf("S3 data events for %s", [b.name]), "FieldSelectors": [
		{"Field": "eventCategory", "Equals": ["Data"]},
		{"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
		{"Field": "resources.ARN", "StartsWith": [concat("", [b.arn, "/"])]},
	]},
]}
