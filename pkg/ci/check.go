package ci

import (
	"bytes"
	"fmt"
	"strings"
)

// DriftError says that a committed workflow differs from the generated one.
type DriftError struct {
	File string
	// Diff lists the first lines that differ, "-" committed, "+" generated.
	Diff string
}

func (e *DriftError) Error() string {
	return fmt.Sprintf("%s differs from what `lambdaimg ci github` generates (run it again without --check):\n%s", e.File, e.Diff)
}

// Check compares a committed workflow with the generated one and returns
// a *DriftError when they differ.
func Check(file string, committed, generated []byte) error {
	if bytes.Equal(committed, generated) {
		return nil
	}
	return &DriftError{File: file, Diff: lineDiff(committed, generated, 20)}
}

// lineDiff is a small diff of two texts: their common head and tail
// stripped, the rest as "-" and "+" lines, at most max of each, with
// line numbers. Enough to see a hand edit; not a minimal diff.
func lineDiff(a, b []byte, max int) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	head := 0
	for head < len(al) && head < len(bl) && al[head] == bl[head] {
		head++
	}
	tail := 0
	for tail < len(al)-head && tail < len(bl)-head && al[len(al)-1-tail] == bl[len(bl)-1-tail] {
		tail++
	}
	var out strings.Builder
	fmt.Fprintf(&out, "@@ line %d @@\n", head+1)
	write := func(sign string, lines []string) {
		for i, l := range lines {
			if i == max {
				fmt.Fprintf(&out, "%s ... %d more\n", sign, len(lines)-max)
				break
			}
			fmt.Fprintf(&out, "%s%s\n", sign, l)
		}
	}
	write("-", al[head:len(al)-tail])
	write("+", bl[head:len(bl)-tail])
	return out.String()
}
