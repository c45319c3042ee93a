package checks

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ChangeKind says how a configuration item changed.
type ChangeKind string

// Change kinds.
const (
	ChangeAdded   ChangeKind = "added"
	ChangeRemoved ChangeKind = "removed"
	ChangeChanged ChangeKind = "changed"
)

// ConfigChange is one configuration difference of one resource between two snapshots. Path names
// the item in words ("lifecycle rule archive transition days"); it is empty when the whole resource
// was added or removed. Before and After are display values ("" when absent).
type ConfigChange struct {
	Type     string     `json:"type"`
	Resource string     `json:"resource"`
	ARN      string     `json:"arn,omitempty"`
	Path     string     `json:"path"`
	Kind     ChangeKind `json:"kind"`
	Before   string     `json:"before,omitempty"`
	After    string     `json:"after,omitempty"`
}

// String is the change as one line, e.g. "bucket vault-primary: lifecycle rule archive transition
// days 14 → 30" or "bucket vault-scratch added (us-east-1)".
func (c ConfigChange) String() string {
	if c.Path == "" {
		detail := c.After
		if c.Kind == ChangeRemoved {
			detail = c.Before
		}
		if detail != "" {
			return fmt.Sprintf("%s %s %s (%s)", c.Type, c.Resource, c.Kind, detail)
		}
		return fmt.Sprintf("%s %s %s", c.Type, c.Resource, c.Kind)
	}
	switch c.Kind {
	case ChangeAdded:
		if c.After != "" {
			return fmt.Sprintf("%s %s: %s added: %s", c.Type, c.Resource, c.Path, c.After)
		}
		return fmt.Sprintf("%s %s: %s added", c.Type, c.Resource, c.Path)
	case ChangeRemoved:
		if c.Before != "" {
			return fmt.Sprintf("%s %s: %s removed: %s", c.Type, c.Resource, c.Path, c.Before)
		}
		return fmt.Sprintf("%s %s: %s removed", c.Type, c.Resource, c.Path)
	}
	return fmt.Sprintf("%s %s: %s %s → %s", c.Type, c.Resource, c.Path, displayValue(c.Before), displayValue(c.After))
}

func displayValue(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// DiffSnapshots lists the configuration that changed between two snapshots of the same account,
// resource by resource: the account settings, buckets by name, KMS keys and trails by ARN, IAM
// users, groups, roles and managed policies by ARN. A configuration item that could not be read in
// one snapshot is reported as such, never as removed. Different accounts are an
// *AccountMismatchError.
func DiffSnapshots(old, new *Snapshot) ([]ConfigChange, error) {
	if old.Account.ID != new.Account.ID {
		return nil, &AccountMismatchError{Old: old.Account.ID, New: new.Account.ID}
	}
	changes := []ConfigChange{}
	changes = append(changes, diffResource(accountFacts(&old.Account), accountFacts(&new.Account))...)
	changes = append(changes, diffResourceLists(factsOf(old.S3.Buckets, bucketFacts), factsOf(new.S3.Buckets, bucketFacts))...)
	changes = append(changes, diffResourceLists(factsOf(old.KMS.Keys, keyFacts), factsOf(new.KMS.Keys, keyFacts))...)
	changes = append(changes, diffResourceLists(factsOf(old.CloudTrail.Trails, trailFacts), factsOf(new.CloudTrail.Trails, trailFacts))...)
	changes = append(changes, diffResourceLists(factsOf(old.IAM.Users, userFacts), factsOf(new.IAM.Users, userFacts))...)
	changes = append(changes, diffResourceLists(factsOf(old.IAM.Groups, groupFacts), factsOf(new.IAM.Groups, groupFacts))...)
	changes = append(changes, diffResourceLists(factsOf(old.IAM.Roles, roleFacts), factsOf(new.IAM.Roles, roleFacts))...)
	changes = append(changes, diffResourceLists(factsOf(old.IAM.Policies, managedPolicyFacts), factsOf(new.IAM.Policies, managedPolicyFacts))...)
	return changes, nil
}

// The configuration diff flattens each resource into facts: named sections (one per
// configuration item AWS returns separately, so an unreadable one is known), each with scalar
// fields and keyed items (lifecycle rules by id, policy statements by Sid, ...). Comparing facts
// keeps the per-type code to "what is there", and the wording of every change uniform.

type fact struct{ key, value string }

type factItem struct {
	key     string // "rule archive", "statement DenyInsecureTransport"
	summary string // the whole item, shown when it is added or removed
	fields  []fact
}

type factSection struct {
	name       string // "" for the resource's own fields
	unreadable bool
	fields     []fact
	items      []factItem
}

type resourceFacts struct {
	typ, id, name, arn, summary string // id matches resources across snapshots
	sections                    []factSection
}

func factsOf[T any](xs []T, f func(*T) resourceFacts) []resourceFacts {
	out := make([]resourceFacts, 0, len(xs))
	for i := range xs {
		out = append(out, f(&xs[i]))
	}
	slices.SortStableFunc(out, func(a, b resourceFacts) int { return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.id, b.id)) })
	return out
}

