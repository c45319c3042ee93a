package checks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/coffer-audit/coffer/checks/shellcmd"
)

// The merge functions below build the configuration a remediation applies. Each starts from what
// is there and only adds what the check needs, so printed commands and --fix never clobber a
// user's rules or statements. They are shared by the command templates and the fixer.

// RefusedRewrite is the error of a function that rewrites a whole configuration (a policy, a
// lifecycle, event selectors) when the existing configuration cannot be carried over exactly:
// rather than print or apply a command that silently loses part of the user's document, coffer
// refuses and says why. The engine prints a one-line note in place of the command and the fix plan
// lists the finding as not fixed with Reason.
type RefusedRewrite struct {
	// What names the configuration ("the bucket policy of arn:aws:s3:::b").
	What string
	// Reason says what cannot be kept ("it has duplicate JSON keys").
	Reason string
}

func (e *RefusedRewrite) Error() string {
	return fmt.Sprintf("%s is not rewritten: %s", e.What, e.Reason)
}

// TLSOnlySid names the statement coffer adds to deny plain-HTTP access.
const TLSOnlySid = "CofferDenyInsecureTransport"

// tlsOnlyStatement is the statement coffer adds to a bucket policy; a struct so its keys come out
// in the order people write them.
type tlsOnlyStatement struct {
	Sid       string
	Effect    string
	Principal string
	Action    string
	Resource  []string
	Condition map[string]map[string]string
}

// TLSOnlyPolicy returns the bucket policy with a statement denying requests without TLS added.
// Every existing part of the policy is kept as written (see rawjson.go); a policy that already has
// the statement comes back unchanged, compacted. A policy that cannot be carried over exactly
// (invalid JSON, duplicate keys) gives a *RefusedRewrite.
func TLSOnlyPolicy(bucketARN, current string) (string, error) {
	what := "the bucket policy of " + bucketARN
	add, err := compactJSON(tlsOnlyStatement{
		Sid: TLSOnlySid, Effect: "Deny", Principal: "*", Action: "s3:*",
		Resource:  []string{bucketARN, bucketARN + "/*"},
		Condition: map[string]map[string]string{"Bool": {"aws:SecureTransport": "false"}},
	})
	if err != nil {
		return "", fmt.Errorf("encode the TLS-only statement for %s: %w", bucketARN, err)
	}
	text := DecodePolicyText(current)
	if strings.TrimSpace(text) == "" {
		return `{"Version":"2012-10-17","Statement":[` + add + `]}`, nil
	}
	doc, err := parseRewritable(what, text)
	if err != nil {
		return "", err
	}
	stmts, _, err := policyStatements(what, doc)
	if err != nil {
		return "", err
	}
	for _, s := range stmts {
		if hasSid(s, TLSOnlySid) {
			return compactRaw(what, doc)
		}
	}
	// A policy without Version keeps having none: adding "2012-10-17" would turn ${...} in the
	// user's statements from literal text into policy variables. The added statement means the same
	// under both versions.
	list, err := rawList(append(stmts, json.RawMessage(add)))
	if err != nil {
		return "", fmt.Errorf("join the statements of %s: %w", what, err)
	}
	if err := doc.set("Statement", list); err != nil {
		return "", fmt.Errorf("rewrite %s: %w", what, err)
	}
	return compactRaw(what, doc)
}

// MFATrustPolicy returns the trust policy of the role with aws:MultiFactorAuthPresent required on
// every Allow statement that lets an AWS principal assume it and does not already require MFA (the
// way iam-backup-role-mfa judges it). Only the Condition of those statements changes, and in it only
// the Bool operator; everything else is kept as written (see rawjson.go). A policy that cannot be
// carried over exactly gives a *RefusedRewrite.
func MFATrustPolicy(roleARN, current string) (string, error) {
	what := "the trust policy of " + roleARN
	doc, err := parseRewritable(what, DecodePolicyText(current))
	if err != nil {
		return "", err
	}
	stmts, single, err := policyStatements(what, doc)
	if err != nil {
		return "", err
	}
	changed := false
	for i, s := range stmts {
		if jsonKind(s) != '{' {
			continue // not a statement AWS would accept; kept as it is
		}
		st, err := parseRawObject(s)
		if err != nil {
			return "", fmt.Errorf("split Statement[%d] of %s: %w", i, what, err)
		}
		if !allowsAWSPrincipal(st) || requiresMFA(st) {
			continue
		}
		if stmts[i], err = withMFACondition(st); err != nil {
			var refused *RefusedRewrite
			if errors.As(err, &refused) {
				refused.What, refused.Reason = what, fmt.Sprintf("Statement[%d]: %s", i, refused.Reason)
				return "", refused
			}
			return "", fmt.Errorf("add MFA to Statement[%d] of %s: %w", i, what, err)
		}
		changed = true
	}
	if changed {
		value := stmts[0]
		if !single {
			if value, err = rawList(stmts); err != nil {
				return "", fmt.Errorf("join the statements of %s: %w", what, err)
			}
		}
		if err := doc.set("Statement", value); err != nil {
			return "", fmt.Errorf("rewrite %s: %w", what, err)
		}
	}
	return compactRaw(what, doc)
}

