package checks

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Whole-configuration rewrites need the whole configuration. The collector records, on each
// configuration a printed command or a fix rewrites as a whole (lifecycle, replication, event
// selectors, password policy), the fields AWS returned that the snapshot cannot reproduce
// (UnmodeledFields, Trail.UnmodeledSelectorFields); the builders below and in remediation.go then
// refuse with a *RefusedRewrite instead of writing a configuration without them.

// refuseUnmodeled is the RefusedRewrite of a configuration whose snapshot lacks fields AWS returned
// (fields are the collector's paths in the API's JSON), or nil when it lacks none.
func refuseUnmodeled(what string, fields []string) error {
	if len(fields) == 0 {
		return nil
	}
	shown, more := fields, ""
	if len(shown) > 5 {
		shown, more = shown[:5], fmt.Sprintf(" and %d more", len(fields)-5)
	}
	return &RefusedRewrite{What: what, Reason: fmt.Sprintf(
		"it holds settings the snapshot does not record, which the rewrite would drop: %s%s", strings.Join(shown, ", "), more)}
}

// SelectorsRewriteError is the *RefusedRewrite of rewriting the trail's event selectors from the
// snapshot (put-event-selectors replaces them all), or nil when the snapshot holds all of them.
func SelectorsRewriteError(t *Trail) error {
	return refuseUnmodeled("the event selectors of trail "+t.Name, t.UnmodeledSelectorFields)
}

// ReplicationWithRules returns the bucket's replication configuration (S3 API JSON) with the rules
// of add, a configuration {"Role": …, "Rules": […]} such as a check's vars hold, merged in: every
// existing rule is kept except one with the ID of an added rule, which that rule replaces, and the
// role is add's. put-bucket-replication replaces the whole configuration, so it refuses
// (*RefusedRewrite) when the snapshot does not hold all of it (Replication.UnmodeledFields).
func ReplicationWithRules(b *Bucket, add map[string]any) (string, error) {
	var existing []ReplicationRule
	if b.Replication != nil {
		if err := refuseUnmodeled("the replication configuration of bucket "+b.Name, b.Replication.UnmodeledFields); err != nil {
			return "", err
		}
		existing = b.Replication.Rules
	}
	var added []map[string]any
	replaced := map[string]bool{}
	if list, ok := add["Rules"].([]any); ok {
		for _, r := range list {
			m, ok := r.(map[string]any)
			if !ok {
				return "", fmt.Errorf("replication rule to add is a %T, not an object", r)
			}
			if id, ok := m["ID"].(string); ok {
				replaced[id] = true
			}
			added = append(added, m)
		}
	}
	rules := make([]any, 0, len(existing)+len(added))
	used, top := map[int64]bool{}, int64(0)
	for _, r := range existing {
		if replaced[r.ID] {
			continue
		}
		rules = append(rules, ReplicationRuleJSON(r))
		used[int64(r.Priority)] = true
		top = max(top, int64(r.Priority))
	}
	for _, m := range added {
		// S3 rejects two rules of one configuration with the same priority: an added rule that
		// would clash goes above every kept rule.
		if p, ok := number(m["Priority"]); ok && used[p] {
			m = cloneMap(m)
			top++
			m["Priority"] = top
		}
		if p, ok := number(m["Priority"]); ok {
			used[p] = true
			top = max(top, p)
		}
		rules = append(rules, m)
	}
	out := map[string]any{}
	for k, v := range add {
		out[k] = v
	}
	out["Rules"] = rules
	return compactJSON(out)
}

// ReplicationRuleJSON converts a snapshot replication rule back to the S3 API's JSON shape (a V2
// rule: Filter, Priority and DeleteMarkerReplication; the collector records legacy V1 rules as
// unmodeled, since rewriting one as V2 changes what it replicates).
func ReplicationRuleJSON(r ReplicationRule) map[string]any {
	m := map[string]any{
		"Status":   r.Status,
		"Priority": r.Priority,
		"Filter":   map[string]any{"Prefix": r.Prefix},
	}
	if r.ID != "" {
		m["ID"] = r.ID
	}
	deleteMarkers := "Disabled"
	if r.DeleteMarkerReplication {
		deleteMarkers = "Enabled"
	}
	m["DeleteMarkerReplication"] = map[string]any{"Status": deleteMarkers}
	dest := map[string]any{"Bucket": r.DestinationBucketARN}
	if r.DestinationBucketARN == "" && r.DestinationBucket != "" {
		dest["Bucket"] = "arn:aws:s3:::" + r.DestinationBucket
	}
	if r.DestinationAccount != "" {
		dest["Account"] = r.DestinationAccount
	}
	if r.StorageClass != "" {
		dest["StorageClass"] = r.StorageClass
	}
	if r.ReplicaKMSKeyID != "" {
		dest["EncryptionConfiguration"] = map[string]any{"ReplicaKmsKeyID": r.ReplicaKMSKeyID}
	}
	m["Destination"] = dest
	if r.SSEKMSEncryptedObjects {
		m["SourceSelectionCriteria"] = map[string]any{"SseKmsEncryptedObjects": map[string]any{"Status": "Enabled"}}
	}
	return m
}

// ReplicationJSON converts a snapshot replication configuration back to the S3 API's JSON shape.
func ReplicationJSON(r *Replication) map[string]any {
	rules := make([]any, 0, len(r.Rules))
	for _, rule := range r.Rules {
		rules = append(rules, ReplicationRuleJSON(rule))
	}
	return map[string]any{"Role": r.Role, "Rules": rules}
}

// number reads an integer from a value decoded from JSON or OPA.
func number(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), n == float64(int64(n))
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