func diffResourceLists(old, new []resourceFacts) []ConfigChange {
	byID := make(map[string]resourceFacts, len(new))
	for _, r := range new {
		byID[r.id] = r
	}
	seen := map[string]bool{}
	var changes []ConfigChange
	for _, o := range old {
		seen[o.id] = true
		n, ok := byID[o.id]
		if !ok {
			changes = append(changes, ConfigChange{Type: o.typ, Resource: o.name, ARN: o.arn, Kind: ChangeRemoved, Before: o.summary})
			continue
		}
		changes = append(changes, diffResource(o, n)...)
	}
	for _, n := range new {
		if !seen[n.id] {
			changes = append(changes, ConfigChange{Type: n.typ, Resource: n.name, ARN: n.arn, Kind: ChangeAdded, After: n.summary})
		}
	}
	slices.SortStableFunc(changes, func(a, b ConfigChange) int { return cmp.Compare(a.Resource, b.Resource) })
	return changes
}

func diffResource(old, new resourceFacts) []ConfigChange {
	var changes []ConfigChange
	add := func(path string, kind ChangeKind, before, after string) {
		changes = append(changes, ConfigChange{Type: new.typ, Resource: new.name, ARN: new.arn, Path: path, Kind: kind, Before: before, After: after})
	}
	newSections := map[string]factSection{}
	for _, s := range new.sections {
		newSections[s.name] = s
	}
	for _, osec := range old.sections {
		ns, ok := newSections[osec.name]
		if !ok {
			continue // every builder emits the same sections; nothing to compare
		}
		switch {
		case osec.unreadable && ns.unreadable:
			continue
		case osec.unreadable || ns.unreadable:
			add(osec.name, ChangeChanged, readability(osec.unreadable), readability(ns.unreadable))
			continue
		}
		diffFields(joinPath(osec.name), osec.fields, ns.fields, add)
		newItems := map[string]factItem{}
		for _, it := range ns.items {
			newItems[it.key] = it
		}
		oldKeys := map[string]bool{}
		for _, oi := range osec.items {
			oldKeys[oi.key] = true
			ni, ok := newItems[oi.key]
			if !ok {
				add(joinPath(osec.name, oi.key), ChangeRemoved, oi.summary, "")
				continue
			}
			diffFields(joinPath(osec.name, oi.key), oi.fields, ni.fields, add)
		}
		for _, ni := range ns.items {
			if !oldKeys[ni.key] {
				add(joinPath(osec.name, ni.key), ChangeAdded, "", ni.summary)
			}
		}
	}
	return changes
}

func readability(unreadable bool) string {
	if unreadable {
		return "unreadable"
	}
	return "read"
}

