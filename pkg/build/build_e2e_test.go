package build_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg"
	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/store"
	"github.com/moby/buildkit/client"
)

var debian = testenv.Base{Name: "debian-bookworm"}
var busybox = testenv.Base{Name: "busybox"}

// env is one registry with the test bases, shared by the tests of a run.
type env struct {
	conn *buildkit.Conn
	host string
}

// registryHost is an in-process registry shared by the package's tests.
var registryHost string

func TestMain(m *testing.M) {
	host, stop := testenv.StartRegistry()
	registryHost = host
	code := m.Run()
	stop()
	os.Exit(code)
}

var pushBases sync.Once

func setup(t *testing.T) env {
	t.Helper()
	conn := testenv.BuildKit(t)
	pushBases.Do(func() {
		testenv.Push(t, registryHost+"/library/debian:bookworm-slim", map[string]v1.Image{
			"amd64": debian.Image(t, "amd64"), "arm64": debian.Image(t, "arm64")})
	})
	return env{conn: conn, host: registryHost}
}

// load returns the builtin catalog, optionally with an overlay, and the
// builtin templates.
func load(t *testing.T, overlay string) (*catalog.Catalog, *render.Templates) {
	t.Helper()
	sub, _ := fs.Sub(lambdaimg.Templates, "templates")
	tm, err := render.Load(sub)
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Parse(lambdaimg.CatalogName, lambdaimg.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	if overlay != "" {
		u, err := catalog.Parse("overlay.yaml", []byte(overlay))
		if err != nil {
			t.Fatal(err)
		}
		c = catalog.Overlay(c, u)
	}
	if err := catalog.Validate(c, tm); err != nil {
		t.Fatal(err)
	}
	return c, tm
}

func jobs(t *testing.T, c *catalog.Catalog, tm *render.Templates, sel catalog.Selector) []build.Job {
	t.Helper()
	return jobsWith(t, c, tm, sel, "")
}

// jobsWith renders the selected targets; with extDir, the extensions there
// go into every image.
func jobsWith(t *testing.T, c *catalog.Catalog, tm *render.Templates, sel catalog.Selector, extDir string) []build.Job {
	t.Helper()
	ts, err := c.Targets(sel)
	if err != nil {
		t.Fatal(err)
	}
	var out []build.Job
	for i := range ts {
		// The tests that download pass a CA bundle.
		ctx, err := tm.Render(&ts[i], render.Options{CA: true, Extensions: extDir != ""})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range ts[i].Arches {
			out = append(out, build.Job{Context: ctx, Arch: a, Extensions: extDir})
		}
	}
	return out
}

func options(t *testing.T, e env, c *catalog.Catalog) build.Options {
	d, _ := catalog.ParseDate(c.Defaults.SourceDate)
	return build.Options{
		Progress: "plain", ProgressOut: testWriter{t},
		Mirrors:         map[string]string{"docker.io": e.host},
		RIEDir:          testenv.RIEDir(t),
		SourceDateEpoch: d.Unix(),
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func mustBuild(t *testing.T, b *build.Builder, js []build.Job) []build.Result {
	t.Helper()
	rs, err := b.Build(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if !r.OK() {
			t.Fatalf("%s %s: %s: %s\n%s", r.Target, r.Platform, r.Status, r.Reason, strings.Join(r.FailedLines, "\n"))
		}
	}
	return rs
}

func storedImage(t *testing.T, st *store.Store, ref store.Ref) (store.Entry, v1.Image) {
	t.Helper()
	e, ok, err := st.Get(ref)
	if err != nil || !ok {
		t.Fatalf("%s not in the store: %v", ref.Name(), err)
	}
	img, err := st.Image(e)
	if err != nil {
		t.Fatal(err)
	}
	return e, img
}

// publish pushes a stored image to the test registry so a check build can
// start FROM it.
func publish(t *testing.T, e env, img v1.Image, repo string) string {
	t.Helper()
	ref := e.host + "/" + repo
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	return ref
}

func buildFunction(t *testing.T, dir, goarch string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bin")
	testenv.GoBuild(t, filepath.Join(testenv.Root(t), "testdata", "functions", dir), goarch, out)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// invokeCheck is a Dockerfile that adds a function to IMAGE, starts it the
// way Lambda's local tooling does (the entry point under the emulator) and
// invokes it once.
const invokeCheck = `ARG IMAGE
FROM ${IMAGE}
COPY invoke /usr/local/bin/invoke
COPY %s
RUN (AWS_LAMBDA_FUNCTION_NAME=smoke /lambda-entrypoint.sh %s >/tmp/rie.log 2>&1 &) ; \
    /usr/local/bin/invoke %s || { echo "--- emulator log"; cat /tmp/rie.log; exit 1; }
`

// TestProvidedOnDebian builds provided.al2023 on Debian for both
// architectures with a Go function as its bootstrap, inspects the images,
// and invokes each through the emulator.
func TestProvidedOnDebian(t *testing.T) {
	e := setup(t)
	c, tm := load(t, "")
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := build.New(e.conn, st, options(t, e, c))
	js := jobs(t, c, tm, catalog.Selector{Runtimes: []string{"provided.al2023"}, Variants: []string{"debian"}})
	if len(js) != 2 {
		t.Fatalf("want a job per architecture, got %d", len(js))
	}
	rs := mustBuild(t, b, js)
	for _, r := range rs {
		if r.Status != build.Built || !strings.HasPrefix(r.Digest, "sha256:") || r.Size <= 0 {
			t.Errorf("%s: %+v", r.Platform, r)
		}
	}
	for _, arch := range []catalog.Arch{catalog.X86_64, catalog.ARM64} {
		t.Run(string(arch), func(t *testing.T) {
			entry, img := storedImage(t, st, store.Ref{Runtime: "provided.al2023", Variant: "debian", Arch: string(arch)})
			if p := entry.Descriptor.Platform; p == nil || p.Architecture != arch.GoArch() || p.OS != "linux" {
				t.Errorf("store descriptor platform = %v", p)
			}
			if entry.Image != "provided" || !strings.Contains(strings.Join(entry.Tags, ","), "al2023") || entry.Default {
				t.Errorf("store annotations: %+v", entry)
			}
			m, _ := img.Manifest()
			if m.MediaType != "application/vnd.docker.distribution.manifest.v2+json" {
				t.Errorf("manifest media type %s: want a plain Docker v2 manifest", m.MediaType)
			}
			base := debian.Image(t, arch.GoArch())
			bm, _ := base.Manifest()
			if len(m.Layers) <= len(bm.Layers) {
				t.Errorf("%d layers, base has %d", len(m.Layers), len(bm.Layers))
			}
			cf, _ := img.ConfigFile()
			if cf.Architecture != arch.GoArch() || cf.OS != "linux" {
				t.Errorf("config platform %s/%s", cf.OS, cf.Architecture)
			}
			if strings.Join(cf.Config.Entrypoint, " ") != "/lambda-entrypoint.sh" || cf.Config.WorkingDir != "/var/task" {
				t.Errorf("entrypoint %v workdir %q", cf.Config.Entrypoint, cf.Config.WorkingDir)
			}
			envs := strings.Join(cf.Config.Env, "\n")
			for _, want := range []string{"LAMBDA_TASK_ROOT=/var/task", "LAMBDA_RUNTIME_DIR=/var/runtime", "TZ=:/etc/localtime", "LANG=C.UTF-8"} {
				if !strings.Contains(envs, want) {
					t.Errorf("env lacks %s:\n%s", want, envs)
				}
			}
			if cf.Config.Labels[render.LabelRuntime] != "provided.al2023" || cf.Config.Labels[render.LabelVariant] != "debian" ||
				cf.Config.Labels[render.LabelInputs] != entry.Inputs {
				t.Errorf("labels %v", cf.Config.Labels)
			}
			if want := time.Unix(options(t, e, c).SourceDateEpoch, 0).UTC(); !cf.Created.Time.Equal(want) {
				t.Errorf("created %v, want SOURCE_DATE_EPOCH %v", cf.Created.Time, want)
			}
			for _, p := range []string{"lambda-entrypoint.sh", "var/runtime/bootstrap", "usr/local/bin/aws-lambda-rie", "opt/extensions/"} {
				if !hasFile(t, img, p) {
					t.Errorf("image lacks /%s", p)
				}
			}
			ref := publish(t, e, img, "built/provided:debian-"+string(arch))
			out, err := testenv.Check(t, e.conn, fmt.Sprintf(invokeCheck, "bootstrap /var/task/bootstrap", "function.handler",
				`'{"name":"lambda"}' '"greeting":"hello lambda"' '"arch":"`+arch.GoArch()+`"' '"taskRoot":"/var/task"' '"functionName":"smoke"'`),
				map[string][]byte{"bootstrap": buildFunction(t, "go-hello", arch.GoArch()), "invoke": buildFunction(t, "invoke", arch.GoArch())},
				map[string]string{"platform": arch.Platform(), "build-arg:IMAGE": ref})
			if err != nil {
				t.Fatalf("invocation failed: %v\n%s", err, out)
			}
			if !strings.Contains(out, `"greeting":"hello lambda"`) {
				t.Errorf("no response in the output:\n%s", out)
			}
		})
	}

	// Nothing changed: the second run does not ask BuildKit.
	again := mustBuild(t, b, js)
	for i, r := range again {
		if r.Status != build.Unchanged || r.Digest != rs[i].Digest {
			t.Errorf("rebuild of unchanged %s: %s %s, want unchanged %s", r.Platform, r.Status, r.Digest, rs[i].Digest)
		}
	}
}

// hasFile reports whether any layer of img holds path (without a leading /).
func hasFile(t *testing.T, img v1.Image, path string) bool {
	t.Helper()
	found := false
	eachFile(t, img, func(name string, _ io.Reader) {
		if strings.TrimPrefix(name, "./") == path {
			found = true
		}
	})
	return found
}

func eachFile(t *testing.T, img v1.Image, fn func(name string, r io.Reader)) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			fn(h.Name, tr)
		}
		rc.Close()
	}
}

// TestReproducible builds the same inputs twice without any cache and
// expects the same digest.
func TestReproducible(t *testing.T) {
	e := setup(t)
	c, tm := load(t, "")
	js := jobs(t, c, tm, catalog.Selector{Runtimes: []string{"provided.al2"}, Variants: []string{"debian"}, Arches: []catalog.Arch{catalog.X86_64}})
	var digests []string
	st, _ := store.Open(t.TempDir())
	for i := 0; i < 2; i++ {
		// The same store both times: --no-cache must rebuild a stored,
		// unchanged target (it used to report it unchanged).
		opts := options(t, e, c)
		opts.NoCache = true
		rs := mustBuild(t, build.New(e.conn, st, opts), js)
		if rs[0].Status != build.Built {
			t.Errorf("build %d with NoCache: %s, want built", i+1, rs[0].Status)
		}
		// The second export takes every blob from the store (the same
		// image): BuildKit sends none of them.
		switch x := rs[0].Export; {
		case x == nil:
			t.Errorf("build %d reports no export", i+1)
		case i == 0 && x.ReceivedBytes == 0:
			t.Errorf("the first build received nothing from BuildKit: %+v", x)
		case i == 1 && (x.ReceivedBytes != 0 || x.LocalBlobs == 0):
			t.Errorf("the second build's export: %+v; want every blob from the store, nothing received", x)
		}
		digests = append(digests, rs[0].Digest)
	}
	if digests[0] != digests[1] {
		t.Errorf("same inputs, different digests: %v", digests)
	}
}

// TestFailuresAreIsolated builds a good target next to a broken one and a
// target whose base has the wrong platform.
func TestFailuresAreIsolated(t *testing.T) {
	e := setup(t)
	testenv.Push(t, e.host+"/test/amd64-only:1", map[string]v1.Image{"amd64": busybox.Image(t, "amd64")})
	c, tm := load(t, `
extends: builtin
runtimes:
  - id: provided.al2
    variants:
      broken:
        os: debian
        base: docker.io/library/debian:bookworm-slim
        packages: [lambdaimg-no-such-package]
      wrongplatform:
        os: debian
        base: docker.io/test/amd64-only:1
        architectures: [arm64]
`)
	st, _ := store.Open(t.TempDir())
	js := jobs(t, c, tm, catalog.Selector{Runtimes: []string{"provided.al2"}, Variants: []string{"debian", "broken", "wrongplatform"}, Arches: []catalog.Arch{catalog.ARM64}})
	rs, err := build.New(e.conn, st, options(t, e, c)).Build(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]build.Result{}
	for _, r := range rs {
		got[r.Variant] = r
	}
	if r := got["debian"]; r.Status != build.Built {
		t.Errorf("the good target: %s %s", r.Status, r.Reason)
	}
	if r := got["broken"]; r.Status != build.Failed || !strings.Contains(strings.Join(r.FailedLines, "\n"), "lambdaimg-no-such-package") {
		t.Errorf("the broken target: %s %q, failed lines:\n%s", r.Status, r.Reason, strings.Join(r.FailedLines, "\n"))
	}
	if r := got["wrongplatform"]; r.Status != build.Failed || !strings.Contains(r.Reason, "is linux/amd64, not linux/arm64") {
		t.Errorf("the wrong-platform target: %s %q", r.Status, r.Reason)
	}
	if _, ok, _ := st.Get(store.Ref{Runtime: "provided.al2", Variant: "broken", Arch: "arm64"}); ok {
		t.Error("a failed target is in the store")
	}
}

// TestUnreachableBuildKit fails fast with a message that says what to do.
func TestUnreachableBuildKit(t *testing.T) {
	for _, addr := range []string{"tcp://127.0.0.1:1", "unix:///nonexistent/buildkitd.sock"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := buildkit.Connect(ctx, buildkit.Options{Addr: addr})
		cancel()
		if !errors.Is(err, buildkit.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) ||
			!strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "--addr") {
			t.Errorf("%s: %v", addr, err)
		}
	}
}

