package build

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/osindex"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// PackageIndexArg is the build argument the templates declare in each
// stage of an APT-based OS that installs packages (templates/partials,
// "package-index-arg"): the state of the package index
// (osindex.Client.State) of the APT sources the target's stored image
// uses, or, before there is one, those of its base image. As an ARG it is
// in the environment of the stage's RUN steps, so BuildKit runs the
// install steps again when a package of those sources changed instead of
// reusing their cached layers.
const PackageIndexArg = "PACKAGE_INDEX"

// aptOSes are the OS families whose images carry a package record.
var aptOSes = map[catalog.OS]bool{catalog.Debian: true, catalog.Ubuntu: true}

// packageIndexes works out PackageIndexArg of every job before they
// start (each source's Release is read once). BuildKit writes a RUN step's
// build arguments into the image's history, so the value is part of the
// image: a --no-cache build sets it too, and so gives the digest a cached
// build of the same inputs gives. Without BuildKit's cache there is no
// cached step to keep honest, so there an index that cannot be read only
// leaves the argument empty (the image then differs in its history).
func (b *Builder) packageIndexes(ctx context.Context, jobs []Job, preps map[*render.Context]*prepared) {
	for _, j := range jobs {
		if !aptOSes[j.Context.Target.Spec.OS] {
			continue
		}
		p := preps[j.Context]
		srcs, err := b.aptSources(ctx, j, p)
		if err == nil && len(srcs) > 0 {
			p.index[j.Arch], err = b.index.State(ctx, srcs, j.Arch.GoArch())
		}
		if err != nil && b.opts.NoCache {
			p.index[j.Arch] = ""
			continue
		}
		if err != nil {
			p.indexErr[j.Arch] = fmt.Errorf("checking whether BuildKit's cached package steps are current: %w; lambdaimg reads the image's APT sources (and, before a first build, its base image) from this machine, not through BuildKit: make them reachable from here (--apt-mirror, --registry-mirror), or build with --no-cache", err)
		}
	}
}

// aptSources are the APT sources the stored image of j recorded, or else
// (a first build, or one by an older lambdaimg) its base image's.
func (b *Builder) aptSources(ctx context.Context, j Job, p *prepared) ([]osindex.Source, error) {
	t := j.Context.Target
	e, stored, err := b.store.Get(store.Ref{Runtime: t.Runtime.ID, Variant: t.Variant, Arch: string(j.Arch)})
	if err != nil {
		return nil, err
	}
	if raw, ok := e.Descriptor.Annotations[labels.OSPackages]; stored && ok {
		rec, err := osindex.ParseRecord(raw)
		if err != nil {
			return nil, err
		}
		return rec.SourceList()
	}
	base, err := b.bases.get(ctx, p.imageArgs["BASE_IMAGE"], j.Arch)
	if err != nil {
		return nil, err
	}
	return osindex.ParseSourceFiles(base.AptSources)
}

// packagesCurrent reports whether the stored image e was built on the
// package index state now: always for OSes without APT; never when e
// records no state to compare.
func packagesCurrent(j Job, e store.Entry, state string) bool {
	if !aptOSes[j.Context.Target.Spec.OS] {
		return true
	}
	raw, ok := e.Descriptor.Annotations[labels.OSPackages]
	if !ok {
		return false
	}
	rec, err := osindex.ParseRecord(raw)
	return err == nil && rec.State == state
}

// recordPackages returns the package record of a built image (JSON, for
// labels.OSPackages): its APT sources, the packages its own steps
// installed or changed (those not in its base image at that version: a
// rebuild moves only those; the base's move with the base) and the
// sources' index state now. An index that cannot be read leaves the
// state empty, so that the next build runs the install steps again, and
// says so in the note.
func (b *Builder) recordPackages(ctx context.Context, j Job, baseRef string, img v1.Image) (rec, note string, err error) {
	inv, err := inventory.Read(j.Name(), img, nil)
	if err != nil {
		return "", "", err
	}
	base, err := b.bases.get(ctx, baseRef, j.Arch)
	if err != nil {
		return "", "", err
	}
	r, err := osindex.NewRecord(inv, base, j.Arch.GoArch())
	if err != nil {
		return "", "", fmt.Errorf("reading the image's APT sources: %w", err)
	}
	if srcs, err := r.SourceList(); err == nil && len(srcs) > 0 {
		if r.State, err = b.index.State(ctx, srcs, j.Arch.GoArch()); err != nil {
			note = fmt.Sprintf("the package index could not be read (%v): the next build runs the package steps again", err)
		}
	}
	s, err := r.Marshal()
	return s, note, err
}