// hasSid reports whether a statement is an object whose Sid is sid.
func hasSid(stmt json.RawMessage, sid string) bool {
	if jsonKind(stmt) != '{' {
		return false
	}
	st, err := parseRawObject(stmt)
	if err != nil {
		return false
	}
	v, ok := st.get("Sid")
	var got string
	return ok && json.Unmarshal(v, &got) == nil && got == sid
}

// mfaKey is the condition key MFATrustPolicy requires; AWS compares condition keys without case.
const mfaKey = "aws:MultiFactorAuthPresent"

// allowsAWSPrincipal reports whether a statement is an Allow to "*" or to an AWS principal.
func allowsAWSPrincipal(st *rawObject) bool {
	var effect string
	if v, ok := st.get("Effect"); !ok || json.Unmarshal(v, &effect) != nil || effect != "Allow" {
		return false
	}
	p, ok := st.get("Principal")
	if !ok {
		return false
	}
	switch jsonKind(p) {
	case '"':
		var s string
		return json.Unmarshal(p, &s) == nil && s == "*"
	case '{':
		po, err := parseRawObject(p)
		return err == nil && po.index("AWS") >= 0
	}
	return false
}

// requiresMFA mirrors requires_mfa in policies/lib/iam.rego: Bool aws:MultiFactorAuthPresent with
// only "true" values, or NumericLessThan(Equals) aws:MultiFactorAuthAge. Such a statement is left
// as it is.
func requiresMFA(st *rawObject) bool {
	c, ok := st.get("Condition")
	if !ok || jsonKind(c) != '{' {
		return false
	}
	cond, err := parseRawObject(c)
	if err != nil {
		return false
	}
	for _, op := range cond.members {
		if jsonKind(op.value) != '{' {
			continue
		}
		keys, err := parseRawObject(op.value)
		if err != nil {
			continue
		}
		for _, k := range keys.members {
			switch {
			case strings.EqualFold(op.key, "Bool") && strings.EqualFold(k.key, mfaKey):
				if values := conditionValues(k.value); len(values) > 0 && allFold(values, "true") {
					return true
				}
			case (strings.EqualFold(op.key, "NumericLessThan") || strings.EqualFold(op.key, "NumericLessThanEquals")) &&
				strings.EqualFold(k.key, "aws:MultiFactorAuthAge"):
				if len(conditionValues(k.value)) > 0 {
					return true
				}
			}
		}
	}
	return false
}

// conditionValues returns a condition value (a scalar or a list of them) as strings, the way
// ParsePolicy normalises it; nil when it is neither.
func conditionValues(v json.RawMessage) []string {
	var items []json.RawMessage
	if jsonKind(v) == '[' {
		if json.Unmarshal(v, &items) != nil {
			return nil
		}
	} else {
		items = []json.RawMessage{v}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		var s string
		var b bool
		switch {
		case json.Unmarshal(it, &s) == nil:
			out = append(out, s)
		case json.Unmarshal(it, &b) == nil:
			out = append(out, strconv.FormatBool(b))
		default:
			out = append(out, string(bytes.TrimSpace(it)))
		}
	}
	return out
}

func allFold(values []string, want string) bool {
	for _, v := range values {
		if !strings.EqualFold(v, want) {
			return false
		}
	}
	return true
}

