package fix

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/awsconv"
	"github.com/coffer-audit/coffer/checks/shellcmd"
)

// trailOf finds the trail a finding is about: the resource itself, or a trail named in its vars.
func (pc *planContext) trailOf(f *checks.Finding) *checks.Trail {
	if t := pc.trails[f.Resource.ARN]; t != nil {
		return t
	}
	for _, ref := range []string{varString(f, "trail_arn"), varString(f, "trail"), varString(f, "trail_name")} {
		if ref == "" {
			continue
		}
		if t := pc.trails[ref]; t != nil {
			return t
		}
		for _, t := range pc.trails {
			if t.Name == ref {
				return t
			}
		}
	}
	return nil
}

// mainTrail is the trail account-wide CloudTrail fixes work on: a multi-region trail that is
// logging, else a multi-region trail, else the trail named fix.trail.name, else one in the home
// region, else any. Organization trails are left alone: only the management account may change them.
func (pc *planContext) mainTrail() *checks.Trail {
	var list []*checks.Trail
	for _, t := range pc.trails {
		if !t.Organization {
			list = append(list, t)
		}
	}
	rank := func(t *checks.Trail) int {
		switch {
		case t.MultiRegion && t.IsLogging != nil && *t.IsLogging:
			return 0
		case t.MultiRegion:
			return 1
		case t.Name == pc.fix.TrailName:
			return 2
		case t.HomeRegion == pc.snap.Account.HomeRegion:
			return 3
		}
		return 4
	}
	sort.Slice(list, func(i, j int) bool {
		if ri, rj := rank(list[i]), rank(list[j]); ri != rj {
			return ri < rj
		}
		return list[i].ARN < list[j].ARN
	})
	if len(list) == 0 {
		return nil
	}
	return list[0]
}

type trailJSON struct {
	IsMultiRegionTrail         *bool   `json:"IsMultiRegionTrail,omitempty"`
	IncludeGlobalServiceEvents *bool   `json:"IncludeGlobalServiceEvents,omitempty"`
	LogFileValidationEnabled   *bool   `json:"LogFileValidationEnabled,omitempty"`
	KmsKeyId                   *string `json:"KmsKeyId,omitempty"`
	IsLogging                  *bool   `json:"IsLogging,omitempty"`
	EventSelectors             any     `json:"EventSelectors,omitempty"`
	AdvancedEventSelectors     any     `json:"AdvancedEventSelectors,omitempty"`
}

// ensureLogging starts the trail when it is not logging, recording the status before and after.
func ensureLogging(ctx context.Context, api CloudTrailAPI, arn, name string, ex *execution, before, after *trailJSON) error {
	st, err := api.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: &arn})
	if err != nil {
		return fmt.Errorf("get status of trail %s: %w", name, err)
	}
	before.IsLogging, after.IsLogging = aws.Bool(aws.ToBool(st.IsLogging)), aws.Bool(aws.ToBool(st.IsLogging))
	if aws.ToBool(st.IsLogging) {
		return nil
	}
	ex.call("cloudtrail:StartLogging")
	// By name: moto answers an ARN with a 500.
	if _, err := api.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: &name}); err != nil {
		return fmt.Errorf("start logging of trail %s: %w", name, err)
	}
	after.IsLogging = aws.Bool(true)
	return nil
}

func getTrail(ctx context.Context, api CloudTrailAPI, arn string) (*cttypes.Trail, error) {
	out, err := api.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: &arn})
	if err != nil {
		return nil, fmt.Errorf("get trail %s: %w", arn, err)
	}
	if out.Trail == nil {
		return nil, fmt.Errorf("get trail %s: no trail in the answer", arn)
	}
	return out.Trail, nil
}

// --- multi-region, logging, management events -----------------------------------------------------

