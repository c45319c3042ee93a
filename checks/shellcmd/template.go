package shellcmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

// Command templates are Go text/templates whose output is shell command lines. Like html/template,
// Escape rewrites a parsed template so that the value of every output action passes through an
// escaper; Lines then quotes each value for the shell context it lands in. A check author cannot
// forget to quote: a value is one word (or, inside a quoted literal, stays inside it) whatever it
// holds, and only the template's own text — or a constant marked with `literal` — is shell syntax.
//
// The escaper does not quote in place: it records each value in a Values table and prints its
// index between two private-use runes, so that values cannot add lines or quotes to the output
// before Lines has seen where each one is.

// EscaperName is the function Escape appends to every output action. It must be in the template's
// function map before parsing (Funcs does that).
const EscaperName = "_coffer_shell_value"

// LiteralName is the function that marks a string constant of the template as shell syntax
// (`{{literal "--flag"}}`); it accepts nothing but a constant.
const LiteralName = "literal"

const (
	markStart = '\uE000'
	markEnd   = '\uE001'
)

// Args is a value that renders as several words, each quoted on its own: what a template function
// returns when it builds flags (`--minimum-password-length 14 --require-symbols`). It is only
// valid where a word may start and end.
type Args []string

// literalText is shell syntax written in the template itself; only the literal function makes one.
type literalText string

// Values records what an escaped template prints, for Lines. One Values serves one template
// execution at a time: its functions are bound into the template when it is parsed (Funcs), and
// Lines reads and then forgets what the last execution recorded.
type Values struct {
	// Skeleton makes Lines fill Line.Skeleton and Line.Values (tests compare them with a shell
	// parser's reading); without it Lines only renders Text.
	Skeleton bool
	list     []any
}

// Funcs are the functions Escape relies on, bound to v; add them to the template before parsing.
func (v *Values) Funcs() template.FuncMap {
	return template.FuncMap{
		EscaperName: v.escape,
		LiteralName: func(s string) literalText { return literalText(s) },
	}
}

// Escape rewrites a parsed command template so that every value it prints is escaped. It rejects
// what would let a value around the escaper: nested template definitions and calls, `literal` of
// anything but a string constant, and template text holding the escaper's markers or controls.
func Escape(t *template.Template) error {
	if len(t.Templates()) > 1 {
		return errors.New("command templates may not define or call other templates")
	}
	if t.Tree == nil || t.Root == nil {
		return nil
	}
	return escapeList(t.Tree, t.Root)
}

