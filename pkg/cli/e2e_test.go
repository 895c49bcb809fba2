package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/internal/testenv"
)

// TestBuildTestPush runs `lambdaimg build --test --push` the way a CI job
// would: real BuildKit, the real emulator, an in-process registry, and then
// `lambdaimg run` on the stored image.
func TestBuildTestPush(t *testing.T) {
	testenv.BuildKit(t)
	bases := testenv.Registry(t)
	testenv.Push(t, bases+"/library/debian:bookworm-slim", map[string]v1.Image{
		"amd64": testenv.Base{Name: "debian-bookworm"}.Image(t, "amd64"),
		"arm64": testenv.Base{Name: "debian-bookworm"}.Image(t, "arm64")})
	target := testenv.Registry(t)
	storeDir := t.TempDir()
	common := []string{"--runtime", "provided.al2023", "--os", "debian", "--store", storeDir,
		"--registry-mirror", "docker.io=" + bases, "--rie", testenv.RIEDir(t), "--progress", "plain",
		"--helper", testenv.Lambdaimg(t)}

	run := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		cmd := New(Env{Now: func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }})
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(context.Background())
		return out.String(), errOut.String(), err
	}
	out, errOut, err := run(append([]string{"build", "--test", "--push", "--registry", target + "/lambdaimg"}, common...)...)
	if err != nil {
		t.Fatalf("build --test --push: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	for _, want := range []string{"provided.al2023/debian  linux/amd64", "provided.al2023/debian  linux/arm64", "PASS  function timeout"} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, out, errOut)
		}
	}
	// The debian variant is not provided.al2023's default: its tags carry it.
	for tag, want := range map[string]string{"al2023-debian-x86_64": "amd64", "al2023-debian-arm64": "arm64", "al2023.2026.11.24-debian-x86_64": "amd64"} {
		ref, _ := name.ParseReference(target + "/lambdaimg/provided:" + tag)
		img, err := remote.Image(ref)
		if err != nil {
			t.Errorf("%s: %v\n%s", tag, err, out)
			continue
		}
		cf, err := img.ConfigFile()
		if err != nil || cf.Architecture != want {
			t.Errorf("%s: architecture %v (%v), want %s", tag, cf, err, want)
		}
		if !strings.Contains(out, "provided:"+tag+"@sha256:") {
			t.Errorf("stdout does not list %s", tag)
		}
	}
	idx, err := remote.Index(mustRef(t, target+"/lambdaimg/provided:al2023-debian"))
	if err != nil {
		t.Fatalf("the plain tag: %v", err)
	}
	m, _ := idx.IndexManifest()
	if len(m.Manifests) != 2 {
		t.Errorf("the plain tag's index lists %d images, want 2", len(m.Manifests))
	}

	// run: one invocation of the stored image, the response on stdout.
	ev := t.TempDir() + "/event.json"
	os.WriteFile(ev, []byte(`{"name":"cli"}`), 0o644)
	out, errOut, err = run(append([]string{"run", "--platform", "linux/arm64", "--event", ev}, common...)...)
	if err != nil || !strings.Contains(out, `"greeting":"hello cli"`) {
		t.Errorf("run: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