func planMultiRegion(pc *planContext, f *checks.Finding) (*Change, string) {
	t := pc.trailOf(f)
	if t == nil {
		t = pc.mainTrail()
	}
	if t == nil {
		return nil, "the account has no trail coffer may change; coffer never creates trails: create one with the commands (fix.trail.name and fix.trail.bucket fill them in)"
	}
	if t.Organization {
		return nil, "trail " + t.Name + " is an organization trail; change it from the management account"
	}
	arn, name, region := t.ARN, t.Name, t.HomeRegion
	before := trailJSON{IsMultiRegionTrail: aws.Bool(t.MultiRegion), IncludeGlobalServiceEvents: aws.Bool(t.IncludeGlobalServiceEvents), IsLogging: t.IsLogging}
	after := trailJSON{IsMultiRegionTrail: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(true), IsLogging: aws.Bool(true)}
	commands := []string{}
	calls := []string{}
	if !t.MultiRegion || !t.IncludeGlobalServiceEvents {
		commands = append(commands, shellcmd.Command("aws", "cloudtrail", "update-trail", "--name", arn, "--region", region, "--is-multi-region-trail", "--include-global-service-events"))
		calls = append(calls, "cloudtrail:UpdateTrail")
	}
	if t.IsLogging == nil || !*t.IsLogging {
		commands = append(commands, shellcmd.Command("aws", "cloudtrail", "start-logging", "--name", name, "--region", region))
		calls = append(calls, "cloudtrail:StartLogging")
	}
	// refused: the snapshot does not hold all of the trail's selectors, so adding the management
	// selector is left to the user, as the printed command is; the rest of the change stands.
	needsSelector, refused := t.SelectorsRead && !recordsManagement(snapshotSelectors(t)), ""
	if err := checks.SelectorsRewriteError(t); needsSelector && err != nil {
		refused = err.Error()
	}
	if needsSelector && refused == "" {
		basic, adv := snapshotSelectors(t)
		flag, value := addManagementSelector(basic, adv)
		commands = append(commands, shellcmd.Command("aws", "cloudtrail", "put-event-selectors", "--trail-name", arn, "--region", region, flag, value))
		calls = append(calls, "cloudtrail:PutEventSelectors")
		before.EventSelectors, before.AdvancedEventSelectors = selectorsJSON(basic, adv)
		after.EventSelectors, after.AdvancedEventSelectors = json.RawMessage(value), nil
		if flag == "--advanced-event-selectors" {
			after.EventSelectors, after.AdvancedEventSelectors = nil, json.RawMessage(value)
		}
	}
	if len(calls) == 0 {
		if refused != "" {
			return nil, refused
		}
		calls = []string{"cloudtrail:UpdateTrail"} // the snapshot shows nothing to do: re-checked live
	}
	ch := &Change{
		Target:      arn,
		Description: fmt.Sprintf("Make trail %s multi-region (with global service events), logging, and recording read and write management events; existing event selectors are kept.", name),
		Before:      before, After: after,
		APICalls: calls, Commands: commands,
		region: region,
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.CloudTrail(region)
			ex := &execution{}
			b, a := trailJSON{}, trailJSON{}
			ex.Before, ex.After = &b, &a
			tr, err := getTrail(ctx, api, arn)
			if err != nil {
				return ex, err
			}
			b.IsMultiRegionTrail, b.IncludeGlobalServiceEvents = aws.Bool(aws.ToBool(tr.IsMultiRegionTrail)), aws.Bool(aws.ToBool(tr.IncludeGlobalServiceEvents))
			a.IsMultiRegionTrail, a.IncludeGlobalServiceEvents = b.IsMultiRegionTrail, b.IncludeGlobalServiceEvents
			if !aws.ToBool(tr.IsMultiRegionTrail) || !aws.ToBool(tr.IncludeGlobalServiceEvents) {
				ex.call("cloudtrail:UpdateTrail")
				if _, err := api.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: &arn, IsMultiRegionTrail: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(true)}); err != nil {
					return ex, fmt.Errorf("make trail %s multi-region: %w", name, err)
				}
				a.IsMultiRegionTrail, a.IncludeGlobalServiceEvents = aws.Bool(true), aws.Bool(true)
			}
			if err := ensureLogging(ctx, api, arn, name, ex, &b, &a); err != nil {
				return ex, err
			}
			if refused != "" {
				return ex, nil
			}
			sel, err := api.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: &arn})
			if err != nil {
				return ex, fmt.Errorf("get event selectors of trail %s: %w", name, err)
			}
			basic, adv := selectorsFromAPI(sel)
			b.EventSelectors, b.AdvancedEventSelectors = selectorsJSON(basic, adv)
			a.EventSelectors, a.AdvancedEventSelectors = b.EventSelectors, b.AdvancedEventSelectors
			if recordsManagement(basic, adv) {
				return ex, nil
			}
			in := &cloudtrail.PutEventSelectorsInput{TrailName: &arn}
			if len(sel.AdvancedEventSelectors) > 0 {
				in.AdvancedEventSelectors = append(slices.Clone(sel.AdvancedEventSelectors), cttypes.AdvancedEventSelector{
					Name:           aws.String(managementSelectorName),
					FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"}}},
				})
			} else {
				in.EventSelectors = append(slices.Clone(sel.EventSelectors), cttypes.EventSelector{
					ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(true),
				})
			}
			ex.call("cloudtrail:PutEventSelectors")
			if _, err := api.PutEventSelectors(ctx, in); err != nil {
				return ex, fmt.Errorf("put event selectors of trail %s: %w", name, err)
			}
			a.EventSelectors, a.AdvancedEventSelectors = sdkSelectorsJSON(in.EventSelectors, in.AdvancedEventSelectors)
			return ex, nil
		},
	}
	if refused != "" {
		ch.Description = fmt.Sprintf("Make trail %s multi-region (with global service events) and logging; its event selectors are left as they are.", name)
	}
	return ch, refused
}

