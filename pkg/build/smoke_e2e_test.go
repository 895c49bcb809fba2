package build_test

import (
	"context"
	"fmt"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/extension"
	"github.com/lambdaimg/lambdaimg/pkg/smoke"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// job is what a test's smoke plan depends on: the target and arch.
type job struct {
	Target *catalog.Target
	Arch   catalog.Arch
}

// gateFunc makes a function a build.Gate.
type gateFunc func(ctx context.Context, dir string, desc v1.Descriptor, t *catalog.Target) (any, error)

func (gateFunc) Name() string { return "smoke" }
func (g gateFunc) Check(ctx context.Context, dir string, desc v1.Descriptor, t *catalog.Target) (any, error) {
	return g(ctx, dir, desc, t)
}

var _ build.Gate = gateFunc(nil)

// smokeGate runs the smoke test that plan gives for each image.
func smokeGate(t *testing.T, e env, plan func(j job) smoke.Options, onReport func(j job, rep *smoke.Report)) build.Gate {
	helper := testenv.Helper(t)
	return gateFunc(func(ctx context.Context, dir string, desc v1.Descriptor, tg *catalog.Target) (any, error) {
		j := job{Target: tg, Arch: catalog.X86_64}
		if desc.Platform.Architecture == "arm64" {
			j.Arch = catalog.ARM64
		}
		cf, err := layoutConfig(dir, desc)
		if err != nil {
			return nil, err
		}
		o := plan(j)
		o.Helper = helper
		rep, err := smoke.Run(ctx, e.conn, dir, desc, cf, o)
		if err != nil {
			return rep, err
		}
		if onReport != nil {
			onReport(j, rep)
		}
		for _, c := range rep.Checks {
			t.Logf("%s %s: %v %s", tg.Name(), c.Name, c.OK, c.Detail)
		}
		if rep.Failed() {
			t.Logf("%s log:\n%s", tg.Name(), rep.Log)
		}
		if err := rep.Err(); err != nil {
			return rep, fmt.Errorf("smoke test: %w", err) // as smoke.Gate says it
		}
		return rep, nil
	})
}

func layoutConfig(dir string, desc v1.Descriptor) (v1.Config, error) {
	img, err := layout.Path(dir).Image(desc.Digest)
	if err != nil {
		return v1.Config{}, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return v1.Config{}, err
	}
	return cf.Config, nil
}

// smokeRun builds the selected images with a gate that runs the smoke
// test on each before it is stored, and returns the results and reports.
func smokeRun(t *testing.T, sel catalog.Selector, overlay string, plan func(j job) smoke.Options, extDir string) ([]build.Result, map[string]*smoke.Report) {
	t.Helper()
	e := setup(t)
	c, tm := load(t, overlay)
	st, _ := store.Open(t.TempDir())
	opts := options(t, e, c)
	opts.CABundle = "/etc/ssl/certs/ca-certificates.crt"
	var mu sync.Mutex
	reports := map[string]*smoke.Report{}
	opts.Gates = []build.Gate{smokeGate(t, e, plan, func(j job, rep *smoke.Report) {
		mu.Lock()
		reports[j.Target.Variant+"/"+string(j.Arch)] = rep
		mu.Unlock()
	})}
	js := jobsWith(t, c, tm, sel, extDir)
	rs, err := build.New(e.conn, st, opts).Build(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	return rs, reports
}

var allChecks = []string{"entrypoint contract", "response and environment", "writes outside /tmp fail", "error shape", "function timeout"}

func checkNames(rep *smoke.Report) []string {
	var out []string
	for _, c := range rep.Checks {
		if c.OK {
			out = append(out, c.Name)
		}
	}
	return out
}

// TestSmokeProvidedGo runs every check on provided.al2023 on Debian with a
// Go function built with aws-lambda-go, on x86_64 and on arm64 (qemu).
func TestSmokeProvidedGo(t *testing.T) {
	fn := map[catalog.Arch]string{}
	for _, a := range []catalog.Arch{catalog.X86_64, catalog.ARM64} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "bootstrap"), buildFunction(t, "go-hello", a.GoArch()), 0o755); err != nil {
			t.Fatal(err)
		}
		fn[a] = dir
	}
	rs, reports := smokeRun(t, catalog.Selector{Runtimes: []string{"provided.al2023"}, Variants: []string{"debian"}}, "", func(j job) smoke.Options {
		return smoke.Options{FunctionDir: fn[j.Arch], Handler: "function.handler", Timeout: 2, Contract: true,
			Events: smoke.SampleEvents("function.handler", 2)}
	}, "")
	for _, r := range rs {
		if !r.OK() {
			t.Errorf("%s %s: %s %s", r.Target, r.Platform, r.Status, r.Reason)
		}
	}
	for _, a := range []catalog.Arch{catalog.X86_64, catalog.ARM64} {
		rep := reports["debian/"+string(a)]
		if rep == nil {
			t.Fatalf("%s: no smoke report", a)
		}
		if got := checkNames(rep); len(got) != len(allChecks) {
			t.Errorf("%s passed %v, want all of %v", a, got, allChecks)
		}
		if !strings.Contains(string(rep.Responses[0].Body), `"arch":"`+a.GoArch()+`"`) {
			t.Errorf("%s: the function ran as %s", a, rep.Responses[0].Body)
		}
	}
}

