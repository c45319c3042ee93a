package reporters

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/coffer-audit/coffer/checks"
)

// OCSF writes one OCSF Compliance Finding event (class 2003 of category Findings, activity
// Create) per finding, whatever its status (DESIGN §15), as a JSON array: the format of security
// lakes (Amazon Security Lake, and tools that read Prowler's OCSF output). The events follow
// OCSF 1.5.0 with the cloud profile; see OCSFVersion and ocsfEvent for the mapping.
type OCSF struct {
	Options Options
}

// OCSFVersion is the OCSF schema version of the events: the one py-ocsf-models 0.10.0 models,
// which the tests validate the events with.
const OCSFVersion = "1.5.0"

// OCSF ids of the Compliance Finding class.
const (
	ocsfCategoryFindings  = 2
	ocsfClassCompliance   = 2003
	ocsfActivityCreate    = 1
	ocsfTypeCreate        = ocsfClassCompliance*100 + ocsfActivityCreate // 200301
	ocsfAccountTypeAWS    = 10                                           // account.type_id "AWS Account"
	ocsfProductVendorName = "coffer-audit"
)

// ocsfEnum is an OCSF enumeration value: its id and its caption.
type ocsfEnum struct {
	id      int
	caption string
}

// ocsfSeverity maps a severity to OCSF's severity_id and its caption.
var ocsfSeverity = map[checks.Severity]ocsfEnum{
	checks.SeverityLow:      {2, "Low"},
	checks.SeverityMedium:   {3, "Medium"},
	checks.SeverityHigh:     {4, "High"},
	checks.SeverityCritical: {5, "Critical"},
}

// ocsfStatus maps a finding's status to the event's status (the finding's place in a workflow):
// a FAIL or an ERROR is New, a PASS Resolved, a WAIVED finding Suppressed.
var ocsfStatus = map[checks.Status]ocsfEnum{
	checks.StatusFail:   {1, "New"},
	checks.StatusError:  {1, "New"},
	checks.StatusPass:   {4, "Resolved"},
	checks.StatusWaived: {3, "Suppressed"},
}

// ocsfComplianceStatus maps a finding's status to compliance.status_id and its caption: an ERROR
// is Warning, "the compliance check did not yield a result due to missing information"; a
// WAIVED finding still fails the check.
var ocsfComplianceStatus = map[checks.Status]ocsfEnum{
	checks.StatusPass:   {1, "Pass"},
	checks.StatusError:  {2, "Warning"},
	checks.StatusFail:   {3, "Fail"},
	checks.StatusWaived: {3, "Fail"},
}

// ocsfEvent is one Compliance Finding. Field by field:
//
//   - activity, category, class and type ids and names: a created Compliance Finding (200301).
//   - time, time_dt: the scan's start (milliseconds since the epoch; RFC 3339).
//   - severity_id, severity: the check's severity (Low 2, Medium 3, High 4, Critical 5).
//   - status_id, status: ocsfStatus; status_detail: the error of an ERROR, the waiver of a WAIVED.
//   - message: the finding's message (none for a PASS).
//   - metadata: OCSF version, the cloud profile, the product (coffer, its vendor and version), the
//     check id as event_code.
//   - finding_info: uid FindingUID (the ASFF Id), title the check's title, desc the check's
//     description (the message is the event's own, as Prowler has it), types as in ASFF, the
//     scan's times.
//   - compliance: control the check id, standards and requirements from its frameworks, status
//     and status_id from ocsfComplianceStatus.
//   - resources: one, with uid the ARN, name, type (CloudFormation name), region, partition and
//     the bucket role as a label.
//   - remediation: desc the summary, references the rendered commands.
//   - evidences: the snapshot path and value that decided the finding.
//   - cloud: provider AWS, the account, the resource's region.
//   - unmapped.coffer: what OCSF has no place for: the status as coffer says it, the fix class,
//     the waiver and whether the baseline knew the failure.
type ocsfEvent struct {
	ActivityID   int    `json:"activity_id"`
	ActivityName string `json:"activity_name"`
	CategoryUID  int    `json:"category_uid"`
	CategoryName string `json:"category_name"`
	ClassUID     int    `json:"class_uid"`
	ClassName    string `json:"class_name"`
	TypeUID      int    `json:"type_uid"`
	TypeName     string `json:"type_name"`
	Time         int64  `json:"time"`
	TimeDT       string `json:"time_dt"`
	SeverityID   int    `json:"severity_id"`
	Severity     string `json:"severity"`
	StatusID     int    `json:"status_id"`
	Status       string `json:"status"`
	StatusDetail string `json:"status_detail,omitempty"`
	Message      string `json:"message,omitempty"`

	Metadata    ocsfMetadata    `json:"metadata"`
	FindingInfo ocsfFindingInfo `json:"finding_info"`
	Compliance  ocsfCompliance  `json:"compliance"`
	Resources   []ocsfResource  `json:"resources"`
	Remediation ocsfRemediation `json:"remediation"`
	Evidences   []ocsfEvidence  `json:"evidences,omitempty"`
	Cloud       ocsfCloud       `json:"cloud"`
	Unmapped    map[string]any  `json:"unmapped,omitempty"`
}