// withMFACondition returns the statement with Bool aws:MultiFactorAuthPresent "true" in its
// Condition: added to an existing Bool operator (an existing aws:MultiFactorAuthPresent, however
// spelled, gets the value "true" where it stands, so no second spelling contradicts it), or a Bool
// operator added to the Condition, or a Condition added to the statement.
func withMFACondition(st *rawObject) (json.RawMessage, error) {
	mfaTrue := json.RawMessage(`{"` + mfaKey + `":"true"}`)
	c, ok := st.get("Condition")
	if !ok || jsonKind(c) == 'n' {
		if err := st.set("Condition", json.RawMessage(`{"Bool":`+string(mfaTrue)+`}`)); err != nil {
			return nil, err
		}
		return st.compact()
	}
	if jsonKind(c) != '{' {
		return nil, &RefusedRewrite{Reason: "its Condition is not an object; edit it by hand"}
	}
	cond, err := parseRawObject(c)
	if err != nil {
		return nil, err
	}
	i := cond.indexFold("Bool")
	if i < 0 {
		if err := cond.set("Bool", mfaTrue); err != nil {
			return nil, err
		}
	} else {
		b := cond.members[i].value
		if jsonKind(b) != '{' {
			return nil, &RefusedRewrite{Reason: "its Condition operator " + cond.members[i].key + " is not an object; edit it by hand"}
		}
		keys, err := parseRawObject(b)
		if err != nil {
			return nil, err
		}
		found := false
		for j := range keys.members {
			if strings.EqualFold(keys.members[j].key, mfaKey) {
				keys.members[j].value, found = json.RawMessage(`"true"`), true
			}
		}
		if !found {
			if err := keys.set(mfaKey, json.RawMessage(`"true"`)); err != nil {
				return nil, err
			}
		}
		if cond.members[i].value, err = keys.compact(); err != nil {
			return nil, err
		}
	}
	newCond, err := cond.compact()
	if err != nil {
		return nil, err
	}
	if err := st.set("Condition", newCond); err != nil {
		return nil, err
	}
	return st.compact()
}

// compactRaw returns the rewritten document as a string.
func compactRaw(what string, doc *rawObject) (string, error) {
	out, err := doc.compact()
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", what, err)
	}
	return string(out), nil
}

// Lifecycle rule ids coffer adds.
const (
	ArchiveRuleID = "coffer-archive"
	HygieneRuleID = "coffer-hygiene"
)

// ArchiveRule is the whole-bucket rule coffer adds to move current versions to an archive class.
func ArchiveRule(days int, class string) map[string]any {
	return map[string]any{
		"ID": ArchiveRuleID, "Status": "Enabled", "Filter": map[string]any{"Prefix": ""},
		"Transitions": []any{map[string]any{"Days": days, "StorageClass": class}},
	}
}

// HygieneRule is the whole-bucket rule coffer adds to move noncurrent versions to GLACIER after 30
// days and abort incomplete multipart uploads after abortDays. It transitions rather than expires
// noncurrent versions: expiring them would delete backup data, which coffer never does on its own.
func HygieneRule(abortDays int) map[string]any {
	return map[string]any{
		"ID": HygieneRuleID, "Status": "Enabled", "Filter": map[string]any{"Prefix": ""},
		"NoncurrentVersionTransitions":   []any{map[string]any{"NoncurrentDays": 30, "StorageClass": "GLACIER"}},
		"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": abortDays},
	}
}

// RewriteLifecycle returns the bucket's lifecycle configuration (S3 API JSON) with the given coffer
// rules merged in (MergeLifecycle), or a *RefusedRewrite when the snapshot does not hold the whole
// configuration (Lifecycle.UnmodeledFields): put-bucket-lifecycle-configuration replaces it all.
func RewriteLifecycle(b *Bucket, add ...map[string]any) (string, error) {
	if b.Lifecycle != nil {
		if err := refuseUnmodeled("the lifecycle configuration of bucket "+b.Name, b.Lifecycle.UnmodeledFields); err != nil {
			return "", err
		}
	}
	return MergeLifecycle(lifecycleRules(b), add...)
}

// MergeLifecycle returns the lifecycle configuration (S3 API JSON) made of the existing rules plus
// the given coffer rules; an existing rule with the same ID as an added one is replaced, every
// other rule is kept. The rules must be the whole configuration: RewriteLifecycle checks that for
// a bucket of the snapshot.
func MergeLifecycle(rules []LifecycleRule, add ...map[string]any) (string, error) {
	replaced := map[any]bool{}
	for _, r := range add {
		replaced[r["ID"]] = true
	}
	out := make([]any, 0, len(rules)+len(add))
	for _, r := range rules {
		if replaced[r.ID] {
			continue
		}
		out = append(out, LifecycleRuleJSON(r))
	}
	for _, r := range add {
		out = append(out, r)
	}
	return compactJSON(map[string]any{"Rules": out})
}

