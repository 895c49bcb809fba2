package render_test

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/render"
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
	// Extensions change the image, so they are an input; the CA bundle is
	// a network setting that puts nothing in the image, so a build with
	// and one without it make the same image and share the digest.
	ts, _ := c.Targets(catalog.Selector{Runtimes: []string{"nodejs20.x"}, Variants: []string{"debian"}})
	seen := map[bool]string{}
	for _, o := range allOptions {
		ctx, err := tm.Render(&ts[0], o)
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := seen[o.Extensions]; ok && prev != ctx.Digest {
			t.Errorf("options %+v: the CA option changed the digest", o)
		}
		seen[o.Extensions] = ctx.Digest
	}
	if seen[true] == seen[false] {
		t.Error("the Extensions option does not change the digest")
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
