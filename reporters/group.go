package reporters

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/coffer-audit/coffer/checks"
)

// GroupBy says what one entry of a report for people (table, Markdown) is (DESIGN §15). The
// formats for machines (JSON, SARIF, JUnit) always have one entry per finding.
type GroupBy string

// The groupings, in the order GroupByNames lists them.
const (
	// GroupByCheck (the default) shows once what fails the same check the same way: the check,
	// how many resources, the first of them and one command template (GroupFindings).
	GroupByCheck GroupBy = "check"
	// GroupByNone shows one entry per finding, as reports did before grouping (--detail).
	GroupByNone GroupBy = "none"
	// GroupByResource shows one entry per resource with the checks it fails (GroupResources).
	GroupByResource GroupBy = "resource"
	// GroupByAccount gives an organisation report a section per account, each grouped by check
	// as the report of that account alone would be; a report of one account is grouped by check.
	GroupByAccount GroupBy = "account"
)

// GroupByNames lists the values of --group-by.
func GroupByNames() []string {
	return []string{string(GroupByCheck), string(GroupByNone), string(GroupByResource), string(GroupByAccount)}
}

// ParseGroupBy reads a --group-by value (case-insensitive); "" is GroupByCheck.
func ParseGroupBy(s string) (GroupBy, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return GroupByCheck, nil
	}
	if slices.Contains(GroupByNames(), s) {
		return GroupBy(s), nil
	}
	return "", fmt.Errorf("unknown grouping %q (known: %s)", s, strings.Join(GroupByNames(), ", "))
}

// orDefault is g, or GroupByCheck when unset (Options' zero value).
func (g GroupBy) orDefault() GroupBy {
	return cmp.Or(g, GroupByCheck)
}

// groupShown is how many resources of a group the formats for people name before "and N more".
const groupShown = 5

// Group is findings a report for people shows as one entry: the same check, status and severity,
// and the same message and commands once each finding's own resource is taken out of them (its
// ARN, name and account become placeholders such as <BUCKET>). Because a finding's text is its
// group's template with its own resource put back, the template is right for every member:
// run it with <BUCKET> replaced by a member's name and you run that member's command.
type Group struct {
	// Findings are the members in report order (compareFindings); never empty. They point into
	// the report, which nothing may modify.
	Findings []*checks.Finding
	// Message and Commands are what the entry shows: a single finding's own, or the group's
	// templates, in which Placeholders stand for each member's resource. In a command a
	// placeholder outside quotes is single-quoted ('<BUCKET>'), so a template pasted without
	// filling it in is refused by the shell instead of reading '<' as a redirection.
	Message  string
	Commands []string
	// Placeholders are the placeholders in Message and Commands, in order of first use; empty
	// for a group of one.
	Placeholders []string
}

// First is the finding that stands for the group (its check, status, severity, remediation).
func (g *Group) First() *checks.Finding { return g.Findings[0] }

// Len is the number of findings in the group.
func (g *Group) Len() int { return len(g.Findings) }

// Accounts is the number of accounts the group's resources are in. Members are in report order,
// which is by account first, so an account's members are together.
func (g *Group) Accounts() int {
	n := 0
	for i := range g.Findings {
		if i == 0 || g.Findings[i].Resource.AccountID != g.Findings[i-1].Resource.AccountID {
			n++
		}
	}
	return n
}

// groupKey is what members of a group have in common; message and commands are normalised
// (normalise).
type groupKey struct {
	account    string // only when groups must not span accounts
	check      string
	status     checks.Status
	severity   checks.Severity
	inBaseline bool
	fix        checks.FixClass
	summary    string
	waiver     string
	message    string
	commands   string // normalised commands joined by "\n" (commands never hold a newline)
}

// GroupFindings groups fs by check and failure kind (see Group), keeping the order of fs: a group
// is where its first member was. by GroupByNone makes a group of every finding. Groups never span
// accounts when by is GroupByAccount (each account's section is grouped on its own).
func GroupFindings(fs []*checks.Finding, by GroupBy) []Group {
	by = by.orDefault()
	groups := make([]Group, 0, min(len(fs), 64))
	if by == GroupByNone {
		for _, f := range fs {
			groups = append(groups, singleGroup(f))
		}
		return groups
	}
	index := map[groupKey]int{}
	keys := make([]groupKey, 0, 64)
	for _, f := range fs {
		k := groupKey{
			check: f.CheckID, status: f.Status, severity: f.Severity, inBaseline: f.InBaseline,
			fix: f.Remediation.Fix, summary: f.Remediation.Summary,
			message:  normalise(f.Message, f.Resource),
			commands: normalise(strings.Join(f.Remediation.Commands, "\n"), f.Resource),
		}
		if by == GroupByAccount {
			k.account = f.Resource.AccountID
		}
		if f.Status == checks.StatusWaived {
			k.waiver = waiverText(f.Waiver)
		}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, Group{})
			keys = append(keys, k)
		}
		groups[i].Findings = append(groups[i].Findings, f)
	}
	for i := range groups {
		g := &groups[i]
		if g.Len() == 1 {
			*g = singleGroup(g.Findings[0])
			continue
		}
		// Within one account the account id stays as it is: a placeholder is for what differs.
		account := ""
		if g.Accounts() == 1 {
			account = g.First().Resource.AccountID
		}
		var used []string
		g.Message = fillPlaceholders(keys[i].message, g.First().Resource, account, false, &used)
		if keys[i].commands != "" || len(g.First().Remediation.Commands) > 0 {
			g.Commands = strings.Split(keys[i].commands, "\n")
			for j, c := range g.Commands {
				g.Commands[j] = fillPlaceholders(c, g.First().Resource, account, true, &used)
			}
		}
		g.Placeholders = used
	}
	return groups
}

