package reporters

import (
	"cmp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/coffer-audit/coffer/checks"
)

// The formats for people (table, Markdown, HTML) cut what nobody reads to the end, so that their
// size depends on the number of findings and not on the length of the values in the snapshot.
// A snapshot value has no length limit (a hand-made or tampered snapshot, a tag), and a resource's
// name is repeated in every finding of the resource: in the name, the ARN, the message and the
// commands. Shown whole, a 1 MB bucket name made a 40 MB Markdown comment and a 66 MB HTML page,
// and the table never finished: tablewriter widens a column to its longest word (every row is
// then padded to it) and, from a word of 46,341 columns on, its line breaker never ends (see
// clipProse). JSON, SARIF and JUnit, which programs read, keep every value whole.
//
// Names people deal with are far below the limits: S3 bucket names have at most 63 characters,
// IAM names at most 128, and the commands' JSON arguments are made of short words (a 20 KB bucket
// policy has no word near 128 characters), so the small accounts of the golden files show exactly
// as before.
const (
	// maxWord is the most characters shown of one run without a space in a message, a label or a
	// table cell (a name, an ARN), and of one name-like run (between spaces, quotes and JSON or ARN
	// punctuation) in a command or an evidence value.
	maxWord = 128
	// maxProse is the most characters shown of a message, a summary or a label.
	maxProse = 2048
	// maxCommand is the most characters shown of one command or evidence value. A command that
	// rewrites a whole configuration (DESIGN §13) carries all of it, so it may be long; a bucket
	// policy has at most 20 KB.
	maxCommand = 64 << 10
)

// ellipsis marks where display text was cut.
const ellipsis = "…"

// shortenedNote follows a command shown shortened; the full one is in the JSON report.
const shortenedNote = "shortened for display (…): the JSON report has the full command"

// clipLimits says how to cut a text: runs of characters between separators longer than word are
// cut in the middle (so the end, which often tells similar names apart, stays), and the whole
// text after total characters.
type clipLimits struct {
	word, total int
	sep         func(rune) bool
	asciiSep    [utf8.RuneSelf]bool // sep of each ASCII character, looked up on the fast path
}

func newClipLimits(word, total int, sep func(rune) bool) *clipLimits {
	l := &clipLimits{word: word, total: total, sep: sep}
	for c := range utf8.RuneSelf {
		l.asciiSep[c] = sep(rune(c))
	}
	return l
}

var (
	proseLimits   = newClipLimits(maxWord, maxProse, unicode.IsSpace)
	commandLimits = newClipLimits(maxWord, maxCommand, isCommandSeparator)
)

// isCommandSeparator splits a command or a JSON value into name-like runs: a bucket name inside
// 'arn:aws:s3:::NAME/*' or {"Bucket":"NAME"} is a run of its own, while the punctuation of the
// JSON around it, which can be long without a space, is not part of any run.
func isCommandSeparator(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune(`"'{}[](),:;=/\`, r)
}

// clipProse shortens a message, summary or label for display: see maxWord and maxProse. It
// keeps a table cell's words below tablewriter's limits: a word wider than the column widens the
// column to it, and a cell whose last word is 46,341 columns or wider makes twwarp.WrapWords loop
// forever, appending empty lines until memory runs out (its costs start at math.MaxInt32, which
// the squared slack of such a line exceeds, so no break is ever chosen).
func clipProse(s string) string {
	out, _ := clip(s, proseLimits)
	return out
}

// displayLabel is resourceLabel cut for display. The parts are cut before they are joined, so a
// long name is not copied whole first.
func displayLabel(res checks.Resource) string {
	return clipProse(resourceLabel(checks.Resource{Name: clipProse(cmp.Or(res.Name, res.ARN)), Role: clipProse(res.Role)}))
}

// clipCommand shortens a command or an evidence value for display and reports whether it did.
func clipCommand(s string) (string, bool) {
	return clip(s, commandLimits)
}

// clipCommands shortens each command and reports whether any was.
func clipCommands(cmds []string) ([]string, bool) {
	var out []string
	shortened := false
	for i, c := range cmds {
		cc, cut := clipCommand(c)
		if cut && out == nil {
			out = make([]string, len(cmds))
			copy(out, cmds[:i])
		}
		if out != nil {
			out[i] = cc
		}
		shortened = shortened || cut
	}
	if out == nil {
		return cmds, false
	}
	return out, shortened
}

// clip cuts s by l and reports whether it did. s comes back unchanged, without a copy, when
// nothing is too long, which is every value of an ordinary account.
func clip(s string, l *clipLimits) (string, bool) {
	// A string of at most word bytes has no run of more than word characters.
	if len(s) <= l.word || !needsClip(s, l) {
		return s, false
	}
	var b strings.Builder
	b.Grow(min(len(s), l.total+len(ellipsis)))
	n := 0 // characters written
	// write adds part (chars characters, ending at byte end of s) unless that passes the total,
	// and then only what fits beside the ellipsis; it reports whether to go on.
	write := func(part string, chars, end int) bool {
		if n+chars < l.total || n+chars == l.total && end == len(s) {
			b.WriteString(part)
			n += chars
			return true
		}
		// Keep total-1 characters and the ellipsis.
		for _, r := range part {
			if n == l.total-1 {
				break
			}
			b.WriteRune(r)
			n++
		}
		b.WriteString(ellipsis)
		return false
	}
	for i := 0; i < len(s); {
		if size, ok := l.sepAt(s, i); ok {
			if !write(s[i:i+size], 1, i+size) {
				return b.String(), true
			}
			i += size
			continue
		}
		end, chars := l.runEnd(s, i, len(s))
		run := s[i:end]
		if chars > l.word {
			head := l.word / 2
			tail := l.word - head - 1
			run = prefixChars(run, head) + ellipsis + suffixChars(run, tail)
			chars = l.word
		}
		if !write(run, chars, end) {
			return b.String(), true
		}
		i = end
	}
	return b.String(), true
}

// needsClip reports whether s has a run longer than l.word or more than l.total characters. It
// stops at the first sign of either, so it reads a long name only up to its limit.
func needsClip(s string, l *clipLimits) bool {
	total := 0
	for i := 0; i < len(s); {
		if size, ok := l.sepAt(s, i); ok {
			total++
			i += size
		} else {
			end, chars := l.runEnd(s, i, l.word+1)
			if chars > l.word {
				return true
			}
			total += chars
			i = end
		}
		if total > l.total {
			return true
		}
	}
	return false
}

// sepAt returns the size of the character at s[i] and whether it is a separator.
func (l *clipLimits) sepAt(s string, i int) (int, bool) {
	if c := s[i]; c < utf8.RuneSelf {
		return 1, l.asciiSep[c]
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	return size, l.sep(r)
}

// runEnd returns the end of the run of non-separators starting at i and its length in
// characters, or where it stops after limit characters.
func (l *clipLimits) runEnd(s string, i, limit int) (end, chars int) {
	for end = i; end < len(s) && chars < limit; chars++ {
		size, sep := l.sepAt(s, end)
		if sep {
			break
		}
		end += size
	}
	return end, chars
}

func prefixChars(s string, n int) string {
	i := 0
	for ; n > 0 && i < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}

func suffixChars(s string, n int) string {
	i := len(s)
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return s[i:]
}