func escapeList(tree *parse.Tree, list *parse.ListNode) error {
	if list == nil {
		return nil
	}
	for _, node := range list.Nodes {
		var err error
		switch n := node.(type) {
		case *parse.TextNode:
			err = checkText(string(n.Text))
		case *parse.ActionNode:
			err = checkLiterals(n.Pipe)
			if err == nil && len(n.Pipe.Decl) == 0 {
				n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{
					NodeType: parse.NodeCommand, Pos: n.Pos,
					Args: []parse.Node{parse.NewIdentifier(EscaperName).SetTree(tree).SetPos(n.Pos)},
				})
			}
		case *parse.IfNode:
			err = errors.Join(checkLiterals(n.Pipe), escapeList(tree, n.List), escapeList(tree, n.ElseList))
		case *parse.RangeNode:
			err = errors.Join(checkLiterals(n.Pipe), escapeList(tree, n.List), escapeList(tree, n.ElseList))
		case *parse.WithNode:
			err = errors.Join(checkLiterals(n.Pipe), escapeList(tree, n.List), escapeList(tree, n.ElseList))
		case *parse.TemplateNode:
			err = fmt.Errorf("{{template %q}}: command templates may not call other templates", n.Name)
		case *parse.BreakNode, *parse.ContinueNode, *parse.CommentNode:
		default:
			err = fmt.Errorf("unsupported template construct %s", node)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkText rejects template text that could forge an escaped value or hide part of a command.
func checkText(s string) error {
	if strings.ContainsRune(s, markStart) || strings.ContainsRune(s, markEnd) {
		return errors.New("template text holds a reserved character (U+E000 or U+E001)")
	}
	for _, line := range strings.Split(s, "\n") {
		if HasControl(line) {
			return fmt.Errorf("template text holds a control character: %q", line)
		}
	}
	return nil
}

// checkLiterals accepts `literal` only as `literal "constant"`: it is how a template says "this is
// shell syntax", so its argument must be text the check author wrote, never data.
func checkLiterals(pipe *parse.PipeNode) error {
	if pipe == nil {
		return nil
	}
	for _, cmd := range pipe.Cmds {
		for i, arg := range cmd.Args {
			if id, ok := arg.(*parse.IdentifierNode); ok && id.Ident == LiteralName {
				if i != 0 || len(cmd.Args) != 2 {
					return fmt.Errorf("%s: literal takes exactly one string constant", cmd)
				}
				s, ok := cmd.Args[1].(*parse.StringNode)
				if !ok {
					return fmt.Errorf("%s: literal takes a string constant, not %s", cmd, cmd.Args[1])
				}
				if err := checkText(s.Text); err != nil {
					return fmt.Errorf("%s: %w", cmd, err)
				}
				if strings.Contains(s.Text, "\n") {
					return fmt.Errorf("%s: a literal may not hold a newline", cmd)
				}
			}
			if sub, ok := arg.(*parse.PipeNode); ok {
				if err := checkLiterals(sub); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// missing stands for a map key or field that is not there.
type missing struct{}

// escape records a value and prints its marker. A missing map key or nil reaches it as nil.
func (v *Values) escape(args ...any) string {
	var val any = missing{}
	if len(args) == 1 && args[0] != nil {
		switch x := args[0].(type) {
		case literalText, Args, string:
			val = x
		default:
			rv := reflect.ValueOf(x)
			for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
				if rv.IsNil() {
					rv = reflect.Value{}
					break
				}
				rv = rv.Elem()
			}
			if rv.IsValid() {
				val = fmt.Sprint(rv.Interface())
			}
		}
	}
	v.list = append(v.list, val)
	return string(markStart) + strconv.Itoa(len(v.list)-1) + string(markEnd)
}

// Line is one rendered command line.
type Line struct {
	// Text is what is printed: the command, or a comment line (Note) when it could not be printed
	// safely.
	Text string
	// Note is set when Text is a comment saying why the command is not printed.
	Note bool
	// Skeleton is the line with every value replaced by a bare placeholder word (SkeletonToken of
	// its index), in the place and quoting context of the value, and Values are the values in
	// order: parsing Skeleton and substituting Values gives the words the command was meant to
	// have. Tests compare that with how a shell parser reads Text.
	Skeleton string
	Values   []string
}

// SkeletonToken is the placeholder of value i in Line.Skeleton.
func SkeletonToken(i int) string { return "COFFERVALUE" + strconv.Itoa(i) + "X" }

// ControlNote replaces a command in which a value holds a control character. It is made only of
// characters that no shell treats specially, so even a shell that does not take `#` as a comment
// (interactive zsh by default) only says "command not found".
const ControlNote = "# coffer: command not printed because a value in it holds a control character, see the finding in the JSON report"

// Note returns a comment line made of text with every character outside [A-Za-z0-9_@%+=:,./-]
// turned into a space: inert in every shell, whatever text holds.
func Note(text string) string {
	mapped := strings.Map(func(r rune) rune {
		if r < 0x80 && isBare(string(r)) {
			return r
		}
		return ' '
	}, text)
	return "# coffer: " + strings.Join(strings.Fields(mapped), " ")
}

// Lines splits the output of an escaped template into command lines and quotes every value for its
// context: bare or single-quoted as a word, with '\” inside a single-quoted literal (JSON-escaped
// first when it sits in a JSON string there), closed and reopened inside a double-quoted literal. A
// line with a value that holds a control character becomes ControlNote. Empty lines are dropped.
func (v *Values) Lines(out string) ([]Line, error) {
	defer func() { v.list = v.list[:0] }()
	var lines []Line
	var errs []error
	for _, raw := range strings.Split(out, "\n") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		line, err := v.renderLine(raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lines = append(lines, line)
	}
	return lines, errors.Join(errs...)
}

// shellSyntax are the characters template text may not hold outside quotes: they start
// substitutions, expansions, globs, comments, redirections and further commands.
const shellSyntax = "\\$`|&;<>()*?[]{}~!#"

type quoteState int

const (
	outside quoteState = iota
	inSingle
	inDouble
)

func (v *Values) renderLine(raw string) (Line, error) {
	var text, skel strings.Builder
	var values []string
	state := outside
	jsonString := false // inside a "…" within a single-quoted literal
	control := false
	redirected := false
	var syntaxErr error
	literal := func(s string) {
		text.WriteString(s)
		if v.Skeleton {
			skel.WriteString(s)
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch state {
			case outside:
				switch {
				case c == '\'':
					state, jsonString = inSingle, false
				case c == '"':
					state = inDouble
				case c == '>' && !redirected && i+1 < len(s) && s[i+1] == ' ':
					// The one shell construct a template may use: `> file` to save what a read
					// command prints, for the next command to edit.
					redirected = true
				case strings.IndexByte(shellSyntax, c) >= 0:
					if syntaxErr == nil {
						syntaxErr = fmt.Errorf("template text %q has %q outside quotes, which the shell would interpret: quote it", s, c)
					}
				}
			case inSingle:
				switch c {
				case '\'':
					state = outside
				case '"':
					jsonString = !jsonString
				case '\\':
					if jsonString && i+1 < len(s) && s[i+1] != '\'' {
						i++
					}
				}
			case inDouble:
				switch c {
				case '"':
					state = outside
				case '\\':
					i++
				}
			}
		}
	}
	atWordStart := func() bool {
		s := text.String()
		return s == "" || s[len(s)-1] == ' '
	}

	rest := raw
	for rest != "" {
		start := strings.IndexRune(rest, markStart)
		if start < 0 {
			literal(rest)
			break
		}
		literal(rest[:start])
		rest = rest[start+len(string(markStart)):]
		end := strings.IndexRune(rest, markEnd)
		if end < 1 {
			return Line{}, errors.New("internal error: unterminated escaped value")
		}
		index, err := strconv.Atoi(rest[:end])
		if err != nil || index < 0 || index >= len(v.list) {
			return Line{}, fmt.Errorf("internal error: escaped value %q", rest[:end])
		}
		rest = rest[end+len(string(markEnd)):]

		var value string
		switch x := v.list[index].(type) {
		case missing:
			return Line{}, fmt.Errorf("the template refers to a value that is not there: %s", strings.TrimSpace(text.String()))
		case literalText:
			literal(string(x))
			continue
		case Args:
			if state != outside || !atWordStart() || (rest != "" && !strings.HasPrefix(rest, " ")) {
				return Line{}, errors.New("a list of arguments must stand alone between spaces, outside quotes")
			}
			for i, w := range x {
				control = control || HasControl(w)
				if v.Skeleton {
					if i > 0 {
						skel.WriteByte(' ')
					}
					skel.WriteString(SkeletonToken(len(values)))
					values = append(values, w)
				}
			}
			text.WriteString(Join(x...))
			continue
		case string:
			value = x
		}

		switch state {
		case outside:
			text.WriteString(Quote(value))
		case inSingle:
			if jsonString {
				value = jsonStringBody(value)
			}
			text.WriteString(strings.ReplaceAll(value, "'", `'\''`))
		case inDouble:
			if isBare(value) {
				text.WriteString(value)
			} else {
				text.WriteString(`"` + Quote(value) + `"`)
			}
		}
		control = control || HasControl(value)
		if v.Skeleton {
			skel.WriteString(SkeletonToken(len(values)))
			values = append(values, value)
		}
	}
	if syntaxErr != nil {
		return Line{}, syntaxErr
	}
	if state != outside {
		return Line{}, fmt.Errorf("unterminated quote in command template: %s", strings.TrimSpace(text.String()))
	}
	if control {
		return Line{Text: ControlNote, Note: true}, nil
	}
	return Line{Text: text.String(), Skeleton: skel.String(), Values: values}, nil
}

// jsonStringBody is s escaped for the inside of a JSON string: what a value needs where a template
// writes it between double quotes inside a single-quoted JSON argument.
func jsonStringBody(s string) string {
	quoted := EscapeJSONControls(mustJSON(s))
	return quoted[1 : len(quoted)-1]
}

func mustJSON(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// EscapeJSONControls rewrites, in JSON text, every character HasControl flags (which Go's encoder
// leaves raw: DEL, C1 controls, format characters such as bidirectional overrides) as a \u escape.
// Such characters can only occur inside JSON strings, where the escape means the same character,
// so the document is unchanged for AWS and a printed JSON argument never holds one.
func EscapeJSONControls(doc string) string {
	if !HasControl(doc) {
		return doc
	}
	var b strings.Builder
	for _, r := range doc {
		if !HasControl(string(r)) {
			b.WriteRune(r)
			continue
		}
		if r > 0xFFFF {
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
			continue
		}
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	return b.String()
}
