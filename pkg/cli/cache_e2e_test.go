//go:build unix

// The test daemons (testenv.StartDaemon) run where buildkitd does.

package cli

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// TestBuildSharedRegistryCache: builder A builds provided.al2023 (debian,
// linux/amd64) with `--cache-to type=registry,ref=HOST/cache:{job},mode=max`;
// a fresh builder B (empty state) builds it again into another store with
// `--cache-from type=registry,ref=HOST/cache:{job}`. The cache lands under
// the job's name; B reports every step of the image stage after FROM (three
// COPY, two WORKDIR) CACHED, which a daemon with no state can only have
// from the registry; both stores hold the same digest. Without
// --cache-from, B runs those steps and the test fails.
func TestBuildSharedRegistryCache(t *testing.T) {
	a := testenv.StartDaemon(t, buildkit.Spec{}, "--oci-worker-platform", "linux/amd64")
	b := testenv.StartDaemon(t, buildkit.Spec{}, "--oci-worker-platform", "linux/amd64")
	host := testenv.Registry(t)
	testenv.Push(t, host+"/library/debian:bookworm-slim", map[string]v1.Image{
		"amd64": testenv.Base{Name: "debian-bookworm"}.Image(t, "amd64")})
	ref := host + "/cache:{job}"
	// build builds with builder into a new store and returns the digest
	// that store holds and BuildKit's progress output.
	build := func(builder string, cache ...string) (digest, progress string) {
		t.Helper()
		dir := t.TempDir()
		args := append([]string{"build", "--runtime", "provided.al2023", "--os", "debian", "--platform", "linux/amd64",
			"--store", dir, "--registry-mirror", "docker.io=" + host, "--rie", testenv.RIEDir(t),
			"--progress", "plain", "-o", "json", "--builder", builder}, cache...)
		start := time.Now()
		out, errOut, err := execute(t, nil, args...)
		t.Logf("build on %s %v: %s", builder, cache, time.Since(start).Round(time.Millisecond))
		if err != nil {
			t.Fatalf("build: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
		}
		var rep struct {
			Images []struct{ Platform, Status, Builder, Digest string }
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if len(rep.Images) != 1 || rep.Images[0].Status != "built" || rep.Images[0].Builder != builder {
			t.Fatalf("images %+v: want one built on %s\nstderr:\n%s", rep.Images, builder, errOut)
		}
		st, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		e, ok, err := st.Get(store.Ref{Runtime: "provided.al2023", Variant: "debian", Arch: "x86_64"})
		if err != nil || !ok {
			t.Fatalf("not in the store %s: %v", dir, err)
		}
		if got := e.Descriptor.Digest.String(); got != rep.Images[0].Digest {
			t.Fatalf("the store holds %s, the report says %s", got, rep.Images[0].Digest)
		}
		return rep.Images[0].Digest, errOut
	}

	first, _ := build(a.Addr, "--cache-to", "type=registry,ref="+ref+",mode=max")
	cache := host + "/cache:provided.al2023-debian-x86_64"
	r, err := name.ParseReference(cache)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(r); err != nil {
		t.Fatalf("no cache at %s ({job} expanded): %v", cache, err)
	}

	second, progress := build(b.Addr, "--cache-from", "type=registry,ref="+ref)
	steps := imageSteps(progress)
	if len(steps) < 5 {
		t.Fatalf("B's progress shows %d steps of the image stage, want the template's 3 COPY and 2 WORKDIR:\n%s", len(steps), progress)
	}
	var ran []string
	for step, cached := range steps {
		if !cached {
			ran = append(ran, step)
		}
	}
	sort.Strings(ran)
	if len(ran) > 0 {
		t.Errorf("B ran steps that A's registry cache holds: %q\nprogress:\n%s", ran, progress)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("digest (-A +B):\n%s", diff)
	}
}

var (
	// plainStep is a line of BuildKit's plain progress: "#N text".
	plainStep = regexp.MustCompile(`^#(\d+) (.*)$`)
	// imageStep names a step of the Dockerfile's image stage, e.g.
	// "[provided.al2023/debian linux/amd64] [image 2/6] COPY ...".
	imageStep = regexp.MustCompile(`\[image \d+/\d+\] `)
	// remoteLayer is a blob a step fetched, e.g. "sha256:5fa6… 3.80MB /
	// 3.80MB 0.0s done": a step that ran fetches none.
	remoteLayer = regexp.MustCompile(`^sha256:[0-9a-f]{64} `)
)

// imageSteps reads BuildKit's plain progress output and says, for every
// step of the image stage after its FROM (by name), whether BuildKit
// reported it CACHED or fetched its result from the cache.
func imageSteps(progress string) map[string]bool {
	names := map[string]string{} // step number -> its name
	cached := map[string]bool{}
	for _, line := range strings.Split(progress, "\n") {
		m := plainStep.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		switch id, text := m[1], m[2]; {
		case text == "CACHED", remoteLayer.MatchString(text):
			// The last step's result is often not reported CACHED but
			// fetched: its layers come from the registry cache.
			cached[id] = true
		case strings.HasPrefix(text, "[") && names[id] == "":
			names[id] = text
		}
	}
	out := map[string]bool{}
	for id, n := range names {
		if imageStep.MatchString(n) && !strings.Contains(n, "] FROM ") {
			out[n] = cached[id]
		}
	}
	return out
}