// LifecycleRuleJSON converts a snapshot lifecycle rule back to the S3 API's JSON shape.
func LifecycleRuleJSON(r LifecycleRule) map[string]any {
	m := map[string]any{"Status": r.Status}
	if r.ID != "" {
		m["ID"] = r.ID
	}
	f := r.Filter
	var conds []string
	if f.Prefix != "" {
		conds = append(conds, "prefix")
	}
	if len(f.Tags) > 0 {
		conds = append(conds, "tags")
	}
	if f.ObjectSizeGreaterThan > 0 {
		conds = append(conds, "gt")
	}
	if f.ObjectSizeLessThan > 0 {
		conds = append(conds, "lt")
	}
	tags := make([]any, 0, len(f.Tags))
	for _, k := range SortedKeys(f.Tags) {
		tags = append(tags, map[string]any{"Key": k, "Value": f.Tags[k]})
	}
	switch {
	case len(conds) == 0:
		m["Filter"] = map[string]any{"Prefix": ""}
	case len(conds) == 1 && f.Prefix != "":
		m["Filter"] = map[string]any{"Prefix": f.Prefix}
	case len(conds) == 1 && len(f.Tags) == 1:
		m["Filter"] = map[string]any{"Tag": tags[0]}
	case len(conds) == 1 && f.ObjectSizeGreaterThan > 0:
		m["Filter"] = map[string]any{"ObjectSizeGreaterThan": f.ObjectSizeGreaterThan}
	case len(conds) == 1 && f.ObjectSizeLessThan > 0:
		m["Filter"] = map[string]any{"ObjectSizeLessThan": f.ObjectSizeLessThan}
	default:
		and := map[string]any{}
		if f.Prefix != "" {
			and["Prefix"] = f.Prefix
		}
		if len(tags) > 0 {
			and["Tags"] = tags
		}
		if f.ObjectSizeGreaterThan > 0 {
			and["ObjectSizeGreaterThan"] = f.ObjectSizeGreaterThan
		}
		if f.ObjectSizeLessThan > 0 {
			and["ObjectSizeLessThan"] = f.ObjectSizeLessThan
		}
		m["Filter"] = map[string]any{"And": and}
	}
	if len(r.Transitions) > 0 {
		ts := make([]any, 0, len(r.Transitions))
		for _, t := range r.Transitions {
			tm := map[string]any{"StorageClass": t.StorageClass}
			if t.Date != "" {
				tm["Date"] = t.Date
			} else {
				tm["Days"] = t.Days
			}
			ts = append(ts, tm)
		}
		m["Transitions"] = ts
	}
	if e := r.Expiration; e != nil {
		em := map[string]any{}
		switch {
		case e.Date != "":
			em["Date"] = e.Date
		case e.Days > 0:
			em["Days"] = e.Days
		default:
			em["ExpiredObjectDeleteMarker"] = e.ExpiredObjectDeleteMarker
		}
		m["Expiration"] = em
	}
	if len(r.NoncurrentTransitions) > 0 {
		ts := make([]any, 0, len(r.NoncurrentTransitions))
		for _, t := range r.NoncurrentTransitions {
			tm := map[string]any{"NoncurrentDays": t.NoncurrentDays, "StorageClass": t.StorageClass}
			if t.NewerNoncurrentVersions > 0 {
				tm["NewerNoncurrentVersions"] = t.NewerNoncurrentVersions
			}
			ts = append(ts, tm)
		}
		m["NoncurrentVersionTransitions"] = ts
	}
	if e := r.NoncurrentExpiration; e != nil {
		em := map[string]any{"NoncurrentDays": e.NoncurrentDays}
		if e.NewerNoncurrentVersions > 0 {
			em["NewerNoncurrentVersions"] = e.NewerNoncurrentVersions
		}
		m["NoncurrentVersionExpiration"] = em
	}
	if r.AbortIncompleteMultipartUploadDays != nil {
		m["AbortIncompleteMultipartUpload"] = map[string]any{"DaysAfterInitiation": *r.AbortIncompleteMultipartUploadDays}
	}
	return m
}

