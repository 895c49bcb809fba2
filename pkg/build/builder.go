package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/internal/blobpool"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/osindex"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/store"
	"golang.org/x/sync/errgroup"
)

// Builder builds jobs through one BuildKit connection, or a pool of them,
// into one store.
type Builder struct {
	sched *scheduler
	store *store.Store
	opts  Options
	multi bool             // several jobs: export destinations are directories
	index *osindex.Client  // this Build's session of opts.OSIndex
	bases *baseInventories // this Build's base images, for their packages
	warms sync.WaitGroup   // base images being read ahead (warmBase)
	blobs *blobpool.Pool   // this Build's blobs that exports need not send
}

// New returns a Builder that builds through conn.
func New(conn *buildkit.Conn, st *store.Store, opts Options) *Builder {
	return newBuilder(newScheduler([]*buildkit.Conn{conn}, nil), st, opts)
}

// NewPool returns a Builder that spreads the jobs over the reachable
// builders of pool (see scheduler for how it places them).
func NewPool(pool *buildkit.Pool, st *store.Store, opts Options) *Builder {
	conns := pool.Conns()
	limits := make([]int, len(conns))
	for i, c := range conns {
		limits[i] = pool.JobLimit(c)
	}
	return newBuilder(newScheduler(conns, limits), st, opts)
}

func newBuilder(s *scheduler, st *store.Store, opts Options) *Builder {
	if opts.Jobs <= 0 {
		opts.Jobs = 4
	}
	if opts.ProgressOut == nil {
		opts.ProgressOut = io.Discard
	}
	if opts.OSIndex == nil {
		opts.OSIndex, _ = osindex.New() // no options: no error
	}
	return &Builder{sched: s, store: st, opts: opts}
}

// prepared is what every job of one context shares.
type prepared struct {
	dir       string            // the written context
	imageArgs map[string]string // *_IMAGE args after mirroring
	rie       map[string]string // arch -> <dir>/aws-lambda-rie, alone in its dir
	// index is PackageIndexArg's value by arch, or why it is unknown
	// (set before the jobs start; read-only after).
	index    map[catalog.Arch]string
	indexErr map[catalog.Arch]error
	installs []string // what the Dockerfile's apt-get installs name
}

