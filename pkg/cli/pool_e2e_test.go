package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
)

// TestBuildWithBuilders runs `lambdaimg build --builder A --builder B
// --builder DOWN -o json`: an arm64 node (its first platform is arm64)
// and an amd64 one, and one that does not answer. The build warns about
// the third and goes on; the report names the builder of each image.
func TestBuildWithBuilders(t *testing.T) {
	arm := testenv.StartDaemon(t, buildkit.Spec{}, "--oci-worker-platform", "linux/arm64")
	amd := testenv.StartDaemon(t, buildkit.Spec{}, "--oci-worker-platform", "linux/amd64")
	bases := testenv.Registry(t)
	testenv.Push(t, bases+"/library/debian:bookworm-slim", map[string]v1.Image{
		"amd64": testenv.Base{Name: "debian-bookworm"}.Image(t, "amd64"),
		"arm64": testenv.Base{Name: "debian-bookworm"}.Image(t, "arm64")})
	down := "tcp://127.0.0.1:1"
	out, errOut, err := execute(t, nil, "build", "--runtime", "provided.al2023", "--os", "debian", "--store", t.TempDir(),
		"--registry-mirror", "docker.io="+bases, "--rie", testenv.RIEDir(t), "--progress", "quiet", "-o", "json",
		"--builder", arm.Addr, "--builder", amd.Addr+",jobs=1", "--builder", down)
	if err != nil {
		t.Fatalf("build: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	var rep struct {
		Images []struct{ Platform, Status, Builder string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	got := map[string]string{}
	for _, im := range rep.Images {
		got[im.Platform] = im.Status + " on " + im.Builder
	}
	want := map[string]string{"linux/amd64": "built on " + amd.Addr, "linux/arm64": "built on " + arm.Addr}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}
	if !strings.Contains(errOut, "warning: skipping builder "+down) {
		t.Errorf("no warning about %s:\n%s", down, errOut)
	}
}