type ocsfMetadata struct {
	Version   string      `json:"version"`
	Profiles  []string    `json:"profiles"`
	Product   ocsfProduct `json:"product"`
	EventCode string      `json:"event_code"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version"`
	URLString  string `json:"url_string"`
}

type ocsfFindingInfo struct {
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	Desc          string   `json:"desc"`
	Types         []string `json:"types"`
	CreatedTime   int64    `json:"created_time"`
	FirstSeenTime int64    `json:"first_seen_time"`
	LastSeenTime  int64    `json:"last_seen_time"`
	ModifiedTime  int64    `json:"modified_time"`
}

type ocsfCompliance struct {
	Control      string   `json:"control"`
	Standards    []string `json:"standards"`
	Requirements []string `json:"requirements"`
	Status       string   `json:"status"`
	StatusID     int      `json:"status_id"`
}

type ocsfResource struct {
	UID            string   `json:"uid"`
	Name           string   `json:"name,omitempty"`
	Type           string   `json:"type,omitempty"`
	Region         string   `json:"region,omitempty"`
	CloudPartition string   `json:"cloud_partition,omitempty"`
	Labels         []string `json:"labels,omitempty"`
}

type ocsfRemediation struct {
	Desc       string   `json:"desc"`
	References []string `json:"references,omitempty"`
}

type ocsfEvidence struct {
	Name string         `json:"name"`
	Data map[string]any `json:"data"`
}

type ocsfCloud struct {
	Provider string      `json:"provider"`
	Region   string      `json:"region,omitempty"`
	Account  ocsfAccount `json:"account"`
}

