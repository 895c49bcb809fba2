package e2e

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambdaimg/lambdaimg"
	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/cli"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/smoke"
	"github.com/lambdaimg/lambdaimg/pkg/support"
)

// group is one `lambdaimg test` invocation: its cells share BuildKit stages.
type group struct {
	name     string
	runtimes []string
	platform string
	java     bool // the compiled Java sample is passed with --handler
	// timeout is the function timeout (--timeout). The emulator counts a
	// start's init in its first invocation, and with builds running on 2
	// cores Python's init alone took over the sample's default 2 seconds
	// (6 here); emulated arm64 takes longer still (10).
	timeout int
}

// groups are the cells of pkg/support's invoked list that this package
// runs (pkg/build and pkg/cli run provided), one lambdaimg test invocation
// per platform, Java apart (its sample is compiled and passed with
// --handler). The README's matrix is written from that list, so a cell
// added there is built and invoked here.
func groups(t *testing.T, c *catalog.Catalog) []group {
	t.Helper()
	var out []group
	index := map[string]int{}
	for _, cell := range support.Invoked() {
		r, ok := c.Runtime(cell.Runtime)
		if !ok {
			t.Fatalf("pkg/support lists %s, which the catalog does not have", cell.Runtime)
		}
		if r.Language == catalog.Provided {
			continue
		}
		if cell.Variant != "debian" {
			t.Fatalf("pkg/support lists %s/%s: the stand-in bases here are Debian only", cell.Runtime, cell.Variant)
		}
		g := group{platform: "linux/" + cell.Arch.GoArch(), java: r.Language == catalog.Java, timeout: 6}
		if cell.Arch == catalog.ARM64 {
			g.timeout = 10 // qemu
		}
		key := g.platform + strconv.FormatBool(g.java)
		i, ok := index[key]
		if !ok {
			i, index[key] = len(out), len(out)
			out = append(out, g)
		}
		out[i].runtimes = append(out[i].runtimes, cell.Runtime)
		if !strings.Contains(out[i].name, string(r.Language)) {
			out[i].name += string(r.Language) + "-"
		}
	}
	for i := range out {
		out[i].name += out[i].platform[len("linux/"):]
	}
	return out
}

