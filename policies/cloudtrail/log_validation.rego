# METADATA
# title: Trails validate their log files
# description: >-
#   Log file validation writes signed digest files, so anyone who later edits or deletes a log file
#   to hide what happened to the backups can be caught (aws cloudtrail validate-logs).
# custom:
#   id: cloudtrail-log-validation
#   severity: MEDIUM
#   service: cloudtrail
#   resource_type: AWS::CloudTrail::Trail
#   applies_to: trails
#   requires: ["cloudtrail:DescribeTrails"]
#   frameworks:
#     cis-aws-3.0.0: ["3.2"]
#     aws-fsbp: ["CloudTrail.4"]
#     workshop: ["6.4"]
#   remediation:
#     summary: Turn on log file validation for the trail.
#     fix: auto
#     commands:
#       - aws cloudtrail update-trail --name {{.Resource.Name}} --region {{.Resource.Region}} --enable-log-file-validation
package coffer.cloudtrail.log_validation

import data.lib.resource
import rego.v1

resources contains resource.trail(t) if some t in input.cloudtrail.trails

deny contains {
	"resource": resource.trail(t),
	"msg": sprintf("Trail %s does not validate its log files.", [t.name]),
	"evidence": {"path": sprintf("cloudtrail.trails[%d].log_file_validation", [n]), "value": false},
} if {
	some n, t in input.cloudtrail.trails
	t.log_file_validation == false
}