type ocsfAccount struct {
	UID    string `json:"uid"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	TypeID int    `json:"type_id"`
}

// Write implements Reporter.
func (o *OCSF) Write(w io.Writer, r *checks.Report) error {
	if r == nil {
		return errNilReport
	}
	fs := sortedFindings(r)
	start, end := r.StartedAt, r.FinishedAt
	if start.IsZero() {
		start = end
	}
	if end.IsZero() {
		end = start
	}
	if start.IsZero() && len(fs) > 0 {
		return errors.New("ocsf: the report has no time (started_at), which every OCSF event needs")
	}
	rules := make(map[string]checks.Rule, len(r.Rules))
	for _, rule := range r.Rules {
		rules[rule.ID] = rule
	}
	home := cmp.Or(o.Options.Region, firstRegion(r))
	partition := Partition(r)

	bw := bufio.NewWriterSize(w, 1<<16)
	var event bytes.Buffer
	enc := newIndentedEncoder(&event, "  ")
	bw.WriteByte('[')
	for i := range fs {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n  ")
		ev := ocsfFinding(r, &fs[i], rules[fs[i].CheckID], home, partition, start, end)
		event.Reset()
		if err := enc.Encode(&ev); err != nil {
			return fmt.Errorf("encode ocsf event for %s on %s: %w", fs[i].CheckID, fs[i].Resource.ARN, err)
		}
		// Without the encoder's final newline: the separator comes first.
		bw.Write(bytes.TrimSuffix(event.Bytes(), []byte("\n")))
	}
	if len(fs) > 0 {
		bw.WriteByte('\n')
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

func ocsfFinding(r *checks.Report, f *checks.Finding, rule checks.Rule, home, partition string, start, end time.Time) ocsfEvent {
	account := accountOf(r, f)
	arn := cmp.Or(f.Resource.ARN, f.Resource.Name)
	sev, ok := ocsfSeverity[f.Severity]
	if !ok {
		sev.id, sev.caption = 0, "Unknown"
	}
	status, compliance := ocsfStatus[f.Status], ocsfComplianceStatus[f.Status]
	region := cmp.Or(f.Resource.Region, home)
	ev := ocsfEvent{
		ActivityID: ocsfActivityCreate, ActivityName: "Create",
		CategoryUID: ocsfCategoryFindings, CategoryName: "Findings",
		ClassUID: ocsfClassCompliance, ClassName: "Compliance Finding",
		TypeUID: ocsfTypeCreate, TypeName: "Compliance Finding: Create",
		Time: start.UnixMilli(), TimeDT: start.UTC().Format(time.RFC3339),
		SeverityID: sev.id, Severity: sev.caption,
		StatusID: status.id, Status: status.caption,
		Message: f.Message,
		Metadata: ocsfMetadata{
			Version:  OCSFVersion,
			Profiles: []string{"cloud"},
			Product: ocsfProduct{Name: asffProductName, VendorName: ocsfProductVendorName,
				Version: cmp.Or(r.Tool.Version, "unknown"), URLString: InformationURI},
			EventCode: f.CheckID,
		},
		FindingInfo: ocsfFindingInfo{
			UID:         FindingUID(account, f.CheckID, arn),
			Title:       cmp.Or(f.Title, rule.Title, f.CheckID),
			Desc:        cmp.Or(rule.Description, f.Title, rule.Title, f.CheckID),
			Types:       asffTypes(f.Frameworks),
			CreatedTime: start.UnixMilli(), FirstSeenTime: start.UnixMilli(),
			LastSeenTime: end.UnixMilli(), ModifiedTime: end.UnixMilli(),
		},
		Compliance: ocsfCompliance{
			Control:      f.CheckID,
			Standards:    nonNil(standards(f.Frameworks)),
			Requirements: nonNil(requirements(f.Frameworks, -1)),
			Status:       compliance.caption,
			StatusID:     compliance.id,
		},
		Resources: []ocsfResource{{
			UID: arn, Name: f.Resource.Name, Type: f.Resource.Type, Region: region,
			CloudPartition: cmp.Or(partitionOfARN(f.Resource.ARN), partition),
		}},
		Remediation: ocsfRemediation{
			Desc:       cmp.Or(f.Remediation.Summary, rule.Remediation.Summary, "See `coffer explain "+f.CheckID+"`."),
			References: f.Remediation.Commands,
		},
		Cloud: ocsfCloud{
			Provider: "AWS", Region: region,
			Account: ocsfAccount{UID: account, Name: account, Type: "AWS Account", TypeID: ocsfAccountTypeAWS},
		},
	}
	if f.Resource.Role != "" {
		ev.Resources[0].Labels = []string{"role:" + f.Resource.Role}
	}
	if len(ev.Remediation.References) == 0 {
		ev.Remediation.References = nil
	}
	if f.Evidence != nil {
		ev.Evidences = []ocsfEvidence{{Name: cmp.Or(f.Evidence.Path, "evidence"),
			Data: map[string]any{"path": f.Evidence.Path, "value": f.Evidence.Value}}}
	}
	unmapped := map[string]any{
		"status": f.Status,
		"fix":    cmp.Or(f.Remediation.Fix, checks.FixManual),
	}
	switch f.Status {
	case checks.StatusError:
		ev.StatusDetail = f.Message
	case checks.StatusWaived:
		ev.StatusDetail = "Waived in coffer.yaml: " + waiverText(f.Waiver)
		if f.Waiver != nil {
			unmapped["waiver"] = f.Waiver
		}
	}
	if f.InBaseline {
		unmapped["in_baseline"] = true
	}
	ev.Unmapped = map[string]any{"coffer": unmapped}
	return ev
}

// nonNil returns s, or an empty list for nil, so that an event's lists are never null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
