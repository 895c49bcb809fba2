package main

import (
	"strings"
	"testing"
)

// The command lines it refuses; invoke and runtime themselves are run in
// containers by the end-to-end tests (pkg/cli, pkg/build, internal/e2e).
func TestRunRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "usage: lambdaimg-helper internal invoke|runtime"},
		{"only internal", []string{"internal"}, "usage:"},
		{"unknown", []string{"internal", "build"}, `unknown command "build"`},
		{"too many", []string{"invoke", "x"}, "usage:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := run(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}
