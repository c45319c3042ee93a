package checks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
	"text/template"

	"github.com/coffer-audit/coffer/checks/shellcmd"
)

// templateFuncs are the functions every command template may call (docs/writing-checks.md). The
// ones that rewrite a whole configuration (lifecycleArchive, lifecycleHygiene,
// dataEventSelectorArgs, trailSelectorArgs) need the snapshot and the other checks' failures: here
// they are placeholders, so that templates parse when policies load, and (*evaluation).funcs
// binds them for each evaluation.
var templateFuncs = mergeFuncs((&shellcmd.Values{}).Funcs(), template.FuncMap{
	// sq is kept for templates written before every value was quoted: it returns its argument,
	// which the escaper then quotes like any other value.
	"sq": func(s string) string { return s },
	// obj and list build JSON documents in templates, so values go into a document through the
	// encoder rather than between quotes of the template's text; obj keeps its keys in order.
	"obj":  newOrderedObject,
	"list": func(items ...any) []any { return items },
	"tojson": func(v any) (string, error) {
		return compactJSON(v)
	},
	"tlsPolicy": func(b *Bucket) (string, error) {
		if b == nil {
			return "", fmt.Errorf("tlsPolicy: the resource is not a bucket")
		}
		current := ""
		if b.Policy != nil {
			current = b.Policy.Text
		}
		return TLSOnlyPolicy(b.ARN, current)
	},
	fnLifecycleArchive: unbound(fnLifecycleArchive),
	fnLifecycleHygiene: unbound(fnLifecycleHygiene),
	"trustPolicyWithMFA": func(r *Role) (string, error) {
		if r == nil {
			return "", fmt.Errorf("trustPolicyWithMFA: the resource is not a role")
		}
		return MFATrustPolicy(r.ARN, r.TrustPolicy.Text)
	},
	"passwordPolicyArgs": func(p *PasswordPolicy, params map[string]any) (shellcmd.Args, error) {
		flags, err := PasswordPolicyFlags(p, intParam(params, "password_min_length", 14), intParam(params, "password_reuse_prevention", 24))
		return strings.Fields(flags), err
	},
	"replicationConfiguration": func(b *Bucket, add any) (string, error) {
		if b == nil {
			return "", fmt.Errorf("replicationConfiguration: the resource is not a bucket")
		}
		cfg, ok := add.(map[string]any)
		if !ok {
			return "", fmt.Errorf("replicationConfiguration: the configuration to add is a %T, not an object", add)
		}
		return ReplicationWithRules(b, cfg)
	},
	fnDataEventSelectorArgs: unbound(fnDataEventSelectorArgs),
	fnTrailSelectorArgs:     unbound(fnTrailSelectorArgs),
})

func mergeFuncs(funcMaps ...template.FuncMap) template.FuncMap {
	out := template.FuncMap{}
	for _, m := range funcMaps {
		maps.Copy(out, m)
	}
	return out
}

// unbound stands in for a function that needs an evaluation (see (*evaluation).funcs) so that
// templates parse at load time.
func unbound(name string) func(...any) (string, error) {
	return func(...any) (string, error) { return "", fmt.Errorf("%s: no evaluation bound", name) }
}

// funcs binds the functions that need the snapshot or the other failures to this evaluation.
func (ev *evaluation) funcs() template.FuncMap {
	return template.FuncMap{
		fnLifecycleArchive: func(b *Bucket, params map[string]any) (string, error) {
			return ev.lifecycleFix(b, params, fnLifecycleArchive)
		},
		fnLifecycleHygiene: func(b *Bucket, params map[string]any) (string, error) {
			return ev.lifecycleFix(b, params, fnLifecycleHygiene)
		},
		fnDataEventSelectorArgs: func(trailARN any, bucket string) (shellcmd.Args, error) {
			return ev.trailSelectorArgs(trailARN, bucket)
		},
		fnTrailSelectorArgs: func(trailARN any) (shellcmd.Args, error) {
			return ev.trailSelectorArgs(trailARN, "")
		},
	}
}