func diffFields(prefix string, old, new []fact, add func(path string, kind ChangeKind, before, after string)) {
	newVals := make(map[string]string, len(new))
	for _, f := range new {
		newVals[f.key] = f.value
	}
	oldKeys := map[string]bool{}
	for _, f := range old {
		oldKeys[f.key] = true
		nv, ok := newVals[f.key]
		switch {
		case !ok:
			add(joinPath(prefix, f.key), ChangeRemoved, f.value, "")
		case nv != f.value:
			add(joinPath(prefix, f.key), ChangeChanged, f.value, nv)
		}
	}
	for _, f := range new {
		if !oldKeys[f.key] {
			add(joinPath(prefix, f.key), ChangeAdded, "", f.value)
		}
	}
}

func joinPath(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, " ")
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func itoa[T ~int32 | ~int64 | ~int](n T) string { return strconv.FormatInt(int64(n), 10) }

func timeValue(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// canonical is a stable compact JSON of v (struct field order, sorted map keys).
func canonical(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func shortHash(s string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return fmt.Sprintf("%08x", h.Sum32())
}

func pabFields(p *PublicAccessBlock) []fact {
	return []fact{
		{"BlockPublicAcls", onOff(p.BlockPublicAcls)}, {"IgnorePublicAcls", onOff(p.IgnorePublicAcls)},
		{"BlockPublicPolicy", onOff(p.BlockPublicPolicy)}, {"RestrictPublicBuckets", onOff(p.RestrictPublicBuckets)},
	}
}

// policySection lists a policy's statements as items keyed by Sid (or, without one, by a hash of
// the statement, so an edited anonymous statement reads as one removed and one added).
func policySection(name string, p *Policy) factSection {
	s := factSection{name: name, unreadable: p == nil}
	if p == nil {
		return s
	}
	if p.ParseError != "" {
		s.fields = append(s.fields, fact{"document", "unparsable (" + shortHash(p.Text) + ")"})
	}
	if p.Document == nil {
		return s
	}
	for _, st := range p.Document.Statements {
		js := canonical(st)
		key := "statement " + st.Sid
		if st.Sid == "" {
			key = "statement #" + shortHash(js)
		}
		it := factItem{key: key, summary: js}
		it.fields = append(it.fields, fact{"effect", st.Effect})
		for _, f := range []struct {
			name string
			v    any
		}{
			{"principal", st.Principal}, {"not principal", st.NotPrincipal}, {"action", st.Action}, {"not action", st.NotAction},
			{"resource", st.Resource}, {"not resource", st.NotResource}, {"condition", st.Condition},
		} {
			if v := canonical(f.v); v != "null" {
				it.fields = append(it.fields, fact{f.name, v})
			}
		}
		s.items = append(s.items, it)
	}
	return s
}

func accountFacts(a *Account) resourceFacts {
	r := resourceFacts{typ: "account", id: a.ID, name: a.ID}
	pab := factSection{name: "public access block", unreadable: a.PublicAccessBlock == nil}
	if a.PublicAccessBlock != nil {
		pab.fields = pabFields(a.PublicAccessBlock)
	}
	pp := factSection{name: "password policy", unreadable: a.PasswordPolicy == nil}
	if p := a.PasswordPolicy; p != nil {
		pp.fields = []fact{{"exists", strconv.FormatBool(p.Exists)}}
		if p.Exists {
			pp.fields = append(pp.fields,
				fact{"minimum length", itoa(p.MinimumPasswordLength)}, fact{"reuse prevention", itoa(p.PasswordReusePrevention)},
				fact{"max age", itoa(p.MaxPasswordAge)}, fact{"require symbols", onOff(p.RequireSymbols)},
				fact{"require numbers", onOff(p.RequireNumbers)}, fact{"require uppercase", onOff(p.RequireUppercaseCharacters)},
				fact{"require lowercase", onOff(p.RequireLowercaseCharacters)})
		}
	}
	r.sections = []factSection{pab, pp}
	return r
}

func bucketFacts(b *Bucket) resourceFacts {
	r := resourceFacts{typ: "bucket", id: b.Name, name: b.Name, arn: b.ARN, summary: b.Region}
	top := factSection{fields: []fact{{"region", b.Region}}}
	for _, k := range sortedMapKeys(b.Tags) {
		top.fields = append(top.fields, fact{"tag " + k, b.Tags[k]})
	}
	ver := factSection{name: "versioning", unreadable: b.Versioning == nil}
	if v := b.Versioning; v != nil {
		ver.fields = []fact{{"status", v.Status}, {"MFA delete", v.MFADelete}}
	}
	lock := factSection{name: "object lock", unreadable: b.ObjectLock == nil}
	if l := b.ObjectLock; l != nil {
		ret := "none"
		if d := l.DefaultRetention; d != nil {
			switch {
			case d.Years > 0:
				ret = fmt.Sprintf("%s %d years", d.Mode, d.Years)
			default:
				ret = fmt.Sprintf("%s %d days", d.Mode, d.Days)
			}
		}
		lock.fields = []fact{{"enabled", onOff(l.Enabled)}, {"default retention", ret}}
	}
	enc := factSection{name: "encryption", unreadable: b.Encryption == nil}
	if e := b.Encryption; e != nil {
		if len(e.Rules) == 0 {
			enc.fields = []fact{{"algorithm", "none"}}
		}
		for i, rule := range e.Rules {
			prefix := ""
			if len(e.Rules) > 1 {
				prefix = fmt.Sprintf("rule %d ", i+1)
			}
			enc.fields = append(enc.fields, fact{prefix + "algorithm", rule.Algorithm}, fact{prefix + "KMS key", rule.KMSKeyID}, fact{prefix + "bucket key", onOff(rule.BucketKeyEnabled)})
		}
	}
	lc := factSection{name: "lifecycle", unreadable: b.Lifecycle == nil}
	if b.Lifecycle != nil {
		for _, rule := range b.Lifecycle.Rules {
			lc.items = append(lc.items, lifecycleItem(rule))
		}
	}
	pab := factSection{name: "public access block", unreadable: b.PublicAccessBlock == nil}
	if b.PublicAccessBlock != nil {
		pab.fields = pabFields(b.PublicAccessBlock)
	}
	acl := factSection{name: "acl", unreadable: b.ACL == nil}
	if b.ACL != nil {
		for _, g := range b.ACL.Grants {
			who := cmp.Or(g.URI, g.ID, g.Email)
			if who == b.ACL.OwnerID && g.Type == "CanonicalUser" {
				who = "the owner"
			}
			acl.items = append(acl.items, factItem{key: fmt.Sprintf("grant %s to %s", g.Permission, who)})
		}
	}
	own := factSection{name: "ownership", unreadable: b.Ownership == nil}
	if b.Ownership != nil {
		own.fields = []fact{{"object ownership", b.Ownership.ObjectOwnership}}
	}
	logging := factSection{name: "logging", unreadable: b.Logging == nil}
	if l := b.Logging; l != nil {
		logging.fields = []fact{{"enabled", onOff(l.Enabled)}, {"target bucket", l.TargetBucket}, {"target prefix", l.TargetPrefix}}
	}
	rep := factSection{name: "replication", unreadable: b.Replication == nil}
	if rc := b.Replication; rc != nil {
		rep.fields = []fact{{"role", rc.Role}}
		for _, rule := range rc.Rules {
			fields := []fact{
				{"status", rule.Status}, {"priority", itoa(rule.Priority)}, {"prefix", rule.Prefix},
				{"destination", cmp.Or(rule.DestinationBucket, rule.DestinationBucketARN)}, {"destination account", rule.DestinationAccount},
				{"storage class", rule.StorageClass}, {"replica KMS key", rule.ReplicaKMSKeyID},
				{"SSE-KMS objects", onOff(rule.SSEKMSEncryptedObjects)}, {"delete marker replication", onOff(rule.DeleteMarkerReplication)},
			}
			rep.items = append(rep.items, factItem{key: "rule " + rule.ID, summary: fieldsSummary(fields), fields: fields})
		}
	}
	r.sections = []factSection{top, ver, lock, enc, lc, pab, policySection("policy", b.Policy), acl, own, logging, rep}
	return r
}

// fieldsSummary shows an added or removed item by its fields: "status Enabled, filter whole
// bucket, transition days 14, ...".
func fieldsSummary(fs []fact) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		if f.value != "" {
			parts = append(parts, f.key+" "+f.value)
		}
	}
	return strings.Join(parts, ", ")
}