// TestSmokeNodeDebian runs every check on nodejs18.x on Debian with the
// sample Node.js function and aws-lambda-ric.
func TestSmokeNodeDebian(t *testing.T) {
	sample := filepath.Join(testenv.Root(t), "samples", "nodejs")
	rs, reports := smokeRun(t, catalog.Selector{Runtimes: []string{"nodejs18.x"}, Variants: []string{"debian"}, Arches: []catalog.Arch{catalog.X86_64}}, "",
		func(j job) smoke.Options {
			return smoke.Options{FunctionDir: sample, Handler: "index.handler", Timeout: 2, Contract: true, Events: smoke.SampleEvents("index.handler", 2)}
		}, "")
	if !rs[0].OK() {
		t.Fatalf("%s: %s", rs[0].Status, rs[0].Reason)
	}
	if got := checkNames(reports["debian/x86_64"]); len(got) != len(allChecks) {
		t.Errorf("passed %v, want all of %v", got, allChecks)
	}
}

// TestSmokeBroken checks that broken images fail with a message naming the
// cause, and are not stored.
func TestSmokeBroken(t *testing.T) {
	writer := t.TempDir()
	os.WriteFile(filepath.Join(writer, "index.js"), []byte(`const fs = require("fs");
exports.handler = async () => { fs.writeFileSync("/var/task/cache.json", "{}"); return "cached"; };
`), 0o644)
	node := filepath.Join(testenv.Root(t), "samples", "nodejs")
	cases := []struct {
		name    string
		runtime string
		opts    smoke.Options
		want    []string // fragments of the failure
	}{
		{"wrong handler", "nodejs18.x", smoke.Options{FunctionDir: node, Handler: "nope.handler",
			Events: []smoke.Event{{Name: "invoke", Payload: []byte(`{"name":"x"}`), Expect: []byte(`{"greeting":"hello x"}`)}}},
			[]string{"invoke: ", "nope"}},
		{"missing bootstrap", "provided.al2023", smoke.Options{Handler: "function.handler",
			Events: []smoke.Event{{Name: "invoke", Payload: []byte(`{}`), Expect: []byte(`{"greeting":"*"}`)}}},
			[]string{"no bootstrap: put the function's executable at /var/task/bootstrap"}},
		{"writes outside /tmp", "nodejs18.x", smoke.Options{FunctionDir: writer, Handler: "index.handler",
			Events: []smoke.Event{{Name: "invoke", Payload: []byte(`{}`), Expect: []byte(`"cached"`)}}},
			[]string{"/var/task/cache.json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, _ := smokeRun(t, catalog.Selector{Runtimes: []string{tc.runtime}, Variants: []string{"debian"}, Arches: []catalog.Arch{catalog.X86_64}}, "",
				func(job) smoke.Options { return tc.opts }, "")
			r := rs[0]
			if r.Status != build.Failed || !strings.HasPrefix(r.Reason, "smoke test: ") {
				t.Fatalf("%s: %s %q, want a failed smoke test", tc.name, r.Status, r.Reason)
			}
			for _, frag := range tc.want {
				if !strings.Contains(r.Reason, frag) {
					t.Errorf("the failure %q does not name the cause (%q)", r.Reason, frag)
				}
			}
			if r.Store == "" {
				t.Error("no store ref in the result")
			}
		})
	}
}

