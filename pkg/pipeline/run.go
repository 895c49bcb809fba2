package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lambdaimg/lambdaimg/internal/layerscan"
	"github.com/lambdaimg/lambdaimg/internal/usercache"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/extension"
	"github.com/lambdaimg/lambdaimg/pkg/lock"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/smoke"
	"github.com/lambdaimg/lambdaimg/pkg/store"
	"github.com/lambdaimg/lambdaimg/pkg/verify"
)

// ErrNotOne is the error of a run that must be one image and selected
// several.
var ErrNotOne = errors.New("the selection is more than one image")

// Run builds the selected targets, gates every image and stores the good
// ones; with Publish it then publishes them. The error is for what stops
// the whole run (a bad request, no BuildKit); images that fail are in the
// report (see Report.Err).
func Run(ctx context.Context, req Request) (*Report, error) {
	req.defaults()
	targets, err := Targets(req.Catalog, req.Select, req.Packages)
	if err != nil {
		return nil, err
	}
	for _, w := range Deprecations(targets, req.Now()) {
		fmt.Fprintln(req.Log, "warning:", w)
	}
	extRoot, err := os.MkdirTemp("", "lambdaimg-extensions-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(extRoot)
	jobs, err := req.jobs(ctx, targets, extRoot)
	if err != nil {
		return nil, err
	}
	if req.One && len(jobs) != 1 {
		return nil, requestErr(FieldSelect, "%w: it has %d", ErrNotOne, len(jobs))
	}
	rep := &Report{All: req.Select.All}
	if rep.Images, err = req.build(ctx, jobs); err != nil {
		return nil, err
	}
	if req.Publish == nil {
		return rep, nil
	}
	pub := *req.Publish
	pub.Only, pub.Expected = publishable(rep.Images)
	if len(pub.Only) == 0 {
		return rep, nil
	}
	res, err := Publish(ctx, pub)
	rep.Published = &res
	return rep, err
}

func (req *Request) defaults() {
	if req.Log == nil {
		req.Log = io.Discard
	}
	if req.Now == nil {
		req.Now = time.Now
	}
}

// Targets expands the selection and adds the extra packages to each
// target, after checking they are package names.
func Targets(c *catalog.Catalog, sel catalog.Selector, packages []string) ([]catalog.Target, error) {
	for _, p := range packages {
		if !catalog.ValidPackage(p) {
			return nil, requestErr(FieldPackage, "%q is not an OS package name (letters, digits and . _ + : = ~ -)", p)
		}
	}
	targets, err := c.Targets(sel)
	if err != nil {
		return nil, &RequestError{Field: FieldSelect, Err: err}
	}
	for i := range targets {
		targets[i].Spec.Packages = append(targets[i].Spec.Packages, packages...)
	}
	return targets, nil
}

// jobs renders each target and lays out its extensions under extRoot: one
// job per target and architecture. A cancelled ctx stops the layout.
func (req *Request) jobs(ctx context.Context, targets []catalog.Target, extRoot string) ([]build.Job, error) {
	var jobs []build.Job
	for i := range targets {
		t := &targets[i]
		if lang := t.Runtime.Language; req.Test != nil && req.Test.FunctionDir == "" && !smoke.HasSample(lang) {
			return nil, requestErr(FieldHandler, "%s: lambdaimg has no sample function for %s yet: give the function to test", t.Name(), lang)
		}
		extDir := ""
		if paths := append(t.ExtensionPaths(), req.Extensions...); len(paths) > 0 {
			extDir = filepath.Join(extRoot, t.Runtime.ID, t.Variant)
			if err := extension.Layout(ctx, extDir, paths, req.ExtensionLimits); err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				return nil, requestErr(FieldExtension, "%s: %w", t.Name(), err)
			}
		}
		bctx, err := renderTarget(req.Templates, t, req.Build.CABundle != "", extDir != "")
		if err != nil {
			return nil, err
		}
		images, err := req.lockedImages(t)
		if err != nil {
			return nil, err
		}
		for _, a := range t.Arches {
			jobs = append(jobs, build.Job{Context: bctx, Arch: a, Extensions: extDir, Images: images})
		}
	}
	return jobs, nil
}

// renderTarget renders t's build context; ca and extensions say whether
// the build passes a CA bundle and an extensions context.
func renderTarget(tm *render.Templates, t *catalog.Target, ca, extensions bool) (*render.Context, error) {
	return tm.Render(t, render.Options{CA: ca, Extensions: extensions})
}