const managementSelectorName = "coffer: management events"

// addManagementSelector returns the put-event-selectors argument with a read-and-write management
// selector added to the existing ones, in the trail's style.
func addManagementSelector(basic []checks.EventSelector, adv []checks.AdvancedEventSelector) (flag, value string) {
	if len(adv) > 0 {
		list := append(checks.AdvancedSelectorsJSON(adv), map[string]any{
			"Name":           managementSelectorName,
			"FieldSelectors": []any{map[string]any{"Field": "eventCategory", "Equals": []string{"Management"}}},
		})
		b, _ := json.Marshal(list)
		return "--advanced-event-selectors", string(b)
	}
	list := append(checks.BasicSelectorsJSON(basic), map[string]any{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": []any{}})
	b, _ := json.Marshal(list)
	return "--event-selectors", string(b)
}

// recordsManagement: the selectors record read and write management events.
func recordsManagement(basic []checks.EventSelector, adv []checks.AdvancedEventSelector) bool {
	read, write := false, false
	for _, s := range basic {
		if !s.IncludeManagementEvents {
			continue
		}
		r, w := readWrite(s.ReadWriteType)
		read, write = read || r, write || w
	}
	for _, s := range adv {
		management := false
		r, w := true, true
		narrowed := false
		for _, fs := range s.FieldSelectors {
			switch fs.Field {
			case "eventCategory":
				management = slices.Contains(fs.Equals, "Management")
			case "readOnly":
				r, w = slices.Contains(fs.Equals, "true"), slices.Contains(fs.Equals, "false")
			default:
				narrowed = true
			}
		}
		if management && !narrowed {
			read, write = read || r, write || w
		}
	}
	return read && write
}

func readWrite(t string) (read, write bool) {
	switch t {
	case "ReadOnly":
		return true, false
	case "WriteOnly":
		return false, true
	}
	return true, true
}

// --- log file validation and KMS ----------------------------------------------------------------------

func planLogValidation(pc *planContext, f *checks.Finding) (*Change, string) {
	t := pc.trailOf(f)
	if t == nil {
		return nil, "the trail is not in the snapshot"
	}
	arn, name, region := t.ARN, t.Name, t.HomeRegion
	return &Change{
		Target:      arn,
		Description: fmt.Sprintf("Turn on log file validation for trail %s (CloudTrail then writes signed digest files).", name),
		Before:      trailJSON{LogFileValidationEnabled: aws.Bool(t.LogFileValidation)}, After: trailJSON{LogFileValidationEnabled: aws.Bool(true)},
		APICalls: []string{"cloudtrail:UpdateTrail"},
		Commands: []string{shellcmd.Command("aws", "cloudtrail", "update-trail", "--name", arn, "--region", region, "--enable-log-file-validation")},
		region:   region,
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.CloudTrail(region)
			ex := &execution{}
			tr, err := getTrail(ctx, api, arn)
			if err != nil {
				return ex, err
			}
			ex.Before = trailJSON{LogFileValidationEnabled: aws.Bool(aws.ToBool(tr.LogFileValidationEnabled))}
			ex.After = ex.Before
			if aws.ToBool(tr.LogFileValidationEnabled) {
				return ex, nil
			}
			ex.call("cloudtrail:UpdateTrail")
			if _, err := api.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: &arn, EnableLogFileValidation: aws.Bool(true)}); err != nil {
				return ex, fmt.Errorf("turn on log file validation of trail %s: %w", name, err)
			}
			ex.After = trailJSON{LogFileValidationEnabled: aws.Bool(true)}
			return ex, nil
		},
	}, ""
}

