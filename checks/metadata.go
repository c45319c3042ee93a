package checks

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

func packageAnnotation(mod *ast.Module) *ast.Annotations {
	for _, a := range mod.Annotations {
		if a.Scope == "package" && a.Custom != nil {
			if _, ok := a.Custom["id"]; ok {
				return a
			}
		}
	}
	return nil
}

type ruleMetadata struct {
	ID           string         `json:"id"`
	Severity     string         `json:"severity"`
	Service      string         `json:"service"`
	ResourceType string         `json:"resource_type"`
	AppliesTo    string         `json:"applies_to"`
	Requires     []string       `json:"requires"`
	Frameworks   map[string]any `json:"frameworks"`
	Remediation  struct {
		Summary  string   `json:"summary"`
		Fix      string   `json:"fix"`
		Commands []string `json:"commands"`
		Rewrites string   `json:"rewrites"`
	} `json:"remediation"`
	Matrix *MatrixColumn `json:"matrix"`
}

var (
	idPattern       = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	requiresPattern = regexp.MustCompile(`^[a-z0-9]+:[A-Z][A-Za-z0-9]+$`)
	knownFrameworks = map[string]bool{FrameworkCIS: true, FrameworkFSBP: true, FrameworkWorkshop: true}
	knownFixClasses = map[FixClass]bool{FixAuto: true, FixOptIn: true, FixManual: true}
	knownTables     = map[string]bool{MatrixBuckets: true, MatrixPrincipals: true}
)

func ruleFromAnnotation(file string, mod *ast.Module, a *ast.Annotations) (Rule, *PolicyError) {
	line := 0
	if a.Location != nil {
		line = a.Location.Row
	}
	fail := func(format string, args ...any) (Rule, *PolicyError) {
		return Rule{}, &PolicyError{File: file, Line: line, Msg: "METADATA: " + fmt.Sprintf(format, args...)}
	}
	raw, err := json.Marshal(a.Custom)
	if err != nil {
		return fail("custom: %v", err)
	}
	var m ruleMetadata
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return fail("custom: %v", err)
	}
	if !idPattern.MatchString(m.ID) {
		return fail("id %q must be kebab-case", m.ID)
	}
	sev, err := ParseSeverity(m.Severity)
	if err != nil {
		return fail("%v", err)
	}
	if a.Title == "" {
		return fail("title is required")
	}
	if m.Service == "" {
		return fail("custom.service is required")
	}
	for _, r := range m.Requires {
		if !requiresPattern.MatchString(r) {
			return fail("requires entry %q must look like service:Operation", r)
		}
	}
	frameworks := map[string][]string{}
	for name, v := range m.Frameworks {
		if !knownFrameworks[name] {
			return fail("unknown framework %q (want %s, %s or %s)", name, FrameworkCIS, FrameworkFSBP, FrameworkWorkshop)
		}
		list, ok := v.([]any)
		if !ok && v != nil {
			return fail("frameworks.%s must be a list", name)
		}
		ids := []string{}
		for _, item := range list {
			s, ok := item.(string)
			if !ok {
				return fail("frameworks.%s: %v must be a quoted string (YAML reads 2.10 as 2.1)", name, item)
			}
			ids = append(ids, s)
		}
		frameworks[name] = ids
	}
	fix := FixClass(m.Remediation.Fix)
	if !knownFixClasses[fix] {
		return fail("remediation.fix %q must be auto, opt-in or manual", m.Remediation.Fix)
	}
	if m.Remediation.Summary == "" {
		return fail("remediation.summary is required")
	}
	if err := checkRewrites(m.Remediation.Rewrites, m.Remediation.Commands); err != nil {
		return fail("remediation.rewrites %v", err)
	}
	if mx := m.Matrix; mx != nil {
		if !knownTables[mx.Table] {
			return fail("matrix.table %q must be %s or %s", mx.Table, MatrixBuckets, MatrixPrincipals)
		}
		if strings.TrimSpace(mx.Column) == "" {
			return fail("matrix.column is required: the header of the column the check shows in")
		}
		if mx.Order < 0 {
			return fail("matrix.order %d must not be negative", mx.Order)
		}
	}
	if !definesRule(mod, "resources") || !definesRule(mod, "deny") {
		return fail("package %s must define both `resources` and `deny`", mod.Package.Path)
	}
	return Rule{
		ID: m.ID, Title: a.Title, Description: strings.TrimSpace(a.Description), Severity: sev,
		Service: m.Service, AppliesTo: m.AppliesTo, Frameworks: frameworks,
		Remediation: RuleRemediation{Summary: m.Remediation.Summary, Commands: m.Remediation.Commands, Fix: fix, Rewrites: m.Remediation.Rewrites},
		Requires:    m.Requires, Matrix: m.Matrix, Package: mod.Package.Path.String(), Source: file,
	}, nil
}

// definesRule reports whether the module has a rule with that name.
func definesRule(mod *ast.Module, name string) bool {
	for _, r := range mod.Rules {
		if r.Head.Name.String() == name || (len(r.Head.Reference) > 0 && r.Head.Reference[0].Value.String() == name) {
			return true
		}
	}
	return false
}