func lifecycleItem(rule LifecycleRule) factItem {
	it := factItem{key: "rule " + rule.ID}
	it.fields = []fact{{"status", rule.Status}, {"filter", lifecycleFilter(rule.Filter)}}
	// One transition is the common case: name its fields plainly ("transition days 14 → 30"). With
	// several, key them by storage class so a reorder is not a change.
	if len(rule.Transitions) == 1 {
		t := rule.Transitions[0]
		it.fields = append(it.fields, fact{"transition days", itoa(t.Days)}, fact{"transition storage class", t.StorageClass})
		if t.Date != "" {
			it.fields = append(it.fields, fact{"transition date", t.Date})
		}
	} else {
		for _, t := range rule.Transitions {
			it.fields = append(it.fields, fact{"transition to " + t.StorageClass, cmp.Or(t.Date, itoa(t.Days)+" days")})
		}
	}
	if e := rule.Expiration; e != nil {
		it.fields = append(it.fields, fact{"expiration", cmp.Or(e.Date, itoa(e.Days)+" days")}, fact{"expired object delete marker", onOff(e.ExpiredObjectDeleteMarker)})
	}
	for _, t := range rule.NoncurrentTransitions {
		it.fields = append(it.fields, fact{"noncurrent transition to " + t.StorageClass, itoa(t.NoncurrentDays) + " days"})
	}
	if e := rule.NoncurrentExpiration; e != nil {
		it.fields = append(it.fields, fact{"noncurrent expiration days", itoa(e.NoncurrentDays)})
	}
	if d := rule.AbortIncompleteMultipartUploadDays; d != nil {
		it.fields = append(it.fields, fact{"abort incomplete uploads days", itoa(*d)})
	}
	it.summary = fieldsSummary(it.fields)
	return it
}

