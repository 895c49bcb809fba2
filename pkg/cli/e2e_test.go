package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
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
		"--helper", testenv.Helper(t)}

	run := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		cmd := New(Env{Now: func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }})
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(context.Background())
		return out.String(), errOut.String(), err
	}
	out, errOut, err := run(append([]string{"build", "--test", "--push", "--registry", target + "/lambdaimg", "-o", "json"}, common...)...)
	if err != nil {
		t.Fatalf("build --test --push: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	// One JSON document on stdout: the images with their gates, and what
	// was published.
	var rep struct {
		Images []struct {
			Target, Platform, Status string
			Gates                    []struct {
				Gate   string
				OK     bool
				Report struct{ Checks []struct{ Name string } }
			}
		}
		Published struct{ Refs []struct{ Tag string } }
	}
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON document:\n%s", out)
	}
	var seen []string
	for _, im := range rep.Images {
		for _, g := range im.Gates {
			if !g.OK {
				t.Errorf("%s %s: gate %s failed", im.Target, im.Platform, g.Gate)
			}
			seen = append(seen, im.Platform+" "+g.Gate)
			for _, c := range g.Report.Checks {
				seen = append(seen, im.Platform+" "+g.Gate+" "+c.Name)
			}
		}
	}
	for _, want := range []string{"linux/amd64 verify", "linux/arm64 verify", "linux/amd64 smoke function timeout", "linux/arm64 smoke function timeout"} {
		if !slices.Contains(seen, want) {
			t.Errorf("the report lacks %q (has %v)", want, seen)
		}
	}
	if len(rep.Published.Refs) == 0 {
		t.Errorf("the report lists nothing published:\n%s", out)
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
		if !strings.Contains(out, `"tag": "`+tag+`"`) {
			t.Errorf("the report does not list %s", tag)
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
