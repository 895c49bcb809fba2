package smoke

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/helper"
)

func TestHelperArchs(t *testing.T) {
	tests := []struct {
		name   string
		native []string
		arch   string
		want   []string
	}{
		{name: "native builder", native: []string{"linux/amd64"}, arch: "amd64", want: []string{"amd64"}},
		{name: "amd64 host emulating arm64: its own architecture first", native: []string{"linux/amd64"}, arch: "arm64", want: []string{"amd64", "arm64"}},
		{name: "arm64 host emulating amd64", native: []string{"linux/arm64/v8"}, arch: "amd64", want: []string{"arm64", "amd64"}},
		{name: "a second worker native for the image", native: []string{"linux/amd64", "linux/arm64"}, arch: "arm64", want: []string{"arm64"}},
		{name: "unknown host", native: []string{"linux/riscv64"}, arch: "arm64", want: []string{"arm64"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := helperArchs(&buildkit.Conn{Native: tc.native}, tc.arch)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("helperArchs (-want +got):\n%s", diff)
			}
		})
	}
}

// A run with no helper for an architecture fails before building, with
// the helper's error (its fixes are tested in package helper).
func TestFindHelpersMissing(t *testing.T) {
	g := NewGate(&buildkit.Conn{Native: []string{"linux/amd64"}}, Plan{Helper: t.TempDir()})
	err := g.FindHelpers([]string{"amd64", "arm64"})
	if !errors.Is(err, helper.ErrMissing) {
		t.Fatalf("FindHelpers = %v, want helper.ErrMissing", err)
	}
}
