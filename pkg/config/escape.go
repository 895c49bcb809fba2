package config

import (
	"strconv"
	"strings"
	"unicode"
)

// oneLine escapes control characters and Unicode line breaks in a message
// line, as Go quotes them, so a value from the file cannot start a line of
// its own in the error output (as pkg/catalog does for catalogs).
func oneLine(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