// Build runs every job and returns one result per job, in job order. One
// Builder runs one Build at a time. The error is for problems that stop
// the whole run (no work dir, bad options); a failing target is a Failed
// result, and the others go on unless FailFast is set.
func (b *Builder) Build(ctx context.Context, jobs []Job) ([]Result, error) {
	b.multi = len(jobs) > 1
	b.index, b.bases = b.opts.OSIndex.Session(), newBaseInventories()
	workDir := b.opts.WorkDir
	if workDir == "" {
		d, err := os.MkdirTemp("", "lambdaimg-build-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		workDir = d
	}
	// The run's blobs (base layers read ahead, blobs exported), and the
	// store's: an export takes those from here, not from the builder.
	// The pool trusts the blobs of its own directory, so it is one of
	// this run's own: not one a crashed or concurrent run left in
	// workDir (--contexts).
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, err
	}
	poolDir, err := os.MkdirTemp(workDir, ".blobs-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(poolDir)
	b.blobs = blobpool.New(poolDir, filepath.Join(b.store.Dir(), "blobs"))
	preps := map[*render.Context]*prepared{}
	for _, j := range jobs {
		if _, ok := preps[j.Context]; ok {
			continue
		}
		p, err := b.prepare(j, workDir)
		if err != nil {
			return nil, err
		}
		preps[j.Context] = p
	}
	b.packageIndexes(ctx, jobs, preps)
	disp, err := newDisplay(b.opts.ProgressOut, b.opts.Progress)
	if err != nil {
		return nil, err
	}
	results := b.runAll(ctx, jobs, preps, disp)
	warnings, derr := disp.close()
	for _, w := range warnings {
		fmt.Fprintf(b.opts.ProgressOut, "warning: %s\n", w.Short)
	}
	if derr != nil && !errors.Is(derr, context.Canceled) {
		fmt.Fprintf(b.opts.ProgressOut, "progress display: %v\n", derr)
	}
	return results, nil
}

// runAll runs the jobs, at most Options.Jobs at once. It returns when
// they have ended, and base images being read ahead (warmBase) stopped.
func (b *Builder) runAll(ctx context.Context, jobs []Job, preps map[*render.Context]*prepared, disp *display) []Result {
	results := make([]Result, len(jobs))
	runCtx, cancel := context.WithCancel(ctx)
	defer b.warms.Wait() // after cancel
	defer cancel()
	eg := errgroup.Group{}
	eg.SetLimit(b.opts.Jobs)
	for i, j := range jobs {
		t := b.sched.expect(j.Arch.Platform()) // all known before the first is placed
		eg.Go(func() error {
			defer b.sched.settle(t)
			start := time.Now()
			r := b.run(runCtx, j, preps[j.Context], disp, t)
			r.Duration = time.Since(start)
			r.Seconds = float64(r.Duration.Milliseconds()) / 1000
			if r.Status == Failed && b.opts.FailFast {
				cancel() // the others end as Canceled
			}
			results[i] = r
			return nil
		})
	}
	eg.Wait()
	return results
}

// prepare writes j's context into workDir and works out its image
// arguments and emulator binaries.
func (b *Builder) prepare(j Job, workDir string) (*prepared, error) {
	c, t := j.Context, j.Context.Target
	dir := filepath.Join(workDir, t.Runtime.ID, t.Variant)
	if err := c.Write(dir); err != nil {
		return nil, fmt.Errorf("writing the context of %s: %w", t.Name(), err)
	}
	df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		return nil, err
	}
	args, err := ImageArgs(df)
	if err != nil {
		return nil, fmt.Errorf("%s: parsing the generated Dockerfile: %w", t.Name(), err)
	}
	installs, err := PackageInstalls(df)
	if err != nil {
		return nil, fmt.Errorf("%s: parsing the generated Dockerfile: %w", t.Name(), err)
	}
	for k, v := range b.opts.BuildArgs { // an image given as a build argument
		if _, ok := args[k]; ok {
			args[k] = v
		}
	}
	for k, v := range j.Images {
		if _, ok := args[k]; !ok {
			return nil, fmt.Errorf("%s: the Dockerfile has no image argument %s", t.Name(), k)
		}
		args[k] = v
	}
	for k, v := range args {
		if args[k], err = Mirror(v, b.opts.Mirrors); err != nil {
			return nil, fmt.Errorf("%s: %w", t.Name(), err)
		}
	}
	p := &prepared{dir: dir, imageArgs: args, rie: map[string]string{},
		index: map[catalog.Arch]string{}, indexErr: map[catalog.Arch]error{}, installs: installs}
	if b.opts.RIEDir != "" && t.WithRIE() {
		if p.rie, err = stageRIE(b.opts.RIEDir, workDir, t.Arches); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// run builds one job, passes it through the gates and stores it.
func (b *Builder) run(ctx context.Context, j Job, p *prepared, disp *display, tk *ticket) Result {
	t := j.Context.Target
	ref := store.Ref{Runtime: t.Runtime.ID, Variant: t.Variant, Arch: string(j.Arch)}
	r := Result{Target: t.Name(), Runtime: t.Runtime.ID, Variant: t.Variant, Platform: j.Arch.Platform(), Store: ref.Name()}
	if ctx.Err() != nil {
		r.Status, r.Reason = Canceled, "canceled before it started"
		return r
	}
	if why := b.sched.unserved(r.Platform); why != "" {
		r.Status = Skipped
		r.Reason = why + "; for arm64 on x86_64 install qemu-user-static and register binfmt_misc (make buildkit), or add an arm64 builder"
		return r
	}
	k, err := b.jobKey(j, p)
	if err != nil {
		return r.fail(ctx, err)
	}
	if err := p.indexErr[j.Arch]; err != nil {
		return r.fail(ctx, err)
	}
	// Exports are files outside the store: asked for, they are always made.
	if !b.opts.Pull && !b.opts.NoCache && len(b.opts.Exports) == 0 {
		if e, img, ok := b.store.Unchanged(ref, k); ok && packagesCurrent(j, e, p.index[j.Arch]) {
			return b.reuse(ctx, r, j, e, img)
		}
	}
	b.warmBase(ctx, j, p)
	return b.buildOnPool(ctx, r, j, p, k, disp, tk)
}

// warmBase reads the layers of j's base image from its registry in the
// background while BuildKit builds j, once per base and platform, when
// something will read the built image's layers (the gates, the package
// record): decompressing them on this machine then overlaps the build
// instead of following it, and the builder does not send those layers at
// the export (b.blobs) when they are here by then. It only saves time; its
// failures change nothing. Layers the store holds are read from there;
// layers whose scans are kept (layerscan.KeepIn) are fetched for b.blobs,
// not decompressed.
func (b *Builder) warmBase(ctx context.Context, j Job, p *prepared) {
	ref, ok := p.imageArgs["BASE_IMAGE"]
	if !ok || len(b.opts.Gates) == 0 && !packageOSes[j.Context.Target.Spec.OS] {
		return
	}
	b.warms.Go(func() {
		b.bases.warm(ctx, ref, j.Arch, b.blobs)
		if packageOSes[j.Context.Target.Spec.OS] {
			b.warmSources(ctx, ref, j.Arch)
		}
	})
}

// warmSources reads the release files of the base image ref's APT
// sources for arch, which the package record of the built image reads
// (the state of its sources), while BuildKit builds it: the record then
// does not wait for the network after the build. Its errors are kept for
// the record to report, as if the record had read them.
func (b *Builder) warmSources(ctx context.Context, ref string, arch catalog.Arch) {
	inv, err := b.bases.get(ctx, ref, arch)
	if err != nil {
		return
	}
	if srcs, err := osindex.ParseSourceFiles(inv.AptSources); err == nil && len(srcs) > 0 {
		b.index.State(ctx, srcs, arch.GoArch())
	}
}

// buildOn builds j on n into a fresh layout, then gates and stores it.
func (b *Builder) buildOn(ctx context.Context, r Result, j Job, p *prepared, k string, disp *display, n *node) Result {
	r.Builder = n.conn.Addr
	out, err := os.MkdirTemp(filepath.Dir(p.dir), ".oci-")
	if err != nil {
		return r.fail(ctx, err)
	}
	defer os.RemoveAll(out)
	bases, moved, err := b.solve(ctx, n.conn, j, p, out, disp.attach(j.Name()))
	r.Export = moved
	if err != nil {
		r = r.fail(ctx, err)
		r.FailedLines = failedLines(err)
		return r
	}
	return b.store1(ctx, r, j, out, k, p.index[j.Arch], bases)
}

// reuse passes a stored, unchanged image through the gates again; one that
// fails now is removed, so that it cannot be published from the store.
func (b *Builder) reuse(ctx context.Context, r Result, j Job, e store.Entry, img v1.Image) Result {
	r.Status, r.Digest, r.Size = Unchanged, e.Descriptor.Digest.String(), imageSize(img)
	r.Reason = "inputs unchanged since the stored build (--pull rebuilds)"
	var err error
	r.Gates, err = runGates(ctx, b.opts.Gates, b.store.Dir(), e.Descriptor, j.Context.Target)
	if err != nil {
		if ctx.Err() == nil && !b.opts.KeepStored && !errors.Is(err, ErrUnwanted) && b.store.Remove(store.Ref{Runtime: e.Runtime, Variant: e.Variant, Arch: e.Arch}) == nil {
			err = fmt.Errorf("%w (removed from the store)", err)
		}
		return r.fail(ctx, err)
	}
	return r
}

// store1 gates the image built into the layout out and stores it.
func (b *Builder) store1(ctx context.Context, r Result, j Job, out, buildKey, pkgState string, bases map[string]Base) Result {
	t := j.Context.Target
	img, err := store.SingleImage(out)
	if err != nil {
		return r.fail(ctx, fmt.Errorf("reading the build result: %w", err))
	}
	if err := checkPlatform(img, j.Arch); err != nil {
		return r.fail(ctx, err)
	}
	desc, err := describe(img, j)
	if err != nil {
		return r.fail(ctx, err)
	}
	if r.Gates, err = runGates(ctx, b.opts.Gates, out, desc, t); err != nil {
		for _, o := range b.opts.Exports { // nothing of a failed image stays
			os.Remove(ExportPath(o, j, b.multi))
		}
		return r.fail(ctx, err)
	}
	ann := map[string]string{
		store.AnnImage:    t.Image,
		store.AnnTags:     strings.Join(t.Runtime.Tags, ","),
		store.AnnDefault:  strconv.FormatBool(t.Default),
		store.AnnInputs:   j.Context.Digest,
		store.AnnBuildKey: buildKey,
		store.AnnCreated:  time.Unix(b.opts.SourceDateEpoch, 0).UTC().Format(time.RFC3339),
	}
	if b.opts.Tested {
		ann[store.AnnTested] = "passed"
	}
	if t.Spec.OS != catalog.AWS {
		ann[labels.RIC] = t.Spec.RIC
	}
	for k, v := range baseAnnotations(bases) {
		ann[k] = v
	}
	if packageOSes[t.Spec.OS] {
		if ann[labels.OSPackages], r.Note, err = b.recordPackages(ctx, j, bases["BASE_IMAGE"].Ref, pkgState, img); err != nil {
			return r.fail(ctx, fmt.Errorf("recording the image's OS packages: %w", err))
		}
	}
	if err := b.store.LinkBlobs(out, b.opts.Pull); err != nil {
		return r.fail(ctx, err)
	}
	stored, err := b.store.Put(store.Ref{Runtime: t.Runtime.ID, Variant: t.Variant, Arch: string(j.Arch)}, img, ann)
	if err != nil {
		return r.fail(ctx, err)
	}
	r.Status, r.Digest, r.Size = Built, stored.Digest.String(), imageSize(img)
	return r
}

// fail marks r failed with err, or canceled when ctx ended.
func (r Result) fail(ctx context.Context, err error) Result {
	r.Status, r.Reason = Failed, err.Error()
	if ctx.Err() != nil {
		r.Status = Canceled
	}
	return r
}

// describe describes img as it sits in a layout, with its platform.
func describe(img v1.Image, j Job) (v1.Descriptor, error) {
	d, err := img.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	size, err := img.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{Digest: d, MediaType: mt, Size: size,
		Platform: &v1.Platform{OS: "linux", Architecture: j.Arch.GoArch()}}, nil
}
