// Package shellcmd renders values into POSIX shell commands that are safe to paste: every value
// becomes exactly one word, whatever it holds. coffer prints AWS CLI commands built from names the
// audited account controls (policy paths, key references, trail names), so quoting is not a
// nicety: an unquoted `$(…)` in an IAM policy path runs when a reviewer pastes the command.
package shellcmd

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Quote returns s as one shell word. A value made only of characters no shell treats specially
// stays bare for readability; anything else is single-quoted, with each single quote inside
// written as quote, backslash, quote, quote (close, escaped quote, reopen).
// Callers must reject values with control characters first (HasControl): a newline inside single
// quotes is inert for the shell but splits the command for a reader and for line-based tools.
func Quote(s string) string {
	if isBare(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes each word and joins them with spaces: the command line whose words are argv.
func Join(argv ...string) string {
	quoted := make([]string, len(argv))
	for i, w := range argv {
		quoted[i] = Quote(w)
	}
	return strings.Join(quoted, " ")
}

// isBare reports whether s may be printed without quotes: non-empty, only [A-Za-z0-9_@%+=:,./-],
// and not starting with '=' (zsh expands a word starting with '=' to a command's path).
func isBare(s string) bool {
	if s == "" || s[0] == '=' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("_@%+=:,./-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// HasControl reports whether s holds a character that must never reach a printed command: C0 and
// C1 controls (NUL, CR, LF, ESC, …), Unicode format characters such as bidirectional overrides
// (which make a command display differently from what runs), line and paragraph separators, and
// invalid UTF-8.
func HasControl(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return true
		}
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return true
		}
		i += size
	}
	return false
}

// Command is the printed form of argv: Join, or ControlNote when a word holds a control character
// (quoted, it would be inert, but a newline would still split the command for a reader).
func Command(argv ...string) string {
	for _, w := range argv {
		if HasControl(w) {
			return ControlNote
		}
	}
	return Join(argv...)
}