// trailSelectorArgs returns the put-event-selectors argument for a trail with everything the failing
// checks need from it: data events for bucket (when set) and for every bucket on which a check
// whose commands call dataEventSelectorArgs fails with vars.trail_arn = this trail, and management
// events when a check whose commands call trailSelectorArgs fails with vars.trail_arn = this trail
// and vars.selectors_flag set (it chose this trail and found its selectors lacking). Every command
// that updates the trail's selectors prints this same argument, so none undoes another.
func (ev *evaluation) trailSelectorArgs(trailARN any, bucket string) (shellcmd.Args, error) {
	arn := fmt.Sprint(trailARN)
	t := ev.index.trails[arn]
	if t == nil {
		return nil, fmt.Errorf("trail %v is not in the snapshot", trailARN)
	}
	dataEvents := ev.rewritersCalling(RewritesTrailSelectors, fnDataEventSelectorArgs)
	var buckets []string
	for _, b := range ev.snap.S3.Buckets {
		if b.Name == bucket || ev.failsOnTrail(dataEvents, b.ARN, arn) {
			buckets = append(buckets, b.Name)
		}
	}
	sort.Strings(buckets)
	addManagement := false
	for _, id := range ev.rewritersCalling(RewritesTrailSelectors, fnTrailSelectorArgs) {
		for _, vars := range ev.failVars[id] {
			if fmt.Sprint(vars["trail_arn"]) == arn && vars["selectors_flag"] != nil {
				addManagement = true
			}
		}
	}
	flag, value, err := TrailSelectors(t, ev.snap.Account.Partition, buckets, addManagement)
	if err != nil {
		return nil, err
	}
	return shellcmd.Args{flag, value}, nil
}

// failsOnTrail reports whether one of the checks fails on the resource with vars.trail_arn = trailARN.
func (ev *evaluation) failsOnTrail(checkIDs []string, resourceARN, trailARN string) bool {
	for _, id := range checkIDs {
		if vars, ok := ev.failVars[id][resourceARN]; ok && fmt.Sprint(vars["trail_arn"]) == trailARN {
			return true
		}
	}
	return false
}

// lifecycleFix returns the bucket's lifecycle configuration with the coffer rule of the function
// being rendered (own) plus those of the other checks that rewrite the lifecycle and fail on the
// bucket. Such checks thus print the same configuration when several fail, so running one command
// after the other keeps every rule.
func (ev *evaluation) lifecycleFix(b *Bucket, params map[string]any, own string) (string, error) {
	if b == nil {
		return "", fmt.Errorf("lifecycle: the resource is not a bucket")
	}
	adds := map[string]bool{own: true}
	for _, r := range ev.rewriters[RewritesLifecycle] {
		if ev.fails(r.id, b.ARN) {
			maps.Copy(adds, r.calls)
		}
	}
	// The rules come in a fixed order, whichever check is rendered, so both print the same JSON.
	var add []map[string]any
	if adds[fnLifecycleArchive] {
		class := "GLACIER"
		if classes, ok := params["archive_classes"].([]any); ok && len(classes) > 0 {
			class = fmt.Sprint(classes[0])
		}
		add = append(add, ArchiveRule(intParam(params, "archive_after_days", 14), class))
	}
	if adds[fnLifecycleHygiene] {
		add = append(add, HygieneRule(intParam(params, "abort_multipart_max_days", 7)))
	}
	return RewriteLifecycle(b, add...)
}

func intParam(params map[string]any, name string, def int) int {
	switch v := params[name].(type) {
	case float64:
		return int(v)
	case int:
		return v
	}
	return def
}

// orderedObject is a JSON object that keeps its keys in the order written.
type orderedObject struct {
	keys   []string
	values []any
}

func newOrderedObject(pairs ...any) (*orderedObject, error) {
	if len(pairs)%2 != 0 {
		return nil, fmt.Errorf("obj takes key-value pairs, got %d arguments", len(pairs))
	}
	o := &orderedObject{}
	for i := 0; i < len(pairs); i += 2 {
		key, ok := pairs[i].(string)
		if !ok {
			return nil, fmt.Errorf("obj: key %v is not a string", pairs[i])
		}
		o.keys = append(o.keys, key)
		o.values = append(o.values, pairs[i+1])
	}
	return o, nil
}

// MarshalJSON writes the pairs in order.
func (o *orderedObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		key, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		value, err := compactJSON(o.values[i])
		if err != nil {
			return nil, err
		}
		buf.Write(key)
		buf.WriteByte(':')
		buf.WriteString(value)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
