// Package shelltest reads printed commands the way a POSIX shell would, with a real shell parser
// (mvdan.cc/sh), for tests that prove a command is inert: one simple command whose words are fixed
// strings — no substitution, expansion or globbing — and at most one `> file` redirection.
package shelltest

import (
	"errors"
	"fmt"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Command is what a shell would run.
type Command struct {
	Argv []string
	// Redirect is the target of a `>` redirection, "" when there is none.
	Redirect string
}

// Parse reads cmd as a POSIX shell line and returns its words. It fails unless cmd is exactly one
// simple command made of literal text, single-quoted and plain double-quoted strings. It parses
// with every dialect mvdan.cc/sh knows (POSIX, bash, mksh, zsh) and requires them to agree.
func Parse(cmd string) (Command, error) {
	var first *Command
	for _, lang := range []syntax.LangVariant{syntax.LangPOSIX, syntax.LangBash, syntax.LangMirBSDKorn, syntax.LangZsh} {
		got, err := parseAs(cmd, lang)
		if err != nil {
			return Command{}, fmt.Errorf("%s: %w", lang, err)
		}
		if first == nil {
			first = &got
			continue
		}
		if !equal(*first, got) {
			return Command{}, fmt.Errorf("%s reads %q, POSIX reads %q", lang, got.Argv, first.Argv)
		}
	}
	return *first, nil
}

// IsComment reports whether line parses as nothing but a comment in every dialect.
func IsComment(line string) bool {
	for _, lang := range []syntax.LangVariant{syntax.LangPOSIX, syntax.LangBash, syntax.LangMirBSDKorn, syntax.LangZsh} {
		f, err := syntax.NewParser(syntax.Variant(lang), syntax.KeepComments(true)).Parse(strings.NewReader(line), "")
		if err != nil || len(f.Stmts) != 0 || len(f.Last) != 1 {
			return false
		}
	}
	return true
}

func equal(a, b Command) bool {
	if a.Redirect != b.Redirect || len(a.Argv) != len(b.Argv) {
		return false
	}
	for i := range a.Argv {
		if a.Argv[i] != b.Argv[i] {
			return false
		}
	}
	return true
}

func parseAs(cmd string, lang syntax.LangVariant) (Command, error) {
	f, err := syntax.NewParser(syntax.Variant(lang)).Parse(strings.NewReader(cmd), "")
	if err != nil {
		return Command{}, err
	}
	if len(f.Stmts) != 1 {
		return Command{}, fmt.Errorf("%d statements, want one", len(f.Stmts))
	}
	st := f.Stmts[0]
	if st.Background || st.Negated || st.Coprocess || st.Disown || st.Semicolon.IsValid() {
		return Command{}, errors.New("not a plain statement (&, !, ;, |&)")
	}
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok {
		return Command{}, fmt.Errorf("%T, want a simple command", st.Cmd)
	}
	if len(call.Assigns) > 0 {
		return Command{}, errors.New("variable assignments")
	}
	var out Command
	for _, w := range call.Args {
		s, err := word(w)
		if err != nil {
			return Command{}, err
		}
		out.Argv = append(out.Argv, s)
	}
	if len(st.Redirs) > 1 {
		return Command{}, errors.New("more than one redirection")
	}
	for _, r := range st.Redirs {
		if r.Op != syntax.RdrOut || r.N != nil || r.Hdoc != nil {
			return Command{}, fmt.Errorf("redirection %s, only `> file` is allowed", r.Op)
		}
		s, err := word(r.Word)
		if err != nil {
			return Command{}, fmt.Errorf("redirection target: %w", err)
		}
		out.Redirect = s
	}
	return out, nil
}

// word returns the string a word stands for, refusing any part a shell would expand.
func word(w *syntax.Word) (string, error) {
	var b strings.Builder
	for i, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			if i == 0 && (strings.HasPrefix(p.Value, "~") || strings.HasPrefix(p.Value, "=")) {
				return "", fmt.Errorf("word %q starts with ~ or =, which shells expand", p.Value)
			}
			if strings.ContainsAny(p.Value, "*?[]{}!") {
				return "", fmt.Errorf("unquoted %q holds glob, brace or history characters", p.Value)
			}
			b.WriteString(unescape(p.Value))
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", errors.New("$'…' quoting")
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			if p.Dollar {
				return "", errors.New(`$"…" quoting`)
			}
			for _, inner := range p.Parts {
				lit, ok := inner.(*syntax.Lit)
				if !ok {
					return "", fmt.Errorf("%T inside double quotes", inner)
				}
				if strings.Contains(lit.Value, "!") {
					return "", errors.New("! inside double quotes (history expansion)")
				}
				b.WriteString(unescapeDouble(lit.Value))
			}
		default:
			return "", fmt.Errorf("%T in a word (substitution or expansion)", part)
		}
	}
	return b.String(), nil
}

// unescape removes the backslashes of an unquoted literal as a shell does.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unescapeDouble removes the backslashes that quote $ ` " \ inside double quotes.
func unescapeDouble(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\", s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