func lifecycleFilter(f LifecycleFilter) string {
	var parts []string
	if f.Prefix != "" {
		parts = append(parts, "prefix "+f.Prefix)
	}
	for _, k := range sortedMapKeys(f.Tags) {
		parts = append(parts, "tag "+k+"="+f.Tags[k])
	}
	if f.ObjectSizeGreaterThan > 0 {
		parts = append(parts, "size > "+itoa(f.ObjectSizeGreaterThan))
	}
	if f.ObjectSizeLessThan > 0 {
		parts = append(parts, "size < "+itoa(f.ObjectSizeLessThan))
	}
	if len(parts) == 0 {
		return "whole bucket"
	}
	return strings.Join(parts, ", ")
}

func keyFacts(k *Key) resourceFacts {
	name := k.ID
	if len(k.Aliases) > 0 {
		name = slices.Min(k.Aliases)
	}
	rotation := "n/a"
	if k.RotationEnabled != nil {
		rotation = onOff(*k.RotationEnabled)
	}
	r := resourceFacts{typ: "key", id: k.ARN, name: name, arn: k.ARN, summary: k.Region}
	aliases := slices.Clone(k.Aliases)
	slices.Sort(aliases)
	r.sections = []factSection{
		{fields: []fact{{"state", k.State}, {"rotation", rotation}, {"deletion date", timeValue(k.DeletionDate)}, {"aliases", strings.Join(aliases, ", ")}, {"manager", k.Manager}}},
		policySection("policy", k.Policy),
	}
	return r
}

