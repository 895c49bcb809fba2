package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/osindex/apttest"
	"github.com/lambdaimg/lambdaimg/pkg/plan"
	"github.com/lambdaimg/lambdaimg/pkg/store"
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

// TestPlanAptMirror: plan reads the package index of a stored Debian
// image's APT source from --apt-mirror, and names the newer package.
func TestPlanAptMirror(t *testing.T) {
	repo := apttest.Start(t, "testing")
	repo.Publish(apttest.Pkg{Name: "lambdaimg-hello", Version: "2"})
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec := `{"sources":["deb http://deb.example.invalid/debian testing main"],"packages":{"lambdaimg-hello":"1"}}`
	ref := store.Ref{Runtime: "provided.al2023", Variant: "debian", Arch: "x86_64"}
	if _, err := st.Put(ref, empty.Image, map[string]string{labels.OSPackages: rec}); err != nil {
		t.Fatal(err)
	}
	args := []string{"plan", "-r", "provided.al2023", "--os", "debian", "--platform", "linux/amd64", "--store", dir, "-o", "json"}
	if _, err := runCLI(t, args...); err == nil || !strings.Contains(err.Error(), "deb.example.invalid") {
		t.Errorf("without the mirror: %v, want an error naming the source", err)
	}
	out, err := runCLI(t, append(args, "--apt-mirror", "http://deb.example.invalid/debian="+repo.URL)...)
	if code, ok := ExitCode(err); !ok || code != PlanChanged {
		t.Fatalf("plan = %v, want exit status %d", err, PlanChanged)
	}
	if want := "package lambdaimg-hello has newer version 2 (installed 1)"; !strings.Contains(out, want) {
		t.Errorf("plan says\n%s\nwant %q", out, want)
	}
}
