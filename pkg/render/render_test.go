package render_test

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const goldenDir = "testdata/golden"

// builtin loads the embedded catalog and templates, as the binary does.
func builtin(t testing.TB) (*catalog.Catalog, *render.Templates) {
	t.Helper()
	sub, err := fs.Sub(lambdaimg.Templates, "templates")
	if err != nil {
		t.Fatal(err)
	}
	tm, err := render.Load(sub)
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Parse(lambdaimg.CatalogName, lambdaimg.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	if err := catalog.Validate(c, tm); err != nil {
		t.Fatal(err)
	}
	return c, tm
}

func allTargets(t testing.TB, c *catalog.Catalog) []catalog.Target {
	t.Helper()
	ts, err := c.Targets(catalog.Selector{All: true})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// optionCases are the golden contexts rendered with options, in
// testdata/golden/<runtime>/<variant>+<option>...
var optionCases = []struct {
	runtime, variant string
	opts             render.Options
}{
	{"python3.12", "debian", render.Options{CA: true, Extensions: true}},
	{"java17", "debian", render.Options{CA: true}},
	{"nodejs22.x", "aws", render.Options{CA: true, Extensions: true}},
}

func optionSuffix(o render.Options) string {
	s := ""
	if o.CA {
		s += "+ca"
	}
	if o.Extensions {
		s += "+extensions"
	}
	return s
}

// TestGolden renders every target of the embedded catalog, and a few with
// options, and compares them with testdata/golden/<runtime>/<variant>/.
// Regenerate with `make golden`.
func TestGolden(t *testing.T) {
	c, tm := builtin(t)
	seen := map[string]bool{}
	golden := func(tg *catalog.Target, o render.Options) {
		ctx, err := tm.Render(tg, o)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(goldenDir, tg.Runtime.ID, tg.Variant+optionSuffix(o))
		seen[dir] = true
		if *update {
			if err := ctx.Write(dir); err != nil {
				t.Fatal(err)
			}
			return
		}
		for _, f := range ctx.Files {
			want, err := os.ReadFile(filepath.Join(dir, f.Path))
			if err != nil {
				t.Errorf("%s: %v (run `make golden` after changing templates or the catalog)", tg.Name(), err)
				continue
			}
			if diff := cmp.Diff(string(want), string(f.Data)); diff != "" {
				t.Errorf("%s/%s differs from the golden file (-golden +rendered):\n%s", dir, f.Path, diff)
			}
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != len(ctx.Files) {
			t.Errorf("%s: golden dir has %d files, rendered %d", dir, len(entries), len(ctx.Files))
		}
	}
	ts := allTargets(t, c)
	for i := range ts {
		golden(&ts[i], render.Options{})
	}
	for _, oc := range optionCases {
		sel, err := c.Targets(catalog.Selector{Runtimes: []string{oc.runtime}, Variants: []string{oc.variant}})
		if err != nil {
			t.Fatal(err)
		}
		golden(&sel[0], oc.opts)
	}
	// No golden context may outlive its target.
	runtimes, _ := os.ReadDir(goldenDir)
	for _, r := range runtimes {
		variants, _ := os.ReadDir(filepath.Join(goldenDir, r.Name()))
		for _, v := range variants {
			if dir := filepath.Join(goldenDir, r.Name(), v.Name()); !seen[dir] {
				if *update {
					os.RemoveAll(dir)
				} else {
					t.Errorf("%s has no target any more (run `make golden`)", dir)
				}
			}
		}
	}
}

// allOptions are the option sets every target is checked with.
var allOptions = []render.Options{{}, {CA: true}, {Extensions: true}, {CA: true, Extensions: true}}

// TestDockerfilesParse runs every rendered Dockerfile through BuildKit's
// parser, instruction parser and linter, and checks the shape lambdaimg
// relies on.
func TestDockerfilesParse(t *testing.T) {
	c, tm := builtin(t)
	for _, tg := range allTargets(t, c) {
		for _, o := range allOptions {
			t.Run(tg.Name()+optionSuffix(o), func(t *testing.T) {
				ctx, err := tm.Render(&tg, o)
				if err != nil {
					t.Fatal(err)
				}
				df := fileData(t, ctx, "Dockerfile")
				checkDockerfile(t, df, tg.WithRIE())
				checkOptions(t, df, o)
				checkFiles(t, ctx, df, tg.Spec.OS)
			})
		}
	}
}

// checkFiles checks that the Dockerfile installs the context's scripts.
func checkFiles(t *testing.T, ctx *render.Context, df []byte, os catalog.OS) {
	t.Helper()
	if os != catalog.AWS {
		for _, f := range []string{"lambda-entrypoint.sh", "bootstrap"} {
			if fileData(t, ctx, f); !strings.Contains(string(df), "COPY --chmod=0755 "+f) {
				t.Errorf("Dockerfile does not install %s", f)
			}
		}
	}
}

// maxLine is the longest line a generated Dockerfile may have.
const maxLine = 160

// checkOptions checks line lengths and what each option adds: without CA
// one short line about it and no secret; with CA, the secret mounted by
// every step that downloads and declared in every stage that has one; the
// extensions context copied into the final stage with Extensions only.
func checkOptions(t *testing.T, df []byte, o render.Options) {
	t.Helper()
	text := string(df)
	for i, l := range strings.Split(text, "\n") {
		if len(l) > maxLine {
			t.Errorf("line %d is %d characters long, over %d: %s", i+1, len(l), maxLine, l)
		}
	}
	if got := strings.Count(text, "ca-bundle"); !o.CA && got != 1 {
		t.Errorf("without CA, %d lines mention the CA bundle, want 1", got)
	}
	mounts := strings.Count(text, "--mount=type=secret,id=ca,mode=0444")
	if !o.CA && (mounts > 0 || strings.Contains(text, "/run/secrets")) {
		t.Errorf("without CA, the Dockerfile uses the secret")
	}
	if o.CA {
		runs := strings.Count(text, "\nRUN ")
		if mounts != runs {
			t.Errorf("with CA, %d of %d RUN steps mount the secret", mounts, runs)
		}
		for _, stage := range strings.Split(text, "\nFROM ")[1:] {
			if strings.Contains(stage, "\nRUN ") != strings.Contains(stage, "\nARG SSL_CERT_FILE=/run/secrets/ca") {
				t.Errorf("stage %q: steps that download and the CA declaration do not go together", strings.SplitN(stage, "\n", 2)[0])
			}
		}
	}
	if got := strings.Count(text, "COPY --from=extensions / /opt/"); o.Extensions != (got == 1) || got > 1 {
		t.Errorf("Extensions %v: the extensions context is copied %d times", o.Extensions, got)
	}
}


func fileData(t *testing.T, ctx *render.Context, name string) []byte {
	t.Helper()
	for _, f := range ctx.Files {
		if f.Path == name {
			return f.Data
		}
	}
	t.Fatalf("context has no %s", name)
	return nil
}

func checkDockerfile(t *testing.T, df []byte, withRIE bool) {
	t.Helper()
	res, err := parser.Parse(bytes.NewReader(df))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("parser warning: %s", w.Short)
	}
	var lints []string
	lint := linter.New(&linter.Config{Warn: func(rule, desc, url, msg string, loc []parser.Range) {
		lints = append(lints, fmt.Sprintf("%s: %s (line %d)", rule, msg, loc[0].Start.Line))
	}})
	stages, metaArgs, err := instructions.Parse(res.AST, lint)
	if err != nil {
		t.Fatalf("instructions: %v", err)
	}
	for _, l := range lints {
		t.Errorf("lint: %s", l)
	}
	if len(stages) == 0 || stages[len(stages)-1].Name != "image" {
		t.Fatalf("the last stage must be named image")
	}
	names := map[string]bool{}
	for _, s := range stages {
		// Every pulled image goes through a global *_IMAGE argument, so
		// registry mirrors can redirect it.
		if b := s.BaseName; b != "scratch" && !names[b] && !strings.HasPrefix(b, "rie-${") &&
			!(strings.HasPrefix(b, "${") && strings.HasSuffix(b, "_IMAGE}")) {
			t.Errorf("stage %q is FROM %q: use a global ARG ending in _IMAGE", s.Name, b)
		}
		names[s.Name] = true
	}
	var args []string
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			args = append(args, kv.Key)
		}
	}
	if !contains(args, "BASE_IMAGE") {
		t.Errorf("no global BASE_IMAGE argument: %v", args)
	}
	final := stages[len(stages)-1]
	var entry, workdir string
	env := map[string]string{}
	for _, cmd := range final.Commands {
		switch c := cmd.(type) {
		case *instructions.EntrypointCommand:
			entry = strings.Join(c.CmdLine, " ")
		case *instructions.WorkdirCommand:
			workdir = c.Path
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = kv.Value
			}
		}
	}
	if names["build"] || withRIE { // custom images keep AWS's contract themselves
		if entry != "/lambda-entrypoint.sh" || workdir != "/var/task" || env["LAMBDA_TASK_ROOT"] != "/var/task" ||
			env["LAMBDA_RUNTIME_DIR"] != "/var/runtime" || env["LANG"] == "" || env["TZ"] == "" || env["PATH"] == "" {
			t.Errorf("final stage breaks the base-image contract: entrypoint %q workdir %q env %v", entry, workdir, env)
		}
	}
	if withRIE != names["rie"] {
		t.Errorf("RIE layered in: %v, rie stage present: %v", withRIE, names["rie"])
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestRenderDeterministic(t *testing.T) {
	c, tm := builtin(t)
	ts := allTargets(t, c)
	first := map[string][]render.File{}
	for i := range ts {
		ctx, err := tm.Render(&ts[i], render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		first[ts[i].Name()] = ctx.Files
	}
	for i := range ts {
		ctx, _ := tm.Render(&ts[i], render.Options{})
		if diff := cmp.Diff(first[ts[i].Name()], ctx.Files); diff != "" {
			t.Fatalf("%s renders differently the second time:\n%s", ts[i].Name(), diff)
		}
	}
}

// TestDigestTracksInputs checks that the inputs digest changes with the
// catalog entry and with the templates, and only for the affected targets.
func TestDigestTracksInputs(t *testing.T) {
	c, tm := builtin(t)
	digest := func(c *catalog.Catalog, tm *render.Templates, id, variant string) string {
		ts, err := c.Targets(catalog.Selector{Runtimes: []string{id}, Variants: []string{variant}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, err := tm.Render(&ts[0], render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return ctx.Digest
	}
	before := digest(c, tm, "python3.12", "debian")
	otherBefore := digest(c, tm, "nodejs20.x", "debian")
	r, _ := c.Runtime("python3.12")
	r.Variants["debian"] = catalog.Variant{Packages: []string{"git"}}
	if digest(c, tm, "python3.12", "debian") == before {
		t.Error("digest did not change with the catalog entry")
	}
	if digest(c, tm, "nodejs20.x", "debian") != otherBefore {
		t.Error("another runtime's digest changed")
	}
	// A changed python template changes python's digest, not node's.
	dir := t.TempDir()
	sub, _ := fs.Sub(lambdaimg.Templates, "templates")
	if err := os.CopyFS(dir, sub); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "python", "Dockerfile.tmpl")
	data, _ := os.ReadFile(p)
	if err := os.WriteFile(p, append(data, []byte("# changed\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	tm2, err := render.Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := builtin(t)
	if digest(c2, tm2, "python3.12", "debian") == digest(c2, tm, "python3.12", "debian") {
		t.Error("digest did not change with the template")
	}
	if digest(c2, tm2, "nodejs20.x", "debian") != otherBefore {
		t.Error("node's digest changed with python's template")
	}
}

func TestWriteReplacesAtomically(t *testing.T) {
	c, tm := builtin(t)
	ts := allTargets(t, c)
	ctx, err := tm.Render(&ts[0], render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ctx")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "stale"), []byte("x"), 0o644)
	if err := ctx.Write(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	var want []string
	for _, f := range ctx.Files {
		want = append(want, f.Path)
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files after Write (-want +got):\n%s", diff)
	}
	siblings, _ := os.ReadDir(filepath.Dir(dir))
	if len(siblings) != 1 {
		t.Errorf("Write left temporary directories behind: %v", siblings)
	}
}

// BenchmarkRenderAll renders every target of the embedded catalog
// (target: under 50 ms for the whole catalog).
func BenchmarkRenderAll(b *testing.B) {
	c, tm := builtin(b)
	ts := allTargets(b, c)
	b.ReportAllocs()
	for b.Loop() {
		for i := range ts {
			if _, err := tm.Render(&ts[i], render.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(ts)), "targets")
}

// BenchmarkLoadAndRenderAll includes parsing and validating the catalog and
// the templates, as `lambdaimg generate --all` does.
func BenchmarkLoadAndRenderAll(b *testing.B) {
	for b.Loop() {
		c, tm := builtin(b)
		ts := allTargets(b, c)
		for i := range ts {
			if _, err := tm.Render(&ts[i], render.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
