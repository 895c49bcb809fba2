package build

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/internal/layerscan"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/osindex"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// PackageIndexArg is the build argument the templates declare in each
// stage that installs packages on Debian, Ubuntu or Alpine
// (templates/partials, "package-index-arg"): the state of what the
// Dockerfile's apt-get installs (apk adds) would install now
// (osindex.InstallState): each package named and what it depends on,
// with the candidate version the image's APT sources (apk repositories)
// offer, less what the base image has, plus every package the
// stored image's own steps installed or upgraded (its record), at the
// candidate version. As an ARG it is in the environment of the stage's
// RUN steps, so BuildKit runs the install steps again when one of those
// packages has a new version instead of reusing their cached layers; a
// new version of any other package of the sources changes nothing.
const PackageIndexArg = "PACKAGE_INDEX"

// packageOSes are the OS families whose builds set PackageIndexArg and
// whose images carry a package record (labels.OSPackages): APT's and
// Alpine's.
var packageOSes = map[catalog.OS]bool{catalog.Debian: true, catalog.Ubuntu: true, catalog.Alpine: true}

// packageIndexes works out PackageIndexArg of every job before they
// start (each source's index is read once). BuildKit writes a RUN step's
// build arguments into the image's history, so the value is part of the
// image: a --no-cache build sets it too, and so gives the digest a cached
// build of the same inputs gives. Without BuildKit's cache there is no
// cached step to keep honest, so there an index that cannot be read only
// leaves the argument empty (the image then differs in its history).
func (b *Builder) packageIndexes(ctx context.Context, jobs []Job, preps map[*render.Context]*prepared) {
	for _, j := range jobs {
		if !packageOSes[j.Context.Target.Spec.OS] {
			continue
		}
		p := preps[j.Context]
		state, err := b.packageState(ctx, j, p)
		switch {
		case err == nil:
			p.index[j.Arch] = state
		case b.opts.NoCache:
			p.index[j.Arch] = ""
		default:
			p.indexErr[j.Arch] = fmt.Errorf("checking whether BuildKit's cached package steps are current: %w; lambdaimg reads the image's package sources (and, before a first build, its base image) from this machine, not through BuildKit: make them reachable from here (--apt-mirror, --registry-mirror), or build with --no-cache", err)
		}
	}
}

// packageState is PackageIndexArg of j: "" when its Dockerfile installs
// nothing (apt-get install, apk add) and its stored image recorded
// nothing installed, or when the image has no package sources.
func (b *Builder) packageState(ctx context.Context, j Job, p *prepared) (string, error) {
	rec, err := b.storedRecord(j)
	if err != nil {
		return "", err
	}
	names := append([]string(nil), p.installs...)
	recorded := map[string]bool{}
	if rec != nil {
		for _, pkg := range rec.Installed() {
			names, recorded[pkg.Name] = append(names, pkg.Name), true
		}
	}
	if len(names) == 0 {
		// Nothing to install: neither the sources nor the base image
		// are read, so a first build starts at once.
		return "", nil
	}
	idx, err := b.packageSources(ctx, j, p, rec)
	if err != nil || idx == nil {
		return "", err
	}
	// The index first (read once per session): when neither it nor the
	// base can be read, its error is the one to fix.
	if err := idx.read(); err != nil {
		return "", err
	}
	base, err := b.bases.get(ctx, p.imageArgs["BASE_IMAGE"], j.Arch)
	if err != nil {
		return "", err
	}
	inBase := map[string]bool{}
	for _, pkg := range base.Packages {
		inBase[pkg.Name] = true
	}
	installs, err := idx.installs(names, func(name string) bool { return inBase[name] && !recorded[name] })
	if err != nil {
		return "", err
	}
	return osindex.InstallState(installs), nil
}

// storedRecord is the package record of j's stored image, or nil when
// there is no stored image or it has none.
func (b *Builder) storedRecord(j Job) (*osindex.Record, error) {
	t := j.Context.Target
	e, stored, err := b.store.Get(store.Ref{Runtime: t.Runtime.ID, Variant: t.Variant, Arch: string(j.Arch)})
	if err != nil || !stored {
		return nil, err
	}
	raw, ok := e.Descriptor.Annotations[labels.OSPackages]
	if !ok {
		return nil, nil
	}
	return osindex.ParseRecord(raw)
}

// sourceIndex is the package index of an image's sources, as
// packageState asks it: read reads it, installs is what installing names
// brings in (osindex.Client.Installs, ApkInstalls).
type sourceIndex struct {
	read     func() error
	installs func(names []string, have func(string) bool) (map[string]string, error)
}

