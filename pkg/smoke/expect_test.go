package smoke

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		name, expect, got string
		want              []string // fragments of the differences; nil = match
	}{
		{"equal", `{"a":1}`, `{"a":1}`, nil},
		{"subset", `{"a":1}`, `{"a":1,"b":2}`, nil},
		{"nested", `{"a":{"b":"x"}}`, `{"a":{"b":"x","c":1}}`, nil},
		{"any", `{"errorType":"*"}`, `{"errorType":"Error"}`, nil},
		{"any needs the key", `{"errorType":"*"}`, `{"errorMessage":"x"}`, []string{"$.errorType: missing"}},
		{"contains", `{"errorMessage":"~Read-Only file system"}`, `{"errorMessage":"EROFS: read-only file system, open '/var/task/x'"}`, nil},
		{"contains fails", `{"errorMessage":"~timed out"}`, `{"errorMessage":"boom"}`, []string{`$.errorMessage: want "~timed out", got "boom"`}},
		{"wrong value", `{"a":1}`, `{"a":2}`, []string{"$.a: want 1, got 2"}},
		{"wrong type", `{"a":{"b":1}}`, `{"a":"s"}`, []string{"$.a: want an object"}},
		{"arrays", `[1,2]`, `[1,2]`, nil},
		{"array length", `[1,2]`, `[1]`, []string{"$: want [1,2], got [1]"}},
		{"string response", `"ok"`, `ok`, nil},
		{"not json", `{"a":1}`, `<html>`, []string{"not JSON"}},
		{"several", `{"a":1,"b":2}`, `{}`, []string{"$.a: missing", "$.b: missing"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Match([]byte(tc.expect), []byte(tc.got))
			if len(got) != len(tc.want) {
				t.Fatalf("Match = %q, want %d differences", got, len(tc.want))
			}
			for i, frag := range tc.want {
				if !strings.Contains(got[i], frag) {
					t.Errorf("difference %d = %q, want it to contain %q", i, got[i], frag)
				}
			}
		})
	}
}
