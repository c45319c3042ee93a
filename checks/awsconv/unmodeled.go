package awsconv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer-audit/coffer/checks"
)

// A printed command or a fix that rewrites a whole configuration (put-bucket-lifecycle-configuration,
// put-bucket-replication, put-event-selectors, update-account-password-policy) builds it from the
// snapshot. Whatever AWS returned that the snapshot cannot reproduce would be dropped without a
// word. So for each such configuration the collector rebuilds it from the snapshot with the very
// builder the commands use, reads that back into the SDK's type, and compares the two as JSON:
// every path of AWS's answer the rebuild does not reproduce is recorded on the configuration
// (UnmodeledFields), and the builders then refuse. The comparison goes by the SDK's fields, not a
// list of the fields coffer knows, so a field a newer SDK adds is caught too.

// unmodeledFields returns the paths (API JSON: "Rules[2].Filter.And.Tags") of what returned holds
// that rebuilt does not. returned is the SDK value AWS's answer was decoded into; rebuilt is the
// builder's JSON-shaped output, read back into a new value of returned's type so that both sides go
// through the same encoding. canon rewrites both trees into one spelling where the API has several
// for the same meaning. A comparison that cannot be made counts as a loss: refusing is safe.
func unmodeledFields(returned, rebuilt any, canon func(any)) []string {
	a, err := jsonTree(returned)
	if err != nil {
		return []string{fmt.Sprintf("(cannot be compared: %v)", err)}
	}
	raw, err := json.Marshal(rebuilt)
	if err != nil {
		return []string{fmt.Sprintf("(cannot be compared: %v)", err)}
	}
	back := reflect.New(reflect.TypeOf(returned))
	if err := json.Unmarshal(raw, back.Interface()); err != nil {
		return []string{fmt.Sprintf("(cannot be compared: rebuilt configuration: %v)", err)}
	}
	b, err := jsonTree(back.Elem().Interface())
	if err != nil {
		return []string{fmt.Sprintf("(cannot be compared: %v)", err)}
	}
	if canon != nil {
		canon(a)
		canon(b)
	}
	var lost []string
	missing("", a, b, &lost)
	sort.Strings(lost)
	return slices.Compact(lost)
}

// jsonTree is v as decoded JSON (numbers as json.Number) without what means "not set": nulls, empty
// strings (an unset enum and an unset pointer to a string read the same), and objects and lists
// left empty. List elements keep their places, so paths index what AWS returned.
func jsonTree(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var t any
	if err := dec.Decode(&t); err != nil {
		return nil, err
	}
	if t = prune(t); t == nil {
		t = map[string]any{}
	}
	return t, nil
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e = prune(e); e == nil {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		if len(x) == 0 {
			return nil
		}
	case []any:
		if len(x) == 0 {
			return nil
		}
		for i, e := range x {
			if e = prune(e); e == nil {
				e = map[string]any{}
			}
			x[i] = e
		}
	case string:
		if x == "" {
			return nil
		}
	}
	return v
}

// missing appends to lost the path of every part of a that b does not hold with the same value.
// Where b lacks an object that has a single member in a, the path goes on to that member: the
// setting is named ("Filter.ObjectSizeGreaterThan"), not just where it sits.
func missing(path string, a, b any, lost *[]string) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			*lost = append(*lost, path)
			return
		}
		for k, e := range av {
			p := k
			if path != "" {
				p = path + "." + k
			}
			be, ok := bv[k]
			if !ok {
				if m, single := e.(map[string]any); single && len(m) == 1 {
					missing(p, m, map[string]any{}, lost)
					continue
				}
				*lost = append(*lost, p)
				continue
			}
			missing(p, e, be, lost)
		}
	case []any:
		bv, ok := b.([]any)
		if !ok {
			*lost = append(*lost, path)
			return
		}
		for i, e := range av {
			p := fmt.Sprintf("%s[%d]", path, i)
			if i >= len(bv) {
				*lost = append(*lost, p)
				continue
			}
			missing(p, e, bv[i], lost)
		}
	default:
		if !reflect.DeepEqual(a, b) {
			*lost = append(*lost, path)
		}
	}
}