func singleGroup(f *checks.Finding) Group {
	return Group{Findings: []*checks.Finding{f}, Message: f.Message, Commands: f.Remediation.Commands}
}

// Tokens that stand for a finding's own resource in a normalised text. A NUL never reaches a
// message or a command (the engine and the renderer drop control characters), and normalise
// leaves a text that holds one alone, so the tokens cannot be confused with the text.
const (
	tokenARN     = "\x00A\x00"
	tokenName    = "\x00N\x00"
	tokenAccount = "\x00I\x00"
)

// normalise replaces the resource's ARN, then its name, then its account id in s with tokens,
// where they stand as whole words (not inside a longer name: bucket "logs" in "logs-archive" is
// not bucket logs). Putting the values back in place of the tokens gives s again, whatever s
// holds; which occurrences are replaced only decides how many findings end up together.
func normalise(s string, res checks.Resource) string {
	if s == "" || strings.Contains(s, "\x00") {
		return s
	}
	s = replaceWord(s, res.ARN, tokenARN)
	if res.Name != res.ARN {
		s = replaceWord(s, res.Name, tokenName)
	}
	if res.AccountID != res.Name {
		s = replaceWord(s, res.AccountID, tokenAccount)
	}
	return s
}

// replaceWord replaces the occurrences of word in s that start a name (no name character before
// them) and end one, or are followed by '-' or '.': bucket "logs" is found in "logs",
// "arn:aws:s3:::logs/*" and "logs-policy.json" (a file named after it), not in "old-logs" or
// "logs2".
func replaceWord(s, word, token string) string {
	if word == "" {
		return s
	}
	i := strings.Index(s, word)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		end := i + len(word)
		if (i == 0 || !isNameByte(s[i-1]) || !isNameByte(word[0])) && (end == len(s) || !isWordByte(s[end]) || !isNameByte(word[len(word)-1])) {
			b.WriteString(s[:i])
			b.WriteString(token)
		} else {
			b.WriteString(s[:end])
		}
		s = s[end:]
		i = strings.Index(s, word)
	}
	b.WriteString(s)
	return b.String()
}

// isNameByte reports whether c can be part of a name: letters, digits, '-', '_' and non-ASCII.
func isNameByte(c byte) bool {
	return isWordByte(c) || c == '-'
}

// isWordByte is isNameByte without '-': what may not follow a name for it to be the whole name.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