func planTrailKMS(pc *planContext, f *checks.Finding) (*Change, string) {
	t := pc.trailOf(f)
	if t == nil {
		return nil, "the trail is not in the snapshot"
	}
	arn, name, region := t.ARN, t.Name, t.HomeRegion
	k, why := pc.configuredKey(region, "trail "+name)
	if k == nil {
		return nil, why
	}
	var before trailJSON
	if t.KMSKeyID != "" {
		before.KmsKeyId = aws.String(t.KMSKeyID)
	}
	return &Change{
		Target:      arn,
		Description: fmt.Sprintf("Encrypt the log files of trail %s with key %s (its key policy must let cloudtrail.amazonaws.com use it; CloudTrail checks).", name, k.ARN),
		Before:      before, After: trailJSON{KmsKeyId: aws.String(k.ARN)},
		APICalls: []string{"cloudtrail:UpdateTrail"},
		Commands: []string{shellcmd.Command("aws", "cloudtrail", "update-trail", "--name", arn, "--region", region, "--kms-key-id", k.ARN)},
		region:   region,
		needsKey: k.ARN,
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.CloudTrail(region)
			ex := &execution{}
			tr, err := getTrail(ctx, api, arn)
			if err != nil {
				return ex, err
			}
			cur := trailJSON{}
			if id := aws.ToString(tr.KmsKeyId); id != "" {
				cur.KmsKeyId = aws.String(id)
			}
			ex.Before, ex.After = cur, cur
			if pc.keys.find(aws.ToString(tr.KmsKeyId), region) == k {
				return ex, nil
			}
			ex.call("cloudtrail:UpdateTrail")
			if _, err := api.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: &arn, KmsKeyId: aws.String(k.ARN)}); err != nil {
				return ex, fmt.Errorf("set KMS key of trail %s: %w", name, err)
			}
			ex.After = trailJSON{KmsKeyId: aws.String(k.ARN)}
			return ex, nil
		},
	}, ""
}

// --- S3 data events -------------------------------------------------------------------------------

