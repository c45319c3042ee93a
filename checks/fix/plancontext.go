package fix

import (
	"fmt"
	"sort"
	"strings"

	"github.com/coffer-audit/coffer/checks"
)

// planContext is the snapshot indexed for planning.
type planContext struct {
	snap      *checks.Snapshot
	cfg       *checks.Config
	fix       checks.FixSettings
	partition string
	buckets   map[string]*checks.Bucket // by ARN and by name
	trails    map[string]*checks.Trail  // by ARN
	keys      keyIndex
	// healing are the keys a kms-key-in-use-healthy change in this plan enables.
	healing map[string]bool
}

func newPlanContext(snap *checks.Snapshot, cfg *checks.Config) *planContext {
	// The account's own fix settings (coffer.yaml accounts:), as the engine used them to render
	// the commands the plan applies.
	cfg = cfg.ForAccount(snap.Account.ID)
	pc := &planContext{
		snap: snap, cfg: cfg, fix: cfg.FixSettings(), partition: snap.Account.Partition,
		buckets: map[string]*checks.Bucket{}, trails: map[string]*checks.Trail{},
		keys:    keyIndex{byARN: map[string]*checks.Key{}, byRef: map[string]*checks.Key{}},
		healing: map[string]bool{},
	}
	if pc.partition == "" {
		pc.partition = "aws"
	}
	for i := range snap.S3.Buckets {
		b := &snap.S3.Buckets[i]
		pc.buckets[b.ARN] = b
		pc.buckets[b.Name] = b
	}
	for i := range snap.CloudTrail.Trails {
		t := &snap.CloudTrail.Trails[i]
		pc.trails[t.ARN] = t
	}
	for i := range snap.KMS.Keys {
		pc.keys.add(&snap.KMS.Keys[i])
	}
	return pc
}

// keyIndex finds a KMS key by any name a configuration may use for it.
type keyIndex struct {
	byARN map[string]*checks.Key
	byRef map[string]*checks.Key // "region|id", "region|alias/name", alias ARN
}

func (ix keyIndex) add(k *checks.Key) {
	ix.byARN[k.ARN] = k
	ix.byRef[k.Region+"|"+k.ID] = k
	for _, a := range k.Aliases {
		if strings.HasPrefix(a, "arn:") {
			ix.byRef[a] = k
			if _, name, ok := strings.Cut(a, ":alias/"); ok {
				ix.byRef[k.Region+"|alias/"+name] = k
			}
			continue
		}
		ix.byRef[k.Region+"|"+a] = k
		if acct := accountOfARN(k.ARN); acct != "" {
			ix.byRef[fmt.Sprintf("arn:%s:kms:%s:%s:%s", partitionOfARN(k.ARN), k.Region, acct, a)] = k
		}
	}
}

// find resolves a key reference (key ARN, alias ARN, key id or alias name relative to region).
func (ix keyIndex) find(ref, region string) *checks.Key {
	if ref == "" {
		return nil
	}
	if k := ix.byARN[ref]; k != nil {
		return k
	}
	if k := ix.byRef[ref]; k != nil {
		return k
	}
	return ix.byRef[region+"|"+ref]
}

func accountOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

func partitionOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) < 3 || parts[1] == "" {
		return "aws"
	}
	return parts[1]
}

func regionOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[3]
}

// bucket returns the snapshot bucket of a finding.
func (pc *planContext) bucket(f *checks.Finding) *checks.Bucket {
	if b := pc.buckets[f.Resource.ARN]; b != nil {
		return b
	}
	return pc.buckets[f.Resource.Name]
}

// configuredKey resolves the configured key (fix.kms_keys.<region>, else fix.kms_key) for a
// resource in region: the key, or why it cannot be used.
func (pc *planContext) configuredKey(region, what string) (*checks.Key, string) {
	fix := pc.fix.ForRegion(region)
	if !fix.KMSKeyConfigured {
		if pc.fix.KMSKeyConfigured {
			return nil, fmt.Sprintf("fix.kms_key %s is a key of another region than %s, where %s is (a key serves only its own region): set fix.kms_keys.%s in coffer.yaml", pc.fix.KMSKey, region, what, region)
		}
		return nil, fmt.Sprintf("set fix.kms_keys.%s (or fix.kms_key) in coffer.yaml to a customer-managed key for --fix to use", region)
	}
	source := fix.KMSKeySource(region)
	k := pc.keys.find(fix.KMSKey, region)
	switch {
	case k == nil:
		return nil, fmt.Sprintf("%s %s is not a KMS key coffer can see in %s, where %s is (keys must be in the same region)", source, fix.KMSKey, region, what)
	case k.Region != region:
		return nil, fmt.Sprintf("%s %s is in %s but %s is in %s (keys must be in the same region)", source, fix.KMSKey, k.Region, what, region)
	case k.Manager != "" && k.Manager != "CUSTOMER":
		return nil, fmt.Sprintf("%s %s is an AWS managed key; a customer-managed key is required", source, fix.KMSKey)
	case k.State == "PendingDeletion" || k.State == "PendingReplicaDeletion":
		return nil, fmt.Sprintf("%s %s is pending deletion", source, fix.KMSKey)
	}
	return k, ""
}

// varString and varStrings read a finding's Rego vars.
func varString(f *checks.Finding, names ...string) string {
	for _, n := range names {
		if s, ok := f.Vars[n].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

func varStrings(f *checks.Finding, name string) []string {
	list, _ := f.Vars[name].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	if ss, ok := f.Vars[name].([]string); ok {
		out = append(out, ss...)
	}
	sort.Strings(out)
	return out
}
