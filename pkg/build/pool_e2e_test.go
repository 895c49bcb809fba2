package build_test

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// providedJobs are provided.al2023 on Debian for both architectures: no
// RUN step, so cheap on fresh daemons.
func providedJobs(t *testing.T) ([]build.Job, *catalog.Catalog) {
	c, tm := load(t, "")
	return jobs(t, c, tm, catalog.Selector{Runtimes: []string{"provided.al2023"}, Variants: []string{"debian"}}), c
}

// connectPool connects to specs, collecting the warnings.
func connectPool(t *testing.T, specs []buildkit.Spec) (*buildkit.Pool, []string) {
	t.Helper()
	var mu sync.Mutex
	var warnings []string
	p, err := buildkit.ConnectPool(context.Background(), specs, buildkit.Options{Timeout: 5 * time.Second,
		Logf: func(f string, a ...any) {
			mu.Lock()
			defer mu.Unlock()
			warnings = append(warnings, fmt.Sprintf(f, a...))
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, warnings
}

// byPlatform maps each result's platform to what f says of it.
func byPlatform(rs []build.Result, f func(build.Result) string) map[string]string {
	out := map[string]string{}
	for _, r := range rs {
		out[r.Platform] = f(r)
	}
	return out
}

// TestPoolNative: an "arm64 node" (a buildkitd whose first platform is
// linux/arm64, as on an arm64 host) and an amd64-only one, and a third
// that does not answer. The build warns about the third and goes on; each
// platform goes to the builder that builds it natively; every image lands
// in the store with the digests of a build on one builder.
func TestPoolNative(t *testing.T) {
	e := setup(t)
	arm := testenv.StartDaemon(t, buildkit.Spec{}, "--oci-worker-platform", "linux/arm64")
	amd := testenv.StartDaemon(t, buildkit.Spec{}, "--oci-worker-platform", "linux/amd64")
	down := "tcp://127.0.0.1:1"
	pool, warnings := connectPool(t, []buildkit.Spec{{Addr: arm.Addr}, {Addr: amd.Addr}, {Addr: down}})
	if len(warnings) != 1 || !strings.Contains(warnings[0], down) {
		t.Errorf("warnings %q: want one about %s", warnings, down)
	}
	for _, c := range pool.Conns() {
		t.Logf("%s: platforms %v, native %v", c.Addr, c.Platforms, c.Native)
	}
	js, c := providedJobs(t)
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rs := mustBuild(t, build.NewPool(pool, st, options(t, e, c)), js)
	want := map[string]string{"linux/amd64": amd.Addr, "linux/arm64": arm.Addr}
	if diff := cmp.Diff(want, byPlatform(rs, func(r build.Result) string { return r.Builder })); diff != "" {
		t.Errorf("builder of each platform (-want +got):\n%s", diff)
	}
	checkStored(t, st, rs)

	// One builder, another store: the same images.
	one, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	single := mustBuild(t, build.New(pool.Conns()[1], one, options(t, e, c)), js)
	digest := func(r build.Result) string { return r.Digest }
	if diff := cmp.Diff(byPlatform(single, digest), byPlatform(rs, digest)); diff != "" {
		t.Errorf("digests: one builder (-) against the pool (+):\n%s", diff)
	}
}

// checkStored makes sure each result's image is in the store, whole.
func checkStored(t *testing.T, st *store.Store, rs []build.Result) {
	t.Helper()
	for _, r := range rs {
		arch := catalog.X86_64
		if r.Platform == "linux/arm64" {
			arch = catalog.ARM64
		}
		e, img := storedImage(t, st, store.Ref{Runtime: r.Runtime, Variant: r.Variant, Arch: string(arch)})
		if e.Descriptor.Digest.String() != r.Digest {
			t.Errorf("%s: stored %s, result %s", r.Platform, e.Descriptor.Digest, r.Digest)
		}
		if err := validate.Image(img); err != nil {
			t.Errorf("%s: the stored image is not whole: %v", r.Platform, err)
		}
	}
}

// killOnce is a progress writer that kills a daemon once every one of
// the texts has shown up in a line: once both jobs show progress, both
// solves run.
type killOnce struct {
	t     *testing.T
	texts []string
	d     *testenv.Daemon
	mu    sync.Mutex
	seen  map[string]bool
}

func (k *killOnce) Write(p []byte) (int, error) {
	k.t.Log(strings.TrimRight(string(p), "\n"))
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.seen == nil {
		k.seen = map[string]bool{}
	}
	if len(k.seen) == len(k.texts) {
		return len(p), nil
	}
	for _, s := range k.texts {
		if strings.Contains(string(p), s) {
			k.seen[s] = true
		}
	}
	if len(k.seen) == len(k.texts) {
		k.t.Logf("killing the builder at %s (SIGKILL)", k.d.Addr)
		go k.d.Kill()
	}
	return len(p), nil
}

// TestPoolBuilderDies: two builders; the one building arm64 is killed with
// SIGKILL as soon as its job shows progress. Every image still ends built
// on the other, the result says it was retried, and the store holds only
// whole images.
func TestPoolBuilderDies(t *testing.T) {
	e := setup(t)
	first := testenv.StartDaemon(t, buildkit.Spec{})
	second := testenv.StartDaemon(t, buildkit.Spec{})
	pool, _ := connectPool(t, []buildkit.Spec{{Addr: first.Addr}, {Addr: second.Addr}})
	js, c := providedJobs(t)
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	opts := options(t, e, c)
	// One job goes to each builder (balance); which one is a race.
	opts.ProgressOut = &killOnce{t: t, texts: []string{"linux/amd64]", "linux/arm64]"}, d: second}
	rs := mustBuild(t, build.NewPool(pool, st, opts), js)
	retried := 0
	for _, r := range rs {
		if r.Builder != first.Addr {
			t.Errorf("%s built on %s, want %s", r.Platform, r.Builder, first.Addr)
		}
		if r.Retried {
			retried++
			t.Logf("%s: %s", r.Platform, r.Note)
			if !strings.Contains(r.Note, second.Addr+" stopped answering") || !strings.Contains(r.Note, "retried on "+first.Addr) {
				t.Errorf("%s: note %q", r.Platform, r.Note)
			}
		}
	}
	if retried != 1 {
		t.Errorf("%d jobs retried, want the one on the killed builder: %+v", retried, rs)
	}
	checkStored(t, st, rs)
	var leftovers []string
	err = filepath.WalkDir(st.Dir(), func(p string, _ fs.DirEntry, err error) error {
		if strings.Contains(filepath.Base(p), ".tmp") {
			leftovers = append(leftovers, p)
		}
		return err
	})
	if err != nil || len(leftovers) > 0 {
		t.Errorf("half-written files in the store: %v (%v)", leftovers, err)
	}
}