// object returns m[key] as an object, nil when it is not one.
func object(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

// objects returns the objects of the list m[key].
func objects(m map[string]any, key string) []map[string]any {
	list, _ := m[key].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if o, ok := e.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

// moveAbsent moves from[key] to to[key] unless to already has one (then both stay, so that a
// conflict the snapshot cannot hold still shows).
func moveAbsent(from, to map[string]any, key string) {
	if v, ok := from[key]; ok {
		if _, taken := to[key]; !taken {
			to[key] = v
			delete(from, key)
		}
	}
}

// dropEmpty removes m[key] when it is an empty object.
func dropEmpty(m map[string]any, key string) {
	if o, ok := m[key].(map[string]any); ok && len(o) == 0 {
		delete(m, key)
	}
}

// --- lifecycle ------------------------------------------------------------------------------------

// lifecycleAnswer is the part of GetBucketLifecycleConfiguration's answer that
// put-bucket-lifecycle-configuration writes back.
type lifecycleAnswer struct {
	Rules                              []s3types.LifecycleRule
	TransitionDefaultMinimumObjectSize s3types.TransitionDefaultMinimumObjectSize
}

// LifecycleConfiguration converts a lifecycle configuration AWS returned into the snapshot's model,
// with UnmodeledFields set to what the printed command (checks.MergeLifecycle of these rules) would
// drop. The fixer uses it on live rules so merges see what a scan sees.
func LifecycleConfiguration(rules []s3types.LifecycleRule, minSize s3types.TransitionDefaultMinimumObjectSize) *checks.Lifecycle {
	lc := &checks.Lifecycle{Rules: make([]checks.LifecycleRule, 0, len(rules))}
	for _, r := range rules {
		lc.Rules = append(lc.Rules, LifecycleRule(r))
	}
	rebuilt, err := checks.MergeLifecycle(lc.Rules)
	if err != nil {
		lc.UnmodeledFields = []string{fmt.Sprintf("(cannot be compared: %v)", err)}
		return lc
	}
	lc.UnmodeledFields = unmodeledFields(lifecycleAnswer{Rules: rules, TransitionDefaultMinimumObjectSize: minSize}, json.RawMessage(rebuilt), canonLifecycle)
	return lc
}

// MinimumObjectSizeField is the unmodeled field a lifecycle configuration has when it sets a
// transition minimum object size other than S3's default: the printed command, which does not pass
// one, would reset it; the fixer passes the live value through, so only commands must refuse.
const MinimumObjectSizeField = "TransitionDefaultMinimumObjectSize"

// canonLifecycle gives each rule's filter one spelling: the legacy top-level Prefix, the And
// operator and a single Tag are other ways to write the prefix, tags and sizes the snapshot holds
// (as LifecycleRule reads them). An expiration's ExpiredObjectDeleteMarker=false is the
// default, and so is the minimum object size S3 applies when a PUT names none.
func canonLifecycle(t any) {
	cfg, _ := t.(map[string]any)
	if cfg == nil {
		return
	}
	if cfg[MinimumObjectSizeField] == string(s3types.TransitionDefaultMinimumObjectSizeAllStorageClasses128k) {
		delete(cfg, MinimumObjectSizeField)
	}
	for _, r := range objects(cfg, "Rules") {
		f := object(r, "Filter")
		if f == nil {
			f = map[string]any{}
		}
		if and := object(f, "And"); and != nil {
			for _, k := range []string{"Prefix", "Tags", "ObjectSizeGreaterThan", "ObjectSizeLessThan"} {
				moveAbsent(and, f, k)
			}
			dropEmpty(f, "And")
		}
		if tag, ok := f["Tag"]; ok {
			if _, taken := f["Tags"]; !taken {
				f["Tags"] = []any{tag}
				delete(f, "Tag")
			}
		}
		if tags, ok := f["Tags"].([]any); ok {
			sort.SliceStable(tags, func(i, j int) bool { return tagKey(tags[i]) < tagKey(tags[j]) })
		}
		moveAbsent(r, f, "Prefix")
		r["Filter"] = f
		dropEmpty(r, "Filter")
		if e := object(r, "Expiration"); e != nil && e["ExpiredObjectDeleteMarker"] == false {
			delete(e, "ExpiredObjectDeleteMarker")
			dropEmpty(r, "Expiration")
		}
	}
}

func tagKey(t any) string {
	m, _ := t.(map[string]any)
	return fmt.Sprint(m["Key"], "\x00", m["Value"])
}

// --- replication ----------------------------------------------------------------------------------

// ReplicationConfiguration converts a replication configuration AWS returned into the snapshot's
// model, with UnmodeledFields set to what checks.ReplicationJSON of it does not reproduce: tag
// filters, replication time control and metrics, replica modifications, owner override, existing
// object replication, and legacy V1 rules (a top-level Prefix, even empty: rewritten as a V2 rule
// it would stop replicating delete markers).
func ReplicationConfiguration(cfg *s3types.ReplicationConfiguration) *checks.Replication {
	rep := &checks.Replication{Role: aws.ToString(cfg.Role), Rules: []checks.ReplicationRule{}}
	for _, r := range cfg.Rules {
		rep.Rules = append(rep.Rules, replicationRule(r))
	}
	lost := unmodeledFields(*cfg, checks.ReplicationJSON(rep), canonReplication)
	for i, r := range cfg.Rules {
		if r.Prefix != nil {
			lost = append(lost, fmt.Sprintf("Rules[%d].Prefix", i))
		}
	}
	sort.Strings(lost)
	rep.UnmodeledFields = slices.Compact(lost)
	return rep
}

// canonReplication: Filter.And.Prefix is the prefix the snapshot holds (the tags next to it are
// not), and SSE-KMS objects not replicated is what no SourceSelectionCriteria means.
func canonReplication(t any) {
	cfg, _ := t.(map[string]any)
	for _, r := range objects(cfg, "Rules") {
		if f := object(r, "Filter"); f != nil {
			if and := object(f, "And"); and != nil {
				moveAbsent(and, f, "Prefix")
				dropEmpty(f, "And")
			}
		}
		if sel := object(r, "SourceSelectionCriteria"); sel != nil {
			if sse := object(sel, "SseKmsEncryptedObjects"); sse != nil && sse["Status"] == string(s3types.SseKmsEncryptedObjectsStatusDisabled) {
				delete(sel, "SseKmsEncryptedObjects")
				dropEmpty(r, "SourceSelectionCriteria")
			}
		}
	}
}

// --- event selectors ------------------------------------------------------------------------------

// selectorsAnswer is the part of GetEventSelectors' answer that put-event-selectors writes back.
type selectorsAnswer struct {
	EventSelectors         []cttypes.EventSelector
	AdvancedEventSelectors []cttypes.AdvancedEventSelector
}

// EventSelectors converts a trail's event selectors into the snapshot's model, and returns what
// the printed put-event-selectors argument (checks.BasicSelectorsJSON and
// checks.AdvancedSelectorsJSON of them) would not reproduce.
func EventSelectors(basic []cttypes.EventSelector, advanced []cttypes.AdvancedEventSelector) ([]checks.EventSelector, []checks.AdvancedEventSelector, []string) {
	outBasic := []checks.EventSelector{}
	for _, es := range basic {
		e := checks.EventSelector{
			ReadWriteType:                 string(es.ReadWriteType),
			IncludeManagementEvents:       aws.ToBool(es.IncludeManagementEvents),
			ExcludeManagementEventSources: slices.Clone(es.ExcludeManagementEventSources),
			DataResources:                 []checks.DataResource{},
		}
		for _, dr := range es.DataResources {
			e.DataResources = append(e.DataResources, checks.DataResource{
				Type:   aws.ToString(dr.Type),
				Values: append([]string{}, dr.Values...),
			})
		}
		outBasic = append(outBasic, e)
	}
	outAdvanced := []checks.AdvancedEventSelector{}
	for _, as := range advanced {
		a := checks.AdvancedEventSelector{Name: aws.ToString(as.Name), FieldSelectors: []checks.FieldSelector{}}
		for _, fs := range as.FieldSelectors {
			a.FieldSelectors = append(a.FieldSelectors, checks.FieldSelector{
				Field:         aws.ToString(fs.Field),
				Equals:        slices.Clone(fs.Equals),
				StartsWith:    slices.Clone(fs.StartsWith),
				EndsWith:      slices.Clone(fs.EndsWith),
				NotEquals:     slices.Clone(fs.NotEquals),
				NotStartsWith: slices.Clone(fs.NotStartsWith),
				NotEndsWith:   slices.Clone(fs.NotEndsWith),
			})
		}
		outAdvanced = append(outAdvanced, a)
	}
	rebuilt := map[string]any{
		"EventSelectors":         checks.BasicSelectorsJSON(outBasic),
		"AdvancedEventSelectors": checks.AdvancedSelectorsJSON(outAdvanced),
	}
	return outBasic, outAdvanced, unmodeledFields(selectorsAnswer{EventSelectors: basic, AdvancedEventSelectors: advanced}, rebuilt, nil)
}

// --- password policy ------------------------------------------------------------------------------

// PasswordPolicy converts the account password policy into the snapshot's model, with
// UnmodeledFields set to what update-account-password-policy with checks.PasswordPolicyUpdate's
// settings would not keep. ExpirePasswords is not a setting (IAM derives it from MaxPasswordAge),
// HardExpiry=false is the default the update leaves, and MaxPasswordAge=0 (moto's answer when
// passwords do not expire) means no maximum age, as an absent one does.
func PasswordPolicy(p *iamtypes.PasswordPolicy) *checks.PasswordPolicy {
	out := &checks.PasswordPolicy{
		Exists:                     true,
		MinimumPasswordLength:      aws.ToInt32(p.MinimumPasswordLength),
		PasswordReusePrevention:    aws.ToInt32(p.PasswordReusePrevention),
		RequireSymbols:             p.RequireSymbols,
		RequireNumbers:             p.RequireNumbers,
		RequireUppercaseCharacters: p.RequireUppercaseCharacters,
		RequireLowercaseCharacters: p.RequireLowercaseCharacters,
		MaxPasswordAge:             aws.ToInt32(p.MaxPasswordAge),
		HardExpiry:                 aws.ToBool(p.HardExpiry),
		AllowUsersToChangePassword: p.AllowUsersToChangePassword,
	}
	// Required values of 0 keep the current ones: the rebuild is the policy as it is.
	rebuilt, err := checks.PasswordPolicyUpdate(out, 0, 0)
	if err != nil {
		out.UnmodeledFields = []string{fmt.Sprintf("(cannot be compared: %v)", err)}
		return out
	}
	out.UnmodeledFields = unmodeledFields(*p, rebuilt, func(t any) {
		m, _ := t.(map[string]any)
		delete(m, "ExpirePasswords")
		if m["HardExpiry"] == false {
			delete(m, "HardExpiry")
		}
		if m["MaxPasswordAge"] == json.Number("0") {
			delete(m, "MaxPasswordAge")
		}
	})
	return out
}

// replicationRule normalises one rule: the prefix comes from the legacy field or the filter.
func replicationRule(r s3types.ReplicationRule) checks.ReplicationRule {
	out := checks.ReplicationRule{
		ID:       aws.ToString(r.ID),
		Status:   string(r.Status),
		Priority: aws.ToInt32(r.Priority),
		Prefix:   aws.ToString(r.Prefix),
	}
	if f := r.Filter; f != nil {
		if f.Prefix != nil {
			out.Prefix = *f.Prefix
		}
		if f.And != nil && f.And.Prefix != nil {
			out.Prefix = *f.And.Prefix
		}
	}
	if d := r.Destination; d != nil {
		out.DestinationBucketARN = aws.ToString(d.Bucket)
		out.DestinationBucket = bucketNameFromARN(out.DestinationBucketARN)
		out.DestinationAccount = aws.ToString(d.Account)
		out.StorageClass = string(d.StorageClass)
		if d.EncryptionConfiguration != nil {
			out.ReplicaKMSKeyID = aws.ToString(d.EncryptionConfiguration.ReplicaKmsKeyID)
		}
	}
	if s := r.SourceSelectionCriteria; s != nil && s.SseKmsEncryptedObjects != nil {
		out.SSEKMSEncryptedObjects = s.SseKmsEncryptedObjects.Status == s3types.SseKmsEncryptedObjectsStatusEnabled
	}
	if r.DeleteMarkerReplication != nil {
		out.DeleteMarkerReplication = r.DeleteMarkerReplication.Status == s3types.DeleteMarkerReplicationStatusEnabled
	}
	return out
}

// bucketNameFromARN turns arn:aws:s3:::name into name; anything else is returned unchanged.
func bucketNameFromARN(arn string) string {
	if i := strings.Index(arn, ":::"); strings.HasPrefix(arn, "arn:") && i >= 0 {
		return arn[i+3:]
	}
	return arn
}
