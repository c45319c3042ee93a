package checks

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"github.com/coffer-audit/coffer/checks/shellcmd"
)

// parseTemplates parses the rule's command templates with the standard functions and the given
// overrides (functions bound to one evaluation).
func (r *loadedRule) parseTemplates(bound template.FuncMap) ([]*template.Template, error) {
	out := make([]*template.Template, 0, len(r.Remediation.Commands))
	for i, cmd := range r.Remediation.Commands {
		t, err := template.New(fmt.Sprintf("%s#%d", r.ID, i+1)).Funcs(templateFuncs).Funcs(bound).Parse(cmd)
		if err != nil {
			return nil, fmt.Errorf("remediation command %d: %w", i+1, err)
		}
		// Every value the template prints is quoted for the shell: the names it fills in come
		// from the audited account, and a reviewer pastes the result into a terminal.
		if err := shellcmd.Escape(t); err != nil {
			return nil, fmt.Errorf("remediation command %d: %w", i+1, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// renderRule fills in the remediation commands of a rule's FAIL and WAIVED findings. It runs after every rule
// has been evaluated, because the merge functions need the other failures: two checks that each
// rewrite a bucket's whole lifecycle configuration, or several buckets added to one trail's event
// selectors, must print commands that include each other's changes so they can run in any order.
func (ev *evaluation) renderRule(rule *loadedRule, findings []Finding) []string {
	var notices []string
	// The templates of this rule print through one Values table: they are parsed here, per rule
	// and evaluation, and executed one finding at a time.
	values := &shellcmd.Values{Skeleton: ev.onCommandLine != nil}
	templates, err := rule.parseTemplates(mergeFuncs(ev.funcs(), values.Funcs()))
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", rule.ID, err)}
	}
	for i := range findings {
		// Waived findings keep their commands too: they are what to run when the waiver ends.
		if findings[i].Status != StatusFail && findings[i].Status != StatusWaived {
			continue
		}
		cmds, err := ev.render(templates, values, &findings[i])
		if err != nil {
			notices = append(notices, fmt.Sprintf("%s on %s: remediation commands could not be rendered: %v", rule.ID, findings[i].Resource.ARN, err))
		}
		findings[i].Remediation.Commands = cmds
		if findings[i].Remediation.Fix == FixAuto && hasPlaceholder(cmds) {
			// A command with a placeholder cannot run unattended: the user must supply the value.
			findings[i].Remediation.Fix = FixManual
		}
	}
	return notices
}

// CommandData is what remediation templates see (docs/writing-checks.md).
type CommandData struct {
	AccountID string
	Partition string
	Resource  Resource
	Bucket    *Bucket
	Role      *Role
	User      *User
	Key       *Key
	Trail     *Trail
	Snapshot  *Snapshot
	Params    map[string]any
	Fix       FixSettings
	Vars      map[string]any
}

func (ev *evaluation) render(templates []*template.Template, values *shellcmd.Values, f *Finding) ([]string, error) {
	data := CommandData{
		AccountID: ev.snap.Account.ID, Partition: nameOr(ev.snap.Account.Partition, "aws"), Resource: f.Resource,
		Bucket: ev.index.buckets[f.Resource.ARN], Role: ev.index.roles[f.Resource.ARN], User: ev.index.users[f.Resource.ARN],
		Key: ev.index.keys[f.Resource.ARN], Trail: ev.index.trails[f.Resource.ARN],
		Snapshot: ev.snap, Params: ev.params, Fix: ev.fix.ForRegion(f.Resource.Region), Vars: f.Vars,
	}
	if data.Vars == nil {
		data.Vars = map[string]any{}
	}
	lines, err := renderLines(templates, values, data)
	cmds := make([]string, len(lines))
	for i, l := range lines {
		cmds[i] = l.Text
		if ev.onCommandLine != nil {
			ev.onCommandLine(f.CheckID, l)
		}
	}
	return cmds, err
}

// renderLines renders the templates into command lines. A template whose function refuses to
// rewrite a configuration it cannot carry over exactly (RefusedRewrite) prints a one-line note
// saying so instead of its command.
func renderLines(templates []*template.Template, values *shellcmd.Values, data CommandData) ([]shellcmd.Line, error) {
	lines := []shellcmd.Line{}
	var errs []error
	for _, t := range templates {
		var sb strings.Builder
		if err := t.Execute(&sb, data); err != nil {
			values.Lines("") // forget what the failed execution recorded
			var refused *RefusedRewrite
			if errors.As(err, &refused) {
				lines = append(lines, shellcmd.Line{Text: shellcmd.Note("not printed: " + refused.Error()), Note: true})
				continue
			}
			errs = append(errs, err)
			continue
		}
		out, err := values.Lines(sb.String())
		if err != nil {
			errs = append(errs, fmt.Errorf("template %s: %w", t.Name(), err))
			continue
		}
		lines = append(lines, out...)
	}
	return lines, errors.Join(errs...)
}

var placeholderRE = regexp.MustCompile(`<[A-Z][A-Z0-9_]*>`)

func hasPlaceholder(cmds []string) bool {
	for _, c := range cmds {
		if placeholderRE.MatchString(c) {
			return true
		}
	}
	return false
}