// TestRuntimesDebian builds and invokes Python, Node.js and Java on Debian
// with every behaviour check of their sample functions, the sample layer
// laid under /opt.
func TestRuntimesDebian(t *testing.T) {
	start := time.Now()
	testenv.BuildKit(t)
	rie := testenv.RIEDir(t)
	helper := testenv.Helper(t)
	c, tm := loadCatalog(t)

	samples := buildSamples(t)
	caBundle, caNeedle := testBundle(t)

	t.Cleanup(func() { t.Logf("TestRuntimesDebian took %s", time.Since(start).Round(time.Second)) })
	for _, g := range groups(t, c) {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			// Each group serves what its targets pull, so that one group
			// runs (-run TestRuntimesDebian/<group>) with its bases only.
			pulls := map[string][]catalog.Arch{}
			for _, tg := range targets(t, c, g) {
				ctx, err := tm.Render(&tg, render.Options{CA: true, Extensions: true})
				if err != nil {
					t.Fatal(err)
				}
				testenv.Pulls(pulls, &tg, dockerfile(t, ctx))
			}
			// A registry per group: groups push other architectures under
			// the same names, and a later push would replace an earlier
			// group's image while that group still pulls it (its --no-cache
			// rebuild found an arm64-only base in a shared one).
			bases := testenv.Registry(t)
			testenv.PushStandIns(t, bases, pulls)
			storeDir := t.TempDir()
			// What shapes the images; checkRebuild builds with the same.
			buildFlags := []string{"--os", "debian", "--platform", g.platform,
				"--registry-mirror", "docker.io=" + bases, "--rie", rie, "--ca-bundle", caBundle,
				"--progress", "plain", "--extension", filepath.Join(samples, "layer")}
			if addr := os.Getenv("LAMBDAIMG_TEST_BUILDKIT"); addr != "" {
				buildFlags = append(buildFlags, "--addr", addr)
			}
			// The sample layer carries libraries only; a real extension
			// (the one pkg/build tests) goes with it, so that both kinds of
			// /opt content are in every image.
			ext := filepath.Join(t.TempDir(), "go-ext")
			testenv.GoBuild(t, filepath.Join(testenv.Root(t), "testdata", "extensions", "go-ext"), g.platform[len("linux/"):], ext)
			buildFlags = append(buildFlags, "--extension", ext)
			args := append([]string{"test", "--store", storeDir, "--helper", helper, "-o", "json"}, buildFlags...)
			for _, r := range g.runtimes {
				args = append(args, "--runtime", r)
			}
			if g.java {
				args = append(args, "--handler", filepath.Join(samples, "java"))
			}
			if g.timeout > 0 {
				args = append(args, "--timeout", strconv.Itoa(g.timeout))
			}
			began := time.Now()
			out, errOut, err := run(t, args)
			took := time.Since(began).Round(time.Second)
			t.Logf("lambdaimg %s: %s", strings.Join(args, " "), took)
			for _, b := range buildTimes(out) {
				t.Logf("  %s", b)
			}
			if err != nil {
				t.Errorf("lambdaimg test: %v (exit code non-zero)", err)
			}
			scanLeftovers(t, storeDir, caNeedle)
			got := reportedChecks(out)
			for _, tg := range targets(t, c, g) {
				cell := tg.Name() + " " + g.platform
				want := expectedChecks(&tg)
				have := got[cell]
				if have == nil {
					t.Errorf("%s: no test report", cell)
					continue
				}
				for _, name := range want {
					ok, found := have[name]
					switch {
					case !found:
						t.Errorf("%s: check %q was not reported", cell, name)
					case !ok.ok:
						t.Errorf("%s: check %q failed: %s", cell, name, ok.detail)
					}
				}
				for name, v := range have {
					if !v.ok && !contains(want, name) {
						t.Errorf("%s: unexpected failed check %q: %s", cell, name, v.detail)
					}
				}
				t.Logf("%s: %d checks reported, %d expected", cell, len(have), len(want))
			}
			if t.Failed() {
				t.Logf("stdout:\n%s\nstderr (last 200 lines):\n%s", out, tail(errOut, 200))
				return
			}
			// The images this run built are the first build of the
			// reproducibility check: one Python and one Node.js target are
			// built again without any cache and must come out the same.
			if g.platform == "linux/amd64" && !g.java {
				began := time.Now()
				checkRebuild(t, storeDir, buildFlags)
				t.Logf("the reproducibility check took %s", time.Since(began).Round(time.Second))
			}
		})
	}
}

func loadCatalog(t *testing.T) (*catalog.Catalog, *render.Templates) {
	t.Helper()
	c, err := catalog.Parse(lambdaimg.CatalogName, lambdaimg.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(lambdaimg.Templates, "templates")
	if err != nil {
		t.Fatal(err)
	}
	tm, err := render.Load(sub)
	if err != nil {
		t.Fatal(err)
	}
	return c, tm
}

func targets(t *testing.T, c *catalog.Catalog, g group) []catalog.Target {
	t.Helper()
	p, err := catalog.ParsePlatform(g.platform)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.Targets(catalog.Selector{Runtimes: g.runtimes, Variants: []string{"debian"}, Arches: []catalog.Arch{p}})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func dockerfile(t *testing.T, ctx *render.Context) []byte {
	t.Helper()
	for _, f := range ctx.Files {
		if f.Path == "Dockerfile" {
			return f.Data
		}
	}
	t.Fatalf("%s: the rendered context has no Dockerfile", ctx.Target.Name())
	return nil
}

// expectedChecks are the checks lambdaimg test must report for a target
// with the sample function, a 2-second timeout and the sample layer.
func expectedChecks(tg *catalog.Target) []string {
	want := []string{"entrypoint contract"}
	for _, r := range smoke.SamplePlan(smoke.SampleTarget{Language: string(tg.Runtime.Language), Runtime: tg.Runtime.ID,
		Version: tg.Runtime.Version, RIC: tg.Spec.RIC, Handler: tg.Handler, Timeout: 2, Layer: true}) {
		for _, e := range r.Events {
			want = append(want, e.Name)
		}
	}
	return want
}

// buildSamples runs scripts/build-samples.sh once: the compiled Java sample
// and the sample layer.
func buildSamples(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"javac", "jar", "mvn"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Unavailable(t, "no %s for the Java sample", tool)
		}
	}
	out := t.TempDir()
	cmd := exec.Command(filepath.Join(testenv.Root(t), "scripts", "build-samples.sh"), out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/build-samples.sh: %v\n%s", err, b)
	}
	return out
}

func run(t *testing.T, args []string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := cli.New(cli.Env{})
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