func trailFacts(t *Trail) resourceFacts {
	logging := "unknown"
	if t.IsLogging != nil {
		logging = onOff(*t.IsLogging)
	}
	r := resourceFacts{typ: "trail", id: t.ARN, name: t.Name, arn: t.ARN, summary: t.HomeRegion}
	sel := factSection{name: "event selectors", unreadable: !t.SelectorsRead}
	// Selectors have no stable identity (basic ones no name at all): an edited selector reads as
	// one removed and one added, which is what a reviewer needs to see anyway.
	for _, s := range t.EventSelectors {
		js := canonical(s)
		sel.items = append(sel.items, factItem{key: "basic selector #" + shortHash(js), summary: js})
	}
	for _, s := range t.AdvancedEventSelectors {
		js := canonical(s.FieldSelectors)
		sel.items = append(sel.items, factItem{key: fmt.Sprintf("advanced selector %q #%s", s.Name, shortHash(js)), summary: js})
	}
	r.sections = []factSection{
		{fields: []fact{
			{"home region", t.HomeRegion}, {"multi-region", onOff(t.MultiRegion)}, {"logging", logging},
			{"log file validation", onOff(t.LogFileValidation)}, {"KMS key", t.KMSKeyID},
			{"S3 bucket", t.S3BucketName}, {"S3 prefix", t.S3KeyPrefix}, {"global service events", onOff(t.IncludeGlobalServiceEvents)},
		}},
		sel,
	}
	return r
}

func attachedSection(attached []AttachedPolicy, inline []InlinePolicy) factSection {
	s := factSection{name: ""}
	for _, p := range attached {
		s.items = append(s.items, factItem{key: "attached policy " + p.Name, summary: p.ARN})
	}
	for _, p := range inline {
		doc := canonical(p.Document.Document)
		if p.Document.Document == nil {
			doc = "unparsable (" + shortHash(p.Document.Text) + ")"
		}
		s.items = append(s.items, factItem{key: "inline policy " + p.Name, summary: doc, fields: []fact{{"document", doc}}})
	}
	return s
}

func userFacts(u *User) resourceFacts {
	r := resourceFacts{typ: "user", id: u.ARN, name: u.Name, arn: u.ARN}
	groups := slices.Clone(u.Groups)
	slices.Sort(groups)
	mfa := slices.Clone(u.MFADevices)
	slices.Sort(mfa)
	top := attachedSection(u.AttachedPolicies, u.InlinePolicies)
	top.fields = []fact{{"console password", onOff(u.PasswordEnabled)}, {"MFA devices", strings.Join(mfa, ", ")}, {"groups", strings.Join(groups, ", ")}}
	for _, k := range u.AccessKeys {
		top.items = append(top.items, factItem{key: "access key " + k.ID, summary: k.Status, fields: []fact{{"status", k.Status}}})
	}
	r.sections = []factSection{top}
	return r
}

func groupFacts(g *Group) resourceFacts {
	return resourceFacts{typ: "group", id: g.ARN, name: g.Name, arn: g.ARN, sections: []factSection{attachedSection(g.AttachedPolicies, g.InlinePolicies)}}
}

func roleFacts(rl *Role) resourceFacts {
	trust := rl.TrustPolicy
	return resourceFacts{typ: "role", id: rl.ARN, name: rl.Name, arn: rl.ARN, sections: []factSection{
		attachedSection(rl.AttachedPolicies, rl.InlinePolicies),
		policySection("trust policy", &trust),
	}}
}

func managedPolicyFacts(p *ManagedPolicy) resourceFacts {
	doc := p.Document
	return resourceFacts{typ: "policy", id: p.ARN, name: p.Name, arn: p.ARN, sections: []factSection{
		{fields: []fact{{"default version", p.DefaultVersion}, {"attachments", itoa(p.AttachmentCount)}}},
		policySection("document", &doc),
	}}
}

func sortedMapKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
