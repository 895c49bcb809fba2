package catalog

import (
	"strings"
	"testing"
)

func TestOneLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\nb", `a\nb`},
		{"a\r\nb", `a\r\nb`},
		{"esc \x1b[2J", `esc \x1b[2J`},
		{"ls\u2028ps\u2029nel\u0085", `ls\u2028ps\u2029nel\u0085`},
		{"ünïcode ok", "ünïcode ok"},
	}
	for _, tc := range tests {
		if got := oneLine(tc.in); got != tc.want {
			t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDecodeErrorsOneLine: a value echoed by the YAML decoder cannot add
// a line to the error either.
func TestDecodeErrorsOneLine(t *testing.T) {
	_, err := Parse("mine.yaml", []byte("runtimes:\n  - id: x\n    variants:\n      a: {rie: \"yes\\nmine.yaml:1: forged\"}\n"))
	if err == nil {
		t.Fatal("Parse accepted a string for a bool")
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != 1 {
		t.Errorf("the error has %d lines:\n%s", len(lines), err)
	}
	if !strings.HasPrefix(err.Error(), "mine.yaml:4: ") {
		t.Errorf("the error lost its line: %v", err)
	}
}