// fillPlaceholders writes the placeholders of res's kind in place of the tokens of a normalised
// text, or account itself for the account token when account is set, adding the placeholders it
// uses to used. In a shell command (shell) a placeholder must never be
// read as a redirection: inside quotes it is left as it is; a bare word holding one is
// single-quoted whole when the rest of it needs no quoting ('<BUCKET>-policy.json'), else the
// placeholder alone is.
func fillPlaceholders(s string, res checks.Resource, account string, shell bool, used *[]string) string {
	if !strings.Contains(s, "\x00") {
		return s
	}
	kind := placeholderKind(res.Type)
	values := map[string]string{
		tokenARN:     "<" + kind + "_ARN>",
		tokenName:    "<" + kind + ">",
		tokenAccount: "<ACCOUNT_ID>",
	}
	// fill replaces the tokens of t, quoting each placeholder when quote is set.
	fill := func(t string, quote bool) string {
		var b strings.Builder
		for {
			i := strings.IndexByte(t, 0)
			if i < 0 || i+2 >= len(t) || t[i+2] != 0 {
				b.WriteString(t)
				return b.String()
			}
			p := values[t[i:i+3]]
			switch {
			case account != "" && t[i:i+3] == tokenAccount:
				p = account // as the original had it: an account id needs no quotes
			case quote:
				*used = appendNew(*used, p)
				p = "'" + p + "'"
			default:
				*used = appendNew(*used, p)
			}
			b.WriteString(t[:i])
			b.WriteString(p)
			t = t[i+3:]
		}
	}
	if !shell {
		return fill(s, false)
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\'' || c == '"':
			// A quoted string, copied with its quotes; inside it a placeholder is literal.
			end := quotedEnd(s, i)
			b.WriteString(fill(s[i:end], false))
			i = end
		case c == '\\' && i+1 < len(s) && s[i+1] != 0:
			b.WriteString(s[i : i+2])
			i += 2
		case c == ' ' || c == '\t':
			b.WriteByte(c)
			i++
		default:
			// A bare run: up to a space, a quote or a backslash.
			end := i
			for end < len(s) && !strings.ContainsRune(" \t'\"\\", rune(s[end])) {
				end++
			}
			run := s[i:end]
			whole := (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') && (end == len(s) || s[end] == ' ' || s[end] == '\t')
			if whole && strings.Contains(run, "\x00") && safeBare(run) {
				b.WriteString("'" + fill(run, false) + "'")
			} else {
				b.WriteString(fill(run, true))
			}
			i = end
		}
	}
	return b.String()
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// placeholderMeaning says what a placeholder of fillPlaceholders stands for.
func placeholderMeaning(p string) string {
	switch {
	case p == "<ACCOUNT_ID>":
		return "its account id"
	case strings.HasSuffix(p, "_ARN>"):
		return "its ARN"
	}
	return "its name"
}

// quotedEnd returns the end of the quoted string that starts at s[i] (a single or double quote):
// after its closing quote, or len(s).
func quotedEnd(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == q:
			return j + 1
		case q == '"' && s[j] == '\\':
			j++
		}
	}
	return len(s)
}

// safeBare reports whether a bare word means the same single-quoted: it holds only tokens and
// characters shellcmd.Quote leaves bare.
func safeBare(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == 0:
			i += 2
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("_@%+=:,./-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// placeholderKind names a resource type for a placeholder: AWS::S3::Bucket → BUCKET,
// AWS::IAM::AccessKey → ACCESS_KEY; RESOURCE when the type says nothing.
func placeholderKind(typ string) string {
	last := typ[strings.LastIndex(typ, ":")+1:]
	var b strings.Builder
	for i, r := range last {
		switch {
		case r >= 'A' && r <= 'Z':
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return cmp.Or(b.String(), "RESOURCE")
}

// ResourceGroup is one resource and its findings, for GroupByResource.
type ResourceGroup struct {
	Resource checks.Resource
	// Findings are the resource's findings in report order (compareFindings).
	Findings []*checks.Finding
}

// Worst is the most severe finding that needs action (FAIL before ERROR before WAIVED before
// PASS, then by severity).
func (g *ResourceGroup) Worst() *checks.Finding {
	best := g.Findings[0]
	for _, f := range g.Findings {
		if c := cmp.Or(cmp.Compare(statusRank[f.Status], statusRank[best.Status]), cmp.Compare(best.Severity, f.Severity)); c < 0 {
			best = f
		}
	}
	return best
}

// GroupResources gathers fs by resource (account and ARN), in the order of each resource's first
// finding in fs.
func GroupResources(fs []*checks.Finding) []ResourceGroup {
	type key struct{ account, arn string }
	index := map[key]int{}
	var groups []ResourceGroup
	for _, f := range fs {
		k := key{f.Resource.AccountID, cmp.Or(f.Resource.ARN, f.Resource.Name)}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, ResourceGroup{Resource: f.Resource})
		}
		groups[i].Findings = append(groups[i].Findings, f)
	}
	return groups
}

// groupResourceNames are the first groupShown resources of g as label shows them.
func groupResourceNames(g *Group, label func(checks.Resource) string) []string {
	names := make([]string, 0, groupShown+1)
	for i := range min(g.Len(), groupShown) {
		names = append(names, label(g.Findings[i].Resource))
	}
	return names
}

// thousands formats n with commas: 1,234,567.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// shownFindings points at the findings a report for people lists: all but PASS, unless showPass.
func shownFindings(fs []checks.Finding, showPass bool) []*checks.Finding {
	out := make([]*checks.Finding, 0, len(fs))
	for i := range fs {
		if fs[i].Status != checks.StatusPass || showPass {
			out = append(out, &fs[i])
		}
	}
	return out
}

// ofSeverity picks the findings of one severity, those that need action first (statusRank),
// keeping the order of fs otherwise.
func ofSeverity(fs []*checks.Finding, sev checks.Severity) []*checks.Finding {
	var out []*checks.Finding
	for _, f := range fs {
		if f.Severity == sev {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b *checks.Finding) int {
		return cmp.Compare(statusRank[a.Status], statusRank[b.Status])
	})
	return out
}
