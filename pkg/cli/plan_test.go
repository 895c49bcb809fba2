package cli

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/plan"
)

// TestPlanExitStatus: an empty store means every target is new, which
// asks main for exit status 10 and prints the matrix on stdout. (The
// registry side is tested in pkg/plan.)
func TestPlanExitStatus(t *testing.T) {
	out, err := runCLI(t, "plan", "--runtime", "python3.12", "--store", t.TempDir(), "-o", "github-matrix")
	if code, ok := ExitCode(err); !ok || code != PlanChanged || !errors.Is(err, plan.ErrChanged) {
		t.Fatalf("plan = %v, want exit status %d", err, PlanChanged)
	}
	want := `{"include":[{"runtime":"python3.12","variant":"al2023","platform":"linux/amd64","runner":"ubuntu-24.04"},` +
		`{"runtime":"python3.12","variant":"al2023","platform":"linux/arm64","runner":"ubuntu-24.04-arm"}]}` + "\n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("matrix (-want +got):\n%s", diff)
	}
	if _, err := runCLI(t, "plan", "--all", "-o", "yaml"); !IsUsage(err) {
		t.Errorf("-o yaml = %v, want a usage error", err)
	}
}
