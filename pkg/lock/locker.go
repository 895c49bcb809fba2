package lock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/pins"
	"github.com/lambdaimg/lambdaimg/pkg/plan"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/store"
	"golang.org/x/sync/errgroup"
)

// Locker resolves targets into lock entries.
type Locker struct {
	tm *render.Templates
	o  options
}

// NewLocker returns a Locker rendering targets with tm.
func NewLocker(tm *render.Templates, opts ...Option) (*Locker, error) {
	o := options{jobs: 8}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	var err error
	if o.remote == nil {
		if o.remote, err = plan.DefaultRemoteOptions(); err != nil {
			return nil, err
		}
	}
	if o.checker == nil {
		if o.checker, err = pins.NewChecker(nil); err != nil {
			return nil, err
		}
	}
	return &Locker{tm: tm, o: o}, nil
}

// Inputs returns the inputs digest of t as the lock records it: the
// catalog entry and templates, rendered with the target's own options
// (build options such as --ca-bundle are left out).
func Inputs(tm *render.Templates, t *catalog.Target) (string, error) {
	rc, err := renderTarget(tm, t)
	if err != nil {
		return "", err
	}
	return rc.Digest, nil
}

func renderTarget(tm *render.Templates, t *catalog.Target) (*render.Context, error) {
	rc, err := tm.Render(t, render.Options{Extensions: len(t.ExtensionPaths()) > 0})
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", t.Name(), err)
	}
	return rc, nil
}

func dockerfile(rc *render.Context) []byte {
	for _, f := range rc.Files {
		if f.Path == "Dockerfile" {
			return f.Data
		}
	}
	return nil
}

