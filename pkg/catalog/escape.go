package catalog

import (
	"strconv"
	"strings"
	"unicode"
)

// oneLine escapes control characters and Unicode line breaks in a message
// line, as Go quotes them (\n, \r, \x1b, \u2028), so a key or value from a
// catalog cannot start a line of its own in the error output.
func oneLine(s string) string {
	if strings.IndexFunc(s, needsEscape) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if needsEscape(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u0085'
}