// DataEventSelectors returns the put-event-selectors argument (flag and JSON) that adds S3 data
// events for bucket to the trail's selectors, keeping the existing ones in the same style (basic or
// advanced) the trail uses.
func DataEventSelectors(t *Trail, partition, bucket string) (flag, value string, err error) {
	return DataEventSelectorsFor(t, partition, []string{bucket})
}

// DataEventSelectorsFor is DataEventSelectors for several buckets at once.
func DataEventSelectorsFor(t *Trail, partition string, buckets []string) (flag, value string, err error) {
	return TrailSelectors(t, partition, buckets, false)
}

// TrailSelectors returns the put-event-selectors argument that keeps the trail's selectors and adds
// S3 data events for the buckets and, when addManagement is set, read and write management events.
func TrailSelectors(t *Trail, partition string, buckets []string, addManagement bool) (flag, value string, err error) {
	if err := SelectorsRewriteError(t); err != nil {
		return "", "", err
	}
	if partition == "" {
		partition = "aws"
	}
	prefixes := make([]string, len(buckets))
	for i, b := range buckets {
		prefixes[i] = fmt.Sprintf("arn:%s:s3:::%s/", partition, b)
	}
	name := "coffer: S3 data events for " + strings.Join(buckets, ", ")
	if len(name) > 1000 {
		name = fmt.Sprintf("coffer: S3 data events for %d buckets", len(buckets))
	}
	if len(t.AdvancedEventSelectors) > 0 {
		sels := AdvancedSelectorsJSON(t.AdvancedEventSelectors)
		if addManagement {
			sels = append(sels, map[string]any{"Name": "Management events", "FieldSelectors": []any{
				map[string]any{"Field": "eventCategory", "Equals": []string{"Management"}},
			}})
		}
		if len(buckets) > 0 {
			sels = append(sels, map[string]any{
				"Name": name,
				"FieldSelectors": []any{
					map[string]any{"Field": "eventCategory", "Equals": []string{"Data"}},
					map[string]any{"Field": "resources.type", "Equals": []string{"AWS::S3::Object"}},
					map[string]any{"Field": "resources.ARN", "StartsWith": prefixes},
				},
			})
		}
		value, err = compactJSON(sels)
		return "--advanced-event-selectors", value, err
	}
	sels := BasicSelectorsJSON(t.EventSelectors)
	if addManagement {
		sels = append(sels, map[string]any{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": []any{}})
	}
	if len(buckets) > 0 {
		sels = append(sels, map[string]any{
			"ReadWriteType": "All", "IncludeManagementEvents": len(t.EventSelectors) == 0 && !addManagement,
			"DataResources": []any{map[string]any{"Type": "AWS::S3::Object", "Values": prefixes}},
		})
	}
	value, err = compactJSON(sels)
	return "--event-selectors", value, err
}

// BasicSelectorsJSON converts basic event selectors to the CloudTrail API's JSON shape.
func BasicSelectorsJSON(basic []EventSelector) []any {
	out := make([]any, 0, len(basic)+2)
	for _, s := range basic {
		drs := make([]any, 0, len(s.DataResources))
		for _, d := range s.DataResources {
			drs = append(drs, map[string]any{"Type": d.Type, "Values": d.Values})
		}
		sm := map[string]any{"ReadWriteType": nameOr(s.ReadWriteType, "All"), "IncludeManagementEvents": s.IncludeManagementEvents, "DataResources": drs}
		if len(s.ExcludeManagementEventSources) > 0 {
			sm["ExcludeManagementEventSources"] = s.ExcludeManagementEventSources
		}
		out = append(out, sm)
	}
	return out
}

// AdvancedSelectorsJSON converts advanced event selectors to the CloudTrail API's JSON shape.
func AdvancedSelectorsJSON(adv []AdvancedEventSelector) []any {
	out := make([]any, 0, len(adv)+2)
	for _, s := range adv {
		fields := make([]any, 0, len(s.FieldSelectors))
		for _, f := range s.FieldSelectors {
			fm := map[string]any{"Field": f.Field}
			for k, v := range map[string][]string{"Equals": f.Equals, "StartsWith": f.StartsWith, "EndsWith": f.EndsWith, "NotEquals": f.NotEquals, "NotStartsWith": f.NotStartsWith, "NotEndsWith": f.NotEndsWith} {
				if len(v) > 0 {
					fm[k] = v
				}
			}
			fields = append(fields, fm)
		}
		sm := map[string]any{"FieldSelectors": fields}
		if s.Name != "" {
			sm["Name"] = s.Name
		}
		out = append(out, sm)
	}
	return out
}

// PasswordPolicyUpdate returns the settings (UpdateAccountPasswordPolicy names) that keep every
// current setting and raise length and reuse prevention to at least the required values: the API
// replaces the whole policy, so unspecified settings would otherwise be reset. It refuses
// (*RefusedRewrite) when the snapshot does not hold the whole policy (PasswordPolicy.UnmodeledFields).
func PasswordPolicyUpdate(cur *PasswordPolicy, minLength, reuse int) (map[string]any, error) {
	p := PasswordPolicy{}
	if cur != nil && cur.Exists {
		if err := refuseUnmodeled("the account password policy", cur.UnmodeledFields); err != nil {
			return nil, err
		}
		p = *cur
	}
	m := map[string]any{
		"MinimumPasswordLength":      max(int(p.MinimumPasswordLength), minLength),
		"PasswordReusePrevention":    max(int(p.PasswordReusePrevention), reuse),
		"RequireSymbols":             p.RequireSymbols,
		"RequireNumbers":             p.RequireNumbers,
		"RequireUppercaseCharacters": p.RequireUppercaseCharacters,
		"RequireLowercaseCharacters": p.RequireLowercaseCharacters,
		// With no policy, IAM lets users change their password; keep that.
		"AllowUsersToChangePassword": p.AllowUsersToChangePassword || cur == nil || !cur.Exists,
	}
	if p.MaxPasswordAge > 0 {
		m["MaxPasswordAge"] = int(p.MaxPasswordAge)
	}
	if p.HardExpiry {
		m["HardExpiry"] = true
	}
	return m, nil
}

// PasswordPolicyFlags returns the update-account-password-policy flags of PasswordPolicyUpdate.
func PasswordPolicyFlags(cur *PasswordPolicy, minLength, reuse int) (string, error) {
	m, err := PasswordPolicyUpdate(cur, minLength, reuse)
	if err != nil {
		return "", err
	}
	var flags []string
	for _, s := range []struct{ key, flag string }{
		{"MinimumPasswordLength", "minimum-password-length"},
		{"PasswordReusePrevention", "password-reuse-prevention"},
		{"RequireSymbols", "require-symbols"},
		{"RequireNumbers", "require-numbers"},
		{"RequireUppercaseCharacters", "require-uppercase-characters"},
		{"RequireLowercaseCharacters", "require-lowercase-characters"},
		{"AllowUsersToChangePassword", "allow-users-to-change-password"},
		{"MaxPasswordAge", "max-password-age"},
		{"HardExpiry", "hard-expiry"},
	} {
		switch v := m[s.key].(type) {
		case int:
			flags = append(flags, fmt.Sprintf("--%s %d", s.flag, v))
		case bool:
			if v {
				flags = append(flags, "--"+s.flag)
			} else {
				flags = append(flags, "--no-"+s.flag)
			}
		case nil:
		default:
			return "", fmt.Errorf("password policy setting %s has unexpected type %T", s.key, v)
		}
	}
	if len(flags) != len(m) {
		return "", fmt.Errorf("password policy settings %v have no flag", SortedKeys(m))
	}
	return strings.Join(flags, " "), nil
}

// compactJSON encodes v for a command line: compact, with '<' and '&' left readable, and control
// and format characters inside strings as \u escapes, so that a printed JSON argument never holds
// one (the document means the same to AWS).
func compactJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return shellcmd.EscapeJSONControls(strings.TrimSuffix(buf.String(), "\n")), nil
}

func lifecycleRules(b *Bucket) []LifecycleRule {
	if b.Lifecycle == nil {
		return nil
	}
	return b.Lifecycle.Rules
}

// Configurations that the commands of several checks may rewrite as a whole (METADATA
// remediation.rewrites), so that each printed command must carry the others' changes.
const (
	// RewritesLifecycle is a bucket's lifecycle configuration.
	RewritesLifecycle = "lifecycle"
	// RewritesTrailSelectors is a trail's event selectors.
	RewritesTrailSelectors = "trail-selectors"
)

// rewriteTargets says what each configuration of remediation.rewrites is, for messages.
var rewriteTargets = map[string]string{
	RewritesLifecycle:      "a bucket's whole lifecycle configuration",
	RewritesTrailSelectors: "a trail's whole event selectors",
}

// The template functions that rewrite a whole configuration.
const (
	fnLifecycleArchive      = "lifecycleArchive"
	fnLifecycleHygiene      = "lifecycleHygiene"
	fnDataEventSelectorArgs = "dataEventSelectorArgs"
	fnTrailSelectorArgs     = "trailSelectorArgs"
)

// rewriteFuncs maps each template function that rewrites a whole configuration to that
// configuration. What a check adds to the configuration is what the functions its commands call
// add: the archive rule (lifecycleArchive), the hygiene rule (lifecycleHygiene), data events for
// its bucket (dataEventSelectorArgs), management events (trailSelectorArgs).
var rewriteFuncs = map[string]string{
	fnLifecycleArchive:      RewritesLifecycle,
	fnLifecycleHygiene:      RewritesLifecycle,
	fnDataEventSelectorArgs: RewritesTrailSelectors,
	fnTrailSelectorArgs:     RewritesTrailSelectors,
}

// rewriter is a check whose commands rewrite a whole configuration, with the functions of
// rewriteFuncs they call.
type rewriter struct {
	id    string
	calls map[string]bool
}

// indexRewriters groups the rules that declare remediation.rewrites by configuration.
func indexRewriters(rules []*loadedRule) map[string][]rewriter {
	out := map[string][]rewriter{}
	for _, r := range rules {
		if cfg := r.Remediation.Rewrites; cfg != "" {
			out[cfg] = append(out[cfg], rewriter{id: r.ID, calls: rewriteCalls(r.Remediation.Commands)})
		}
	}
	return out
}

// rewritersCalling returns the ids of the checks rewriting cfg whose commands call fn.
func (ev *evaluation) rewritersCalling(cfg, fn string) []string {
	var ids []string
	for _, r := range ev.rewriters[cfg] {
		if r.calls[fn] {
			ids = append(ids, r.id)
		}
	}
	return ids
}

// checkRewrites validates remediation.rewrites against the commands: the checks that rewrite a
// configuration are found from it, and what each adds from the functions its commands call, so
// the two must agree.
func checkRewrites(rewrites string, commands []string) error {
	if rewrites != "" && rewrites != RewritesLifecycle && rewrites != RewritesTrailSelectors {
		return fmt.Errorf("%q must be %s or %s", rewrites, RewritesLifecycle, RewritesTrailSelectors)
	}
	calls := rewriteCalls(commands)
	for _, fn := range SortedKeys(calls) {
		if cfg := rewriteFuncs[fn]; cfg != rewrites {
			return fmt.Errorf("must be %s: the commands call %s, which rewrites %s", cfg, fn, rewriteTargets[cfg])
		}
	}
	if rewrites != "" && len(calls) == 0 {
		var fns []string
		for _, fn := range SortedKeys(rewriteFuncs) {
			if rewriteFuncs[fn] == rewrites {
				fns = append(fns, fn)
			}
		}
		return fmt.Errorf("is %s, but no command calls %s", rewrites, strings.Join(fns, " or "))
	}
	return nil
}

// rewriteCalls returns the functions of rewriteFuncs that the command templates call. A template
// that does not parse calls nothing here; loading reports its error.
func rewriteCalls(commands []string) map[string]bool {
	called := map[string]bool{}
	for _, cmd := range commands {
		t, err := template.New("").Funcs(templateFuncs).Parse(cmd)
		if err != nil || t.Tree == nil {
			continue
		}
		walkIdentifiers(t.Tree.Root, func(name string) {
			if _, ok := rewriteFuncs[name]; ok {
				called[name] = true
			}
		})
	}
	return called
}

// walkIdentifiers calls fn with the name of every function a template node calls.
func walkIdentifiers(node parse.Node, fn func(string)) {
	switch n := node.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkIdentifiers(c, fn)
		}
	case *parse.ActionNode:
		walkIdentifiers(n.Pipe, fn)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkIdentifiers(c, fn)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walkIdentifiers(a, fn)
		}
	case *parse.ChainNode:
		walkIdentifiers(n.Node, fn)
	case *parse.IdentifierNode:
		fn(n.Ident)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.TemplateNode:
		walkIdentifiers(n.Pipe, fn)
	}
}

func walkBranch(b *parse.BranchNode, fn func(string)) {
	walkIdentifiers(b.Pipe, fn)
	walkIdentifiers(b.List, fn)
	walkIdentifiers(b.ElseList, fn)
}