func planDataEvents(pc *planContext, f *checks.Finding) (*Change, string) {
	bucket := f.Resource.Name
	if f.Resource.Type != "AWS::S3::Bucket" {
		bucket = varString(f, "bucket")
	}
	if bucket == "" {
		return nil, "the finding does not name the bucket to add"
	}
	t := pc.trailOf(f)
	if t == nil {
		t = pc.mainTrail()
	}
	if t == nil {
		return nil, "the account has no trail coffer may change; coffer never creates trails"
	}
	if !t.SelectorsRead {
		return nil, "the event selectors of trail " + t.Name + " could not be read"
	}
	arn, name, region := t.ARN, t.Name, t.HomeRegion
	partition := pc.partition
	startLogging := t.IsLogging == nil || !*t.IsLogging
	flag, value, err := checks.DataEventSelectors(t, partition, bucket)
	if err != nil {
		return nil, err.Error()
	}
	basic, adv := snapshotSelectors(t)
	var before, after trailJSON
	before.EventSelectors, before.AdvancedEventSelectors = selectorsJSON(basic, adv)
	if flag == "--advanced-event-selectors" {
		after.AdvancedEventSelectors = json.RawMessage(value)
	} else {
		after.EventSelectors = json.RawMessage(value)
	}
	ch := &Change{
		Target:      arn,
		Description: fmt.Sprintf("Record S3 data events (read and write) for %s in trail %s; every existing event selector is kept.", bucket, name),
		Before:      before, After: after,
		APICalls: []string{"cloudtrail:PutEventSelectors"},
		Commands: []string{shellcmd.Command("aws", "cloudtrail", "put-event-selectors", "--trail-name", arn, "--region", region, flag, value)},
		region:   region,
		apply: func(ctx context.Context, cl *Clients, _ string) (*execution, error) {
			api := cl.CloudTrail(region)
			ex := &execution{}
			sel, err := api.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: &arn})
			if err != nil {
				return ex, fmt.Errorf("get event selectors of trail %s: %w", name, err)
			}
			basic, adv := selectorsFromAPI(sel)
			b := &trailJSON{}
			b.EventSelectors, b.AdvancedEventSelectors = selectorsJSON(basic, adv)
			a := *b
			ex.Before, ex.After = b, &a
			if startLogging {
				// Selectors of a trail that is not logging record nothing.
				if err := ensureLogging(ctx, api, arn, name, ex, b, &a); err != nil {
					return ex, err
				}
			}
			if coversBucket(basic, adv, partition, bucket) {
				return ex, nil
			}
			live := &checks.Trail{EventSelectors: basic, AdvancedEventSelectors: adv}
			flag, value, err := checks.DataEventSelectors(live, partition, bucket)
			if err != nil {
				return ex, preconditionf("merge data event selector into trail %s: %v", name, err)
			}
			// The builder renders every selector from the snapshot's model; only its new, last
			// selector is taken, appended to the live selectors exactly as AWS returned them, so
			// even a field the model does not carry (one a newer API adds) stays.
			in := &cloudtrail.PutEventSelectorsInput{TrailName: &arn}
			if flag == "--advanced-event-selectors" {
				var list []cttypes.AdvancedEventSelector
				if err := json.Unmarshal([]byte(value), &list); err != nil || len(list) == 0 {
					return ex, fmt.Errorf("convert advanced event selectors of trail %s: %w", name, err)
				}
				in.AdvancedEventSelectors = append(slices.Clone(sel.AdvancedEventSelectors), list[len(list)-1])
			} else {
				var list []cttypes.EventSelector
				if err := json.Unmarshal([]byte(value), &list); err != nil || len(list) == 0 {
					return ex, fmt.Errorf("convert event selectors of trail %s: %w", name, err)
				}
				in.EventSelectors = append(slices.Clone(sel.EventSelectors), list[len(list)-1])
			}
			ex.call("cloudtrail:PutEventSelectors")
			if _, err := api.PutEventSelectors(ctx, in); err != nil {
				return ex, fmt.Errorf("put event selectors of trail %s: %w", name, err)
			}
			a.EventSelectors, a.AdvancedEventSelectors = sdkSelectorsJSON(in.EventSelectors, in.AdvancedEventSelectors)
			return ex, nil
		},
	}
	if startLogging {
		ch.Description += " The trail is not logging, so logging is started too."
		ch.APICalls = append(ch.APICalls, "cloudtrail:StartLogging")
		ch.Commands = append(ch.Commands, shellcmd.Command("aws", "cloudtrail", "start-logging", "--name", name, "--region", region))
		after.IsLogging = aws.Bool(true)
		ch.After = after
	}
	return ch, ""
}