// TestExtension adds an extension written against the Extensions API and
// checks that the emulator started it, that it saw the invocation, and that
// the function still answered.
func TestExtension(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "go-ext")
	if err := os.WriteFile(bin, buildFunction(t, "../extensions/go-ext", "amd64"), 0o755); err != nil {
		t.Fatal(err)
	}
	extDir := filepath.Join(t.TempDir(), "opt")
	if err := extension.Layout(context.Background(), extDir, []string{bin}, extension.Limits{}); err != nil {
		t.Fatal(err)
	}
	fn := t.TempDir()
	os.WriteFile(filepath.Join(fn, "bootstrap"), buildFunction(t, "go-hello", "amd64"), 0o755)
	rs, reports := smokeRun(t, catalog.Selector{Runtimes: []string{"provided.al2023"}, Variants: []string{"debian"}, Arches: []catalog.Arch{catalog.X86_64}}, "",
		func(job) smoke.Options {
			return smoke.Options{FunctionDir: fn, Handler: "function.handler",
				Events: []smoke.Event{{Name: "invoke", Payload: []byte(`{"name":"ext"}`), Expect: []byte(`{"greeting":"hello ext"}`)}}}
		}, extDir)
	if !rs[0].OK() {
		t.Fatalf("%s: %s", rs[0].Status, rs[0].Reason)
	}
	rep := reports["debian/x86_64"]
	for _, want := range []string{"go-ext: registered as go-ext", "go-ext: saw INVOKE"} {
		if !strings.Contains(rep.Log, want) {
			t.Errorf("the log lacks %q:\n%s", want, rep.Log)
		}
	}
}

// TestFailedTestRemovesStoredImage: an image already in the store that
// fails the smoke test is taken out, so that a later push cannot publish
// it; one that passes is marked as tested.
func TestFailedTestRemovesStoredImage(t *testing.T) {
	e := setup(t)
	c, tm := load(t, "")
	st, _ := store.Open(t.TempDir())
	js := jobs(t, c, tm, catalog.Selector{Runtimes: []string{"provided.al2023"}, Variants: []string{"debian"}, Arches: []catalog.Arch{catalog.X86_64}})
	opts := options(t, e, c)
	fn := t.TempDir()
	os.WriteFile(filepath.Join(fn, "bootstrap"), buildFunction(t, "go-hello", "amd64"), 0o755)
	withFunction := fn
	opts.Gates, opts.Tested = []build.Gate{smokeGate(t, e, func(job) smoke.Options {
		return smoke.Options{FunctionDir: withFunction, Handler: "function.handler",
			Events: []smoke.Event{{Name: "invoke", Payload: []byte(`{"name":"x"}`), Expect: []byte(`{"greeting":"hello x"}`)}}}
	}, nil)}, true
	ref := store.Ref{Runtime: "provided.al2023", Variant: "debian", Arch: "x86_64"}
	mustBuild(t, build.New(e.conn, st, opts), js)
	if e, ok, _ := st.Get(ref); !ok || e.Descriptor.Annotations[store.AnnTested] != "passed" {
		t.Fatalf("a tested image is not marked: %v %+v", ok, e.Descriptor.Annotations)
	}
	withFunction = "" // now the image has no bootstrap: the test fails
	rs, err := build.New(e.conn, st, opts).Build(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Status != build.Failed || !strings.Contains(rs[0].Reason, "removed from the store") {
		t.Fatalf("%s %q, want a failure that removed the image", rs[0].Status, rs[0].Reason)
	}
	if _, ok, _ := st.Get(ref); ok {
		t.Error("the image that failed its test is still in the store")
	}

	// With the user's own function, a failure is the function's, not the
	// image's: the stored image stays.
	withFunction = fn
	mustBuild(t, build.New(e.conn, st, opts), js)
	opts.KeepStored = true
	withFunction = t.TempDir() // a function directory without the handler
	rs, err = build.New(e.conn, st, opts).Build(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Status != build.Failed || strings.Contains(rs[0].Reason, "removed from the store") {
		t.Fatalf("%s %q, want a failure that kept the image", rs[0].Status, rs[0].Reason)
	}
	if _, ok, _ := st.Get(ref); !ok {
		t.Error("a good stored image was removed because the user's function failed")
	}
}