// TestNodeOnDebian builds nodejs18.x on Debian: Debian's own nodejs, with
// aws-lambda-ric from the npm registry compiled by node-gyp against the OS's
// headers, trusting the host's CA bundle through a secret that must end up
// in no layer. A handler then answers an invocation through the emulator.
func TestNodeOnDebian(t *testing.T) {
	e := setup(t)
	c, tm := load(t, "")
	st, _ := store.Open(t.TempDir())
	opts := options(t, e, c)
	opts.CABundle = "/etc/ssl/certs/ca-certificates.crt"
	ca, err := os.ReadFile(opts.CABundle)
	if err != nil {
		testenv.Unavailable(t, "no host CA bundle: %v", err)
	}
	js := jobs(t, c, tm, catalog.Selector{Runtimes: []string{"nodejs18.x"}, Variants: []string{"debian"}, Arches: []catalog.Arch{catalog.X86_64}})
	mustBuild(t, build.New(e.conn, st, opts), js)
	_, img := storedImage(t, st, store.Ref{Runtime: "nodejs18.x", Variant: "debian", Arch: "x86_64"})

	// The CA bundle is in no layer, neither as a file nor as content.
	lines := strings.Split(strings.TrimSpace(string(ca)), "\n")
	marker := []byte(lines[len(lines)-2]) // a base64 line of the last certificate
	compilers := 0
	eachFile(t, img, func(name string, r io.Reader) {
		if strings.Contains(name, "run/secrets") {
			t.Errorf("layer holds %s", name)
		}
		if strings.HasSuffix(name, "bin/g++") || strings.HasSuffix(name, "bin/cmake") {
			compilers++
		}
		data, _ := io.ReadAll(io.LimitReader(r, 64<<20))
		if bytes.Contains(data, marker) && !strings.HasPrefix(name, "etc/ssl/") && !strings.HasPrefix(name, "usr/share/ca-certificates") {
			t.Errorf("layer file %s holds the CA bundle's content", name)
		}
	})
	if compilers > 0 {
		t.Errorf("the final image holds %d compiler binaries; they belong in the build stage", compilers)
	}
	if !hasFile(t, img, "var/runtime/node_modules/aws-lambda-ric/package.json") {
		t.Error("aws-lambda-ric is not in /var/runtime")
	}

	ref := publish(t, e, img, "built/nodejs:18-debian")
	handler, err := os.ReadFile(filepath.Join(testenv.Root(t), "testdata", "functions", "node-hello", "index.js"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := testenv.Check(t, e.conn, fmt.Sprintf(invokeCheck, "index.js /var/task/index.js", "index.handler",
		`'{"name":"node"}' '"greeting":"hello node"' '"handler":"index.handler"' '"node":"v18.'`),
		map[string][]byte{"index.js": handler, "invoke": buildFunction(t, "invoke", "amd64")},
		map[string]string{"platform": "linux/amd64", "build-arg:IMAGE": ref})
	if err != nil {
		t.Fatalf("invocation failed: %v\n%s", err, out)
	}
}

// TestOutputsAndCache exports each image as an OCI tarball and a root
// filesystem tarball next to the store, and passes a local cache export and
// import through to BuildKit.
func TestOutputsAndCache(t *testing.T) {
	e := setup(t)
	c, tm := load(t, "")
	st, _ := store.Open(t.TempDir())
	out := t.TempDir()
	cache := filepath.Join(t.TempDir(), "cache")
	opts := options(t, e, c)
	opts.Exports = []build.Export{{Type: "oci", Dest: filepath.Join(out, "oci")}, {Type: "tar", Dest: filepath.Join(out, "rootfs")}}
	opts.CacheExports = []client.CacheOptionsEntry{{Type: "local", Attrs: map[string]string{"dest": cache}}}
	js := jobs(t, c, tm, catalog.Selector{Runtimes: []string{"provided.al2023"}, Variants: []string{"debian"}})
	rs := mustBuild(t, build.New(e.conn, st, opts), js)
	for _, r := range rs {
		arch := map[string]string{"linux/amd64": "x86_64", "linux/arm64": "arm64"}[r.Platform]
		names := tarNames(t, filepath.Join(out, "oci", "provided.al2023-debian-"+arch+".tar"))
		if !names["index.json"] || !names["oci-layout"] || !names["blobs/sha256/"+strings.TrimPrefix(r.Digest, "sha256:")] {
			t.Errorf("%s: the OCI tarball lacks the layout or the image %s", r.Platform, r.Digest)
		}
		if fs := tarNames(t, filepath.Join(out, "rootfs", "provided.al2023-debian-"+arch+".tar")); !fs["lambda-entrypoint.sh"] || !fs["usr/local/bin/aws-lambda-rie"] {
			t.Errorf("%s: the root filesystem tarball lacks the entry point or the emulator", r.Platform)
		}
	}
	if _, err := os.Stat(filepath.Join(cache, "index.json")); err != nil {
		t.Errorf("no local cache was exported: %v", err)
	}
	// The exported cache imports again. A cache BuildKit cannot read only
	// warns, so the test reads the progress: the import must be there and
	// must not have failed.
	var progress bytes.Buffer
	opts.Exports, opts.CacheExports, opts.Pull = nil, nil, true
	opts.Progress, opts.ProgressOut = "plain", &progress
	opts.CacheImports = []client.CacheOptionsEntry{{Type: "local", Attrs: map[string]string{"src": cache}}}
	mustBuild(t, build.New(e.conn, st, opts), js)
	log := progress.String()
	if !strings.Contains(log, "importing cache manifest from local:") {
		t.Errorf("the build did not import the local cache; progress:\n%s", log)
	}
	if strings.Contains(log, "failed to import") || strings.Contains(log, "error: failed to read") {
		t.Errorf("the cache import failed; progress:\n%s", log)
	}
}

func tarNames(t *testing.T, p string) map[string]bool {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	defer f.Close()
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names[strings.TrimPrefix(h.Name, "./")] = true
	}
}