// build connects to BuildKit and runs the jobs through the gates.
func (req *Request) build(ctx context.Context, jobs []build.Job) ([]build.Result, error) {
	st, err := store.Open(req.StoreDir)
	if err != nil {
		return nil, err
	}
	if rec := st.Recovered(); rec != nil {
		fmt.Fprintln(req.Log, "warning:", rec)
	}
	specs, err := req.builders()
	if err != nil {
		return nil, err
	}
	pool, err := buildkit.ConnectPool(ctx, specs, req.BuildKit)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	v, err := verify.New()
	if err != nil {
		return nil, err
	}
	// Layer scans (what the verify gate and the package record read of a
	// layer) are kept across runs too, by the layer's digest: a new image
	// on a known base reads the base's layers only to hash them.
	layerscan.KeepIn(usercache.Dir("layerscans"))
	opts := req.Build
	// An unchanged image is asked about on every build: the store keeps
	// which images passed (verify.Memo: replayed only for the same binary
	// and options, after every blob hashes to its digest).
	opts.Gates = []build.Gate{verify.NewGate(v, verify.WithMemo(verify.NewMemo(filepath.Join(st.Dir(), "verified"))))}
	if req.Lock != nil { // before the smoke test: it is cheaper
		opts.Gates = append(opts.Gates, lock.NewGate(req.Lock, req.LockFile))
	}
	if req.Test != nil {
		g := smoke.NewPoolGate(pool.For, *req.Test)
		defer g.Close()
		if err := g.FindHelpers(goArches(jobs)); err != nil {
			return nil, err
		}
		opts.Gates, opts.Tested = append(opts.Gates, g), true
		// A user's function that fails says nothing against a stored image.
		opts.KeepStored = req.Test.FunctionDir != ""
	}
	fmt.Fprintf(req.Log, "lambdaimg: building %d image(s) into %s with:\n", len(jobs), st.Dir())
	for _, c := range pool.Conns() {
		fmt.Fprintf(req.Log, "lambdaimg:   BuildKit %s at %s (%s): %s\n", c.Version, c.Addr, c.Source, strings.Join(c.Platforms, ", "))
	}
	return build.NewPool(pool, st, opts).Build(ctx, jobs)
}

// goArches lists the architectures of jobs, each once, as GOARCH.
func goArches(jobs []build.Job) []string {
	var out []string
	seen := map[string]bool{}
	for _, j := range jobs {
		if a := j.Arch.GoArch(); !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// builders is the pool a request names (see Builders).
func (req *Request) builders() ([]buildkit.Spec, error) {
	return Builders(req.Builders, req.BuildKit.Addr, req.ConfigBuilders, req.Catalog)
}

// SourceCatalog is the Source of the catalog's builders.
const SourceCatalog = "catalog"

// Builders is the pool to build with, from the first of: the --builder
// ones (flags); none when --addr or BUILDKIT_HOST name one daemon; the
// user config file's builders (user); the catalog's defaults.builders.
// None means BuildKit's default socket, else lambdaimg's own daemon.
func Builders(flags []buildkit.Spec, addr string, user []buildkit.Spec, c *catalog.Catalog) ([]buildkit.Spec, error) {
	switch {
	case len(flags) > 0 || addr != "" || os.Getenv("BUILDKIT_HOST") != "":
		return flags, nil
	case len(user) > 0:
		return user, nil
	case c == nil:
		return nil, nil
	}
	var specs []buildkit.Spec
	for _, s := range c.Defaults.Builders {
		sp, err := buildkit.ParseSpec(s)
		if err != nil { // the catalog was validated: not reached
			return nil, fmt.Errorf("catalog defaults.builders: %w", err)
		}
		sp.Source = SourceCatalog
		specs = append(specs, sp)
	}
	return specs, nil
}

// publishable returns the stored images of a run and, per runtime/variant,
// every architecture the run meant to build: a runtime variant with an
// image that failed is then held back whole by the publish.
func publishable(images []build.Result) (map[string]bool, map[string][]string) {
	only := map[string]bool{}
	expected := map[string][]string{}
	for _, r := range images {
		if r.OK() {
			only[r.Store] = true
		}
		if a, err := catalog.ParsePlatform(r.Platform); err == nil {
			key := r.Runtime + "/" + r.Variant
			expected[key] = append(expected[key], string(a))
		}
	}
	return only, expected
}