// Lock resolves targets and returns a lock holding them and every other
// target of prev (nil for none). prev's entries also spare requests: a
// base image whose digest has not moved is not fetched again.
func (l *Locker) Lock(ctx context.Context, targets []catalog.Target, prev *File) (*File, error) {
	if prev == nil {
		prev = New()
	}
	res, err := newResolver(l.o.mirrors, l.o.remote)
	if err != nil {
		return nil, err
	}
	out := New()
	for n, t := range prev.Targets {
		out.Targets[n] = t
	}
	entries := make([]*Target, len(targets))
	eg, egctx := errgroup.WithContext(ctx)
	eg.SetLimit(l.o.jobs)
	for i := range targets {
		eg.Go(func() error {
			t := &targets[i]
			e, err := l.target(egctx, res, t, prev.Targets[t.Name()])
			if err != nil {
				return fmt.Errorf("locking %s: %w", t.Name(), err)
			}
			entries[i] = e
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	for i := range targets {
		out.Targets[targets[i].Name()] = entries[i]
	}
	return out, nil
}

// target resolves one target; prev is its previous entry or nil.
func (l *Locker) target(ctx context.Context, res *resolver, t *catalog.Target, prev *Target) (*Target, error) {
	rc, err := renderTarget(l.tm, t)
	if err != nil {
		return nil, err
	}
	e := &Target{Inputs: rc.Digest, Images: map[string]*Image{}}
	args, err := build.ImageArgs(dockerfile(rc))
	if err != nil {
		return nil, fmt.Errorf("parsing the generated Dockerfile: %w", err)
	}
	for arg, ref := range args {
		var old *Image
		if prev != nil {
			old = prev.Images[arg]
		}
		if e.Images[arg], err = res.image(ctx, ref, t.Arches, old); err != nil {
			return nil, fmt.Errorf("%s: %w", arg, err)
		}
	}
	if e.Packages, err = l.packages(ctx, res, t); err != nil {
		return nil, err
	}
	e.RIE = rie(t)
	if e.OS, err = l.osPackages(t, e); err != nil {
		return nil, err
	}
	keepOS(e, prev)
	return e, nil
}

// packages resolves the target's pinned language packages; the emulator's
// download is the RIE entry.
func (l *Locker) packages(ctx context.Context, res *resolver, t *catalog.Target) ([]Package, error) {
	var out []Package
	for _, p := range pins.ForTarget(t) {
		if p.Registry == pins.GitHubReleases || p.Registry == pins.Download {
			continue
		}
		v, err := res.once("PIN "+string(p.Registry)+" "+p.Package+"@"+p.Version, func() (any, error) {
			return l.o.checker.Files(ctx, p)
		})
		if err != nil && !errors.Is(err, pins.ErrNotAsked) {
			return nil, err
		}
		pkg := Package{Registry: string(p.Registry), Name: p.Package, Version: p.Version}
		if fs, ok := v.([]pins.File); ok {
			for _, f := range fs {
				if p.Registry == pins.PyPI && !fitsPython(f.Name, t) {
					continue
				}
				pkg.Files = append(pkg.Files, Artifact{Name: f.Name, Checksum: f.Checksum})
			}
		}
		out = append(out, pkg)
	}
	return out, nil
}

// rie is the emulator release the catalog pins for t, or nil.
func rie(t *catalog.Target) *RIE {
	if !t.WithRIE() || t.RIE.URL == "" {
		return nil
	}
	r := &RIE{Version: t.RIE.Version, SHA256: map[string]string{}}
	for _, a := range t.Spec.Architectures { // all of them: the catalog says, whatever the selection
		r.SHA256[string(a)] = t.RIE.SHA256[a]
	}
	return r
}

// osPackages reads the OS packages of t's stored images built from e's
// inputs on e's base images; nil without a store or such images.
func (l *Locker) osPackages(t *catalog.Target, e *Target) (map[string]*OSPackages, error) {
	if l.o.store == nil {
		return nil, nil
	}
	out := map[string]*OSPackages{}
	for _, a := range t.Arches {
		ref := store.Ref{Runtime: t.Runtime.ID, Variant: t.Variant, Arch: string(a)}
		se, ok, err := l.o.store.Get(ref)
		if err != nil {
			return nil, err
		}
		if !ok || se.Inputs != e.Inputs || !builtOn(se, e, a.Platform()) {
			continue
		}
		img, err := l.o.store.Image(se)
		if err != nil {
			return nil, fmt.Errorf("reading the stored %s: %w", ref.Name(), err)
		}
		inv, err := inventory.Read(ref.Name(), img, se.Descriptor.Annotations)
		if err != nil {
			return nil, err
		}
		out[a.Platform()] = osEntry(inv)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// builtOn reports whether the stored image se was built on e's base
// images for platform, as the build recorded them (io.lambdaimg.bases: the
// digest each reference resolved to). An image without the record, or
// built on other digests, does not describe what e locks.
func builtOn(se store.Entry, e *Target, platform string) bool {
	var rec map[string]struct {
		Digest string `json:"digest"`
	}
	if err := json.Unmarshal([]byte(se.Descriptor.Annotations[labels.Bases]), &rec); err != nil || len(rec) == 0 {
		return false
	}
	for arg, r := range rec {
		img, ok := e.Images[arg]
		if !ok || (r.Digest != img.Digest && r.Digest != img.Platforms[platform]) {
			return false
		}
	}
	return true
}

// archIndependent reports whether a package of architecture a installs
// on any: dpkg's "all", rpm's and apk's "noarch" (or no architecture).
func archIndependent(a string) bool { return a == "" || a == "all" || a == "noarch" }

func osEntry(inv *inventory.Inventory) *OSPackages {
	o := &OSPackages{Image: inv.Digest, Database: inv.Database}
	arch := map[string]int{}
	for _, p := range inv.Packages {
		arch[p.Arch]++
	}
	native := ""
	for a, n := range arch { // the architecture most packages have
		if !archIndependent(a) && (native == "" || n > arch[native] || n == arch[native] && a < native) {
			native = a
		}
	}
	for _, p := range inv.Packages {
		n := p.Name
		if !archIndependent(p.Arch) && p.Arch != native {
			n += ":" + p.Arch
		}
		o.Packages = append(o.Packages, n+"="+p.Version)
	}
	sort.Strings(o.Packages)
	return o
}

// keepOS keeps prev's OS packages of the platforms no stored image gave
// now, when the inputs are the same: a machine without the built images (a
// CI job that only locks), or a lock narrowed with --platform, does not
// drop them.
func keepOS(e, prev *Target) {
	if prev == nil || prev.Inputs != e.Inputs {
		return
	}
	for p, old := range prev.OS {
		if e.OS[p] != nil {
			continue
		}
		if e.OS == nil {
			e.OS = map[string]*OSPackages{}
		}
		e.OS[p] = old
	}
}