// packageSources are the package sources (APT's; apk's on Alpine) rec,
// the record of j's stored image, lists, or else (a first build, or one by
// an older lambdaimg) its base image's; nil when there are none.
func (b *Builder) packageSources(ctx context.Context, j Job, p *prepared, rec *osindex.Record) (*sourceIndex, error) {
	t := j.Context.Target
	arch := j.Arch.GoArch()
	if t.Spec.OS == catalog.Alpine {
		repos, err := b.apkRepositories(ctx, j, p, rec)
		if err != nil || len(repos) == 0 {
			return nil, err
		}
		return &sourceIndex{
			read: func() error { _, err := b.index.ApkCandidates(ctx, repos, arch); return err },
			installs: func(names []string, have func(string) bool) (map[string]string, error) {
				return b.index.ApkInstalls(ctx, repos, arch, names, have)
			},
		}, nil
	}
	srcs, err := b.aptSources(ctx, j, p, rec)
	if err != nil || len(srcs) == 0 {
		return nil, err
	}
	return &sourceIndex{
		read: func() error { _, err := b.index.Candidates(ctx, srcs, arch); return err },
		installs: func(names []string, have func(string) bool) (map[string]string, error) {
			return b.index.Installs(ctx, srcs, arch, names, have)
		},
	}, nil
}

// aptSources are the APT sources rec lists, or else j's base image's.
func (b *Builder) aptSources(ctx context.Context, j Job, p *prepared, rec *osindex.Record) ([]osindex.Source, error) {
	if rec != nil {
		return rec.SourceList()
	}
	base, err := b.bases.get(ctx, p.imageArgs["BASE_IMAGE"], j.Arch)
	if err != nil {
		return nil, err
	}
	return osindex.ParseSourceFiles(base.AptSources)
}

// apkRepositories are the apk repositories rec lists, or else j's base
// image's.
func (b *Builder) apkRepositories(ctx context.Context, j Job, p *prepared, rec *osindex.Record) ([]string, error) {
	if rec != nil {
		return rec.Repositories, nil
	}
	base, err := b.bases.get(ctx, p.imageArgs["BASE_IMAGE"], j.Arch)
	if err != nil {
		return nil, err
	}
	return osindex.ParseApkRepositories(base.ApkRepositories), nil
}

// packagesCurrent reports whether the stored image e was built with the
// PackageIndexArg state: always for OSes without a package record; never
// when e has no record (built by an older lambdaimg: building it again,
// mostly from BuildKit's cache, records its packages) or records no
// package state (a record of an older lambdaimg holds the whole index's
// state instead, which is not comparable) unless there is none to have.
func packagesCurrent(j Job, e store.Entry, state string) bool {
	if !packageOSes[j.Context.Target.Spec.OS] {
		return true
	}
	raw, ok := e.Descriptor.Annotations[labels.OSPackages]
	if !ok {
		return false
	}
	rec, err := osindex.ParseRecord(raw)
	return err == nil && rec.Installs == state
}

// recordPackages returns the package record of a built image (JSON, for
// labels.OSPackages): its APT sources or apk repositories, the packages its own steps
// installed or changed (those not in its base image at that version: a
// rebuild moves only those; the base's move with the base), the
// sources' index state now (plan reads the indexes only when it moved)
// and installs, the PackageIndexArg it was built with. An index that
// cannot be read leaves the index state empty, and says so in the note.
func (b *Builder) recordPackages(ctx context.Context, j Job, baseRef, installs string, img v1.Image) (rec, note string, err error) {
	// The layers' scans the verify gate just took are used without
	// hashing the layout's blobs again: store1 stores the image only
	// after the store has checked each blob it takes in (hashed it, or
	// found it hashed as it was written in this run: package hashed).
	inv, err := inventory.Read(j.Name(), layerscan.NamedImage(img), nil)
	if err != nil {
		return "", "", err
	}
	base, err := b.bases.get(ctx, baseRef, j.Arch)
	if err != nil {
		return "", "", err
	}
	r, err := osindex.NewRecord(inv, base, j.Arch.GoArch())
	if err != nil {
		return "", "", fmt.Errorf("reading the image's package sources: %w", err)
	}
	r.Installs = installs
	if srcs, err := r.SourceList(); err == nil && len(srcs) > 0 {
		if r.State, err = b.index.State(ctx, srcs, j.Arch.GoArch()); err != nil {
			note = fmt.Sprintf("the package index could not be read (%v): the next plan reads it whole", err)
		}
	}
	s, err := r.Marshal()
	return s, note, err
}
