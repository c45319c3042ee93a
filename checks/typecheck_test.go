package checks_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/policies"
)

// typedCheckHeader is a --policy-dir check without its deny rules; each case below adds them.
const typedCheckHeader = `# METADATA
# title: Custom check
# custom:
#   id: custom-typed
#   severity: HIGH
#   service: s3
#   remediation:
#     summary: Fix it.
#     fix: manual
package custom.typed

import rego.v1

resources contains b.arn if some b in input.s3.buckets
`

// TestPoliciesAreTypeChecked: a --policy-dir check that names a field the input does not have
// fails to load with its file, line and the field, wherever the reference is; every valid
// reference (null-able items, maps, arrays, the coffer object) loads. The last cases pin what
// the type checker cannot see, as docs/writing-checks.md says.
func TestPoliciesAreTypeChecked(t *testing.T) {
	tests := []struct {
		name string
		deny string
		line int    // of the error, counted in deny; 0 when the check loads
		want string // the message after "file:line: "
	}{
		{"typo in a top-level field",
			`deny contains {"resource": b.arn, "msg": "x"} if some b in input.s3.bukets`,
			1, `undefined ref: input.s3.bukets: input.s3 has no field "bukets" (it has "buckets")`},
		{"typo below an iteration",
			"deny contains {\"resource\": b.arn, \"msg\": \"x\"} if {\n\tsome b in input.s3.buckets\n\tb.versioning.stauts != \"Enabled\"\n}",
			3, `undefined ref: b.versioning.stauts: b.versioning has no field "stauts" (it has "mfa_delete", "status")`},
		{"typo below an index and a null-able item",
			"deny contains {\"resource\": input.s3.buckets[i].arn, \"msg\": \"x\"} if {\n\tsome i\n\tinput.s3.buckets[i].object_lock.default_retention.dayz < 30\n}",
			3, `undefined ref: input.s3.buckets[i].object_lock.default_retention.dayz: input.s3.buckets[i].object_lock.default_retention has no field "dayz" (it has "days", "mode", "years")`},
		{"typo in a policy statement",
			"deny contains {\"resource\": r.arn, \"msg\": \"x\"} if {\n\tsome r in input.iam.roles\n\tsome s in r.trust_policy.document.statements\n\ts.principals\n}",
			4, `undefined ref: s.principals: s has no field "principals"`},
		{"typo through another rule",
			"buckets := input.s3.buckets\n\ndeny contains {\"resource\": b.arn, \"msg\": \"x\"} if {\n\tsome b in buckets\n\tb.encryption.rule\n}",
			5, `undefined ref: b.encryption.rule: b.encryption has no field "rule" (it has "rules")`},
		{"typo in a parameter",
			`deny contains {"resource": b.arn, "msg": "x"} if { some b in input.s3.buckets; b.object_lock.default_retention.days < input.coffer.params.object_lock_min_dayz }`,
			1, `undefined ref: input.coffer.params.object_lock_min_dayz: input.coffer.params has no field "object_lock_min_dayz" (it has "abort_multipart_max_days", "access_key_max_age_days", "archive_after_days", "archive_classes", "cmk_required_for", "object_lock_min_days", "password_min_length", "password_reuse_prevention", "unused_credentials_days")`},
		{"typo in a scope",
			`deny contains {"resource": a, "msg": "x"} if some a in input.coffer.scope_arns.backups`,
			1, `undefined ref: input.coffer.scope_arns.backups: input.coffer.scope_arns has no field "backups"`},
		{"field of a string",
			`deny contains {"resource": b.arn, "msg": b.name.first} if some b in input.s3.buckets`,
			1, `undefined ref: b.name.first: b.name is string, which has no field "first"`},
		{"field of an enum",
			`deny contains {"resource": b.arn, "msg": "x"} if { some b in input.s3.buckets; b.versioning.status.enabled }`,
			1, `undefined ref: b.versioning.status.enabled: b.versioning.status is string, which has no field "enabled"`},

		{"a correct check", `
deny contains {"resource": b.arn, "msg": sprintf("%s: %s %v %v", [b.name, b.versioning.status, b.tags["coffer:role"], input.coffer.now])} if {
	some b in input.s3.buckets
	b.arn in input.coffer.scope_arns.backup
	input.coffer.roles[b.name] == "primary"
	b.versioning != null
	b.object_lock.default_retention.days < input.coffer.params.object_lock_min_days
	some rule in b.lifecycle.rules
	rule.transitions[_].storage_class in input.coffer.params.archive_classes
	b.policy.document.statements[_].principal.AWS[_] == "*"
	input.account.password_policy.minimum_password_length < 14
	input.kms.keys[_].rotation_enabled == false
	input.errors[_].operation == "GetBucketVersioning"
	count(input.iam.credential_report) > input.coffer.scopes.all[0]
}`, 0, ""},
		{"comparisons with null (a null-able item coffer could not read)", `
deny contains {"resource": b.arn, "msg": "x"} if {
	some b in input.s3.buckets
	b.versioning == null
}

deny contains {"resource": t.arn, "msg": "x"} if {
	some t in input.cloudtrail.trails
	null == t.is_logging
	lc := input.s3.buckets[0].lifecycle
	{"lifecycle": lc, "tags": input.s3.buckets[0].tags} == {"lifecycle": null, "tags": null}
}`, 0, ""},
		{"a comparison that is never true",
			`deny contains {"resource": b.arn, "msg": "x"} if { some b in input.s3.buckets; b.versioning.status == true }`,
			1, `match error: string compared with boolean, which can never be equal`},
		// What the checker cannot see (docs/writing-checks.md): these typos load.
		{"not caught: object.get with a path", `deny contains {"resource": b.arn, "msg": "x"} if some b in object.get(input.s3, "bukets", [])`, 0, ""},
		{"not caught: a function's argument", "deny contains {\"resource\": b.arn, \"msg\": \"x\"} if {\n\tsome b in input.s3.buckets\n\tunversioned(b)\n}\n\nunversioned(b) if b.versioning.stauts != \"Enabled\"", 0, ""},
		{"not caught: below a map's value", `deny contains {"resource": b.arn, "msg": "x"} if { some b in input.s3.buckets; b.tags.owner.name }`, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "typed.rego")
			if err := os.WriteFile(file, []byte(typedCheckHeader+"\n"+tc.deny+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := checks.NewEngine(context.Background(), checks.EngineOptions{BuiltIn: fstest.MapFS{"lib/resource.rego": {Data: []byte(libRego)}}, PolicyDirs: []string{dir}})
			if tc.line == 0 {
				if err != nil {
					t.Fatalf("the check does not load: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("the check loaded")
			}
			line := strings.Count(typedCheckHeader, "\n") + 1 + tc.line
			if want := fmt.Sprintf("%s:%d: %s", file, line, tc.want); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error:\n%v\nwant it to start with:\n%s", err, want)
			}
			var pe checks.PolicyErrors
			if !errors.As(err, &pe) || pe[0].File != file || pe[0].Line != line {
				t.Errorf("error is %#v, want PolicyErrors starting at %s:%d", err, file, line)
			}
		})
	}
}

// TestBuiltInPoliciesTypeCheck loads every built-in check with a --policy-dir check beside it:
// neither the checks nor lib/ read a field the input schema lacks.
func TestBuiltInPoliciesTypeCheck(t *testing.T) {
	dir := t.TempDir()
	src := typedCheckHeader + "\ndeny contains {\"resource\": b.arn, \"msg\": \"x\"} if {\n\tsome b in input.s3.buckets\n\tb.versioning.status != \"Enabled\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "typed.rego"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := checks.NewEngine(context.Background(), checks.EngineOptions{BuiltIn: policies.FS, PolicyDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.Rules()); n < 30 {
		t.Errorf("%d checks loaded, want every built-in one and the custom one", n)
	}
}