// coversBucket: the selectors record read and write data events of every object of bucket.
func coversBucket(basic []checks.EventSelector, adv []checks.AdvancedEventSelector, partition, bucket string) bool {
	objects := fmt.Sprintf("arn:%s:s3:::%s/", partition, bucket)
	allBuckets := map[string]bool{"arn:" + partition + ":s3": true, "arn:" + partition + ":s3:::": true, objects: true}
	read, write := false, false
	for _, s := range basic {
		for _, d := range s.DataResources {
			if d.Type != "AWS::S3::Object" {
				continue
			}
			for _, v := range d.Values {
				if allBuckets[v] {
					r, w := readWrite(s.ReadWriteType)
					read, write = read || r, write || w
				}
			}
		}
	}
	for _, s := range adv {
		data, objectsType, arnOK, narrowed := false, false, true, false
		r, w := true, true
		for _, fs := range s.FieldSelectors {
			switch fs.Field {
			case "eventCategory":
				data = slices.Contains(fs.Equals, "Data")
			case "resources.type":
				objectsType = slices.Contains(fs.Equals, "AWS::S3::Object")
			case "resources.ARN":
				arnOK = slices.ContainsFunc(fs.StartsWith, func(p string) bool { return strings.HasPrefix(objects, p) && p != "" }) && len(fs.NotStartsWith)+len(fs.NotEquals)+len(fs.EndsWith)+len(fs.NotEndsWith) == 0
			case "readOnly":
				r, w = slices.Contains(fs.Equals, "true"), slices.Contains(fs.Equals, "false")
			default:
				narrowed = true
			}
		}
		if data && objectsType && arnOK && !narrowed {
			read, write = read || r, write || w
		}
	}
	return read && write
}

// --- selector conversions -------------------------------------------------------------------------

func snapshotSelectors(t *checks.Trail) ([]checks.EventSelector, []checks.AdvancedEventSelector) {
	return t.EventSelectors, t.AdvancedEventSelectors
}

// selectorsFromAPI converts live selectors as the collector does, for the checks on them, the plan
// and the journal. The writes append to the live SDK selectors themselves, so a field the model
// does not hold is kept even then (though the journal would not show it).
func selectorsFromAPI(out *cloudtrail.GetEventSelectorsOutput) ([]checks.EventSelector, []checks.AdvancedEventSelector) {
	basic, adv, _ := awsconv.EventSelectors(out.EventSelectors, out.AdvancedEventSelectors)
	return basic, adv
}

// selectorsJSON shows the selectors in the API's shape: basic or advanced, whichever the trail uses.
func selectorsJSON(basic []checks.EventSelector, adv []checks.AdvancedEventSelector) (any, any) {
	if len(adv) > 0 {
		return nil, checks.AdvancedSelectorsJSON(adv)
	}
	return checks.BasicSelectorsJSON(basic), nil
}

// sdkSelectorsJSON shows selectors about to be sent, through the same shapes.
func sdkSelectorsJSON(basic []cttypes.EventSelector, adv []cttypes.AdvancedEventSelector) (any, any) {
	b, a := selectorsFromAPI(&cloudtrail.GetEventSelectorsOutput{EventSelectors: basic, AdvancedEventSelectors: adv})
	return selectorsJSON(b, a)
}
