package publish

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// Hash is a content digest.
type Hash = v1.Hash

// Manifest is a manifest to put into a repository by digest.
type Manifest struct {
	// Descriptor gives the digest, size, media type and, for images, the
	// platform.
	Descriptor v1.Descriptor
	// Entry is the store entry of a platform image; nil for an index.
	Entry *store.Entry
	// Raw is an index's manifest, built by Plan; nil for images.
	Raw []byte
	// Group is the runtime/variant the manifest belongs to.
	Group string
}

// IsIndex reports whether m is an image index.
func (m Manifest) IsIndex() bool { return m.Entry == nil }

// Action is what to publish to one repository: manifests (platform images
// first, then indexes) and the tags pointing at them.
type Action struct {
	Repository string // e.g. public.ecr.aws/alias/python
	Manifests  []Manifest
	Tags       []Tag
	// Notes say what the plan left out and why.
	Notes []string
}

// PlanOption configures Plan.
type PlanOption func(*planOptions) error

type planOptions struct {
	scheme    TagScheme
	now       func() time.Time
	namespace string
	arches    map[string]bool
	expected  map[string][]string
}

// WithTagScheme chooses the tags to write. Default: DefaultTagScheme().
func WithTagScheme(s TagScheme) PlanOption {
	return func(o *planOptions) error {
		if !s.Arch && !s.Index {
			return errors.New("tag scheme writes no tag: enable Arch or Index")
		}
		o.scheme = s
		return nil
	}
}

// WithClock sets the clock dated tags take their date from (in UTC).
// Default: time.Now.
func WithClock(now func() time.Time) PlanOption {
	return func(o *planOptions) error {
		if now == nil {
			return errors.New("nil clock")
		}
		o.now = now
		return nil
	}
}

// WithNamespace is appended to a registry given as a bare host
// (docker.io -> docker.io/NAMESPACE). Default: none.
func WithNamespace(ns string) PlanOption {
	return func(o *planOptions) error {
		o.namespace = strings.Trim(ns, "/")
		return nil
	}
}

// WithArches publishes only these architectures (x86_64, arm64). A
// runtime with another architecture in the store then gets no index or
// plain tag in this run, since it would drop that architecture. Default:
// every architecture.
func WithArches(arches ...string) PlanOption {
	return func(o *planOptions) error {
		o.arches = map[string]bool{}
		for _, a := range arches {
			if a != "x86_64" && a != "arm64" {
				return fmt.Errorf("architecture %q is not one of [x86_64 arm64]", a)
			}
			o.arches[a] = true
		}
		return nil
	}
}

// Plan works out what publishing entries to registries means: one Action
// per repository <registry>/<entry's image>. Registries are repository
// prefixes such as public.ecr.aws/ALIAS or docker.io/USER. It does no I/O.
func Plan(entries []store.Entry, registries []string, opts ...PlanOption) ([]Action, error) {
	o := planOptions{scheme: DefaultTagScheme(), now: time.Now}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	prefixes, err := prefixes(registries, o.namespace)
	if err != nil {
		return nil, err
	}
	groups, err := groupEntries(entries)
	if err != nil {
		return nil, err
	}
	date := o.scheme.date(o.now())
	byRepo := map[string]*Action{}
	var errs []error
	for _, g := range groups {
		gp, err := g.plan(o, date)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, prefix := range prefixes {
			repo := prefix + "/" + g.image
			a := byRepo[repo]
			if a == nil {
				a = &Action{Repository: repo}
				byRepo[repo] = a
			}
			errs = append(errs, a.add(gp))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make([]Action, 0, len(byRepo))
	for _, a := range byRepo {
		a.sort()
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Repository < out[j].Repository })
	return out, nil
}

// prefixes validates and normalises the registry prefixes.
func prefixes(registries []string, namespace string) ([]string, error) {
	if len(registries) == 0 {
		return nil, errors.New("no registry to publish to: give --registry or set defaults.registries in the catalog")
	}
	seen := map[string]bool{}
	var out []string
	var errs []error
	for _, r := range registries {
		p := strings.TrimSuffix(strings.TrimSpace(r), "/")
		if !strings.Contains(p, "/") && namespace != "" {
			p += "/" + namespace
		}
		if _, err := name.NewRepository(p + "/x"); err != nil || p == "" {
			errs = append(errs, fmt.Errorf("registry %q is not a registry host with an optional path (e.g. public.ecr.aws/ALIAS)", r))
			continue
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, errors.Join(errs...)
}

// group is the store entries of one runtime/variant.
type group struct {
	key     string // runtime/variant
	image   string
	tags    []string
	variant string
	def     bool
	entries []store.Entry // sorted by arch
}

func groupEntries(entries []store.Entry) ([]*group, error) {
	byKey := map[string]*group{}
	var errs []error
	for _, e := range entries {
		key := e.Runtime + "/" + e.Variant
		if e.Image == "" || len(e.Tags) == 0 {
			errs = append(errs, fmt.Errorf("%s: the store entry has no %s or %s annotation; rebuild it", e.Name(), store.AnnImage, store.AnnTags))
			continue
		}
		g := byKey[key]
		if g == nil {
			g = &group{key: key, image: e.Image, tags: e.Tags, variant: e.Variant, def: e.Default}
			byKey[key] = g
		} else if g.image != e.Image || strings.Join(g.tags, ",") != strings.Join(e.Tags, ",") || g.def != e.Default {
			errs = append(errs, fmt.Errorf("%s: image %q, tags %v and default %v differ from the other architectures' (%q, %v, %v); rebuild them together",
				e.Name(), e.Image, e.Tags, e.Default, g.image, g.tags, g.def))
			continue
		}
		g.entries = append(g.entries, e)
	}
	out := make([]*group, 0, len(byKey))
	for _, g := range byKey {
		sort.Slice(g.entries, func(i, j int) bool { return archLess(g.entries[i].Arch, g.entries[j].Arch) })
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out, errors.Join(errs...)
}

// groupPlan is what one group contributes to each of its repositories.
type groupPlan struct {
	manifests []Manifest
	tags      []Tag
	notes     []string
}

func (g *group) plan(o planOptions, date string) (groupPlan, error) {
	var gp groupPlan
	var images []Manifest
	for i := range g.entries {
		e := g.entries[i]
		if o.arches != nil && !o.arches[e.Arch] {
			continue
		}
		d := v1.Descriptor{MediaType: e.Descriptor.MediaType, Size: e.Descriptor.Size, Digest: e.Descriptor.Digest, Platform: e.Descriptor.Platform}
		if d.Platform == nil {
			p := e.Ref.Platform()
			d.Platform = &p
		}
		if !d.MediaType.IsImage() {
			return gp, fmt.Errorf("%s: media type %q is not a single-platform image manifest", e.Name(), d.MediaType)
		}
		images = append(images, Manifest{Descriptor: d, Entry: &e, Group: g.key})
	}
	if len(images) == 0 {
		return gp, nil
	}
	if note := g.held(o, images); note != "" {
		gp.notes = append(gp.notes, note)
		return gp, nil
	}
	gp.manifests = images
	variant := ""
	if !g.def {
		variant = "-" + g.variant
	}
	s := o.scheme
	if s.Arch {
		for _, t := range g.tags {
			for _, m := range images {
				gp.tags = append(gp.tags, Tag{Stem: t + variant + "-" + m.Entry.Arch, Group: g.key, Digest: m.Descriptor.Digest})
			}
		}
		if s.Dated {
			for _, m := range images {
				gp.tags = append(gp.tags, Tag{Stem: g.tags[0] + "." + date, Suffix: variant + "-" + m.Entry.Arch, Dated: true, Group: g.key, Digest: m.Descriptor.Digest})
			}
		}
	}
	if !s.Index {
		return gp, nil
	}
	target := images[0]
	if len(images) > 1 {
		idx, err := buildIndex(images)
		if err != nil {
			return gp, fmt.Errorf("%s: building the index: %w", g.key, err)
		}
		gp.manifests = append(gp.manifests, idx)
		target = idx
	}
	for _, t := range g.tags {
		gp.tags = append(gp.tags, Tag{Stem: t + variant, Group: g.key, Digest: target.Descriptor.Digest})
	}
	if s.Dated {
		gp.tags = append(gp.tags, Tag{Stem: g.tags[0] + "." + date, Suffix: variant, Dated: true, Group: g.key, Digest: target.Descriptor.Digest})
	}
	return gp, nil
}

// buildIndex returns the index of images: an OCI image index, or a Docker
// manifest list when every image is a Docker v2 schema 2 manifest.
func buildIndex(images []Manifest) (Manifest, error) {
	mt := types.DockerManifestList
	im := v1.IndexManifest{SchemaVersion: 2}
	for _, m := range images {
		if m.Descriptor.MediaType != types.DockerManifestSchema2 {
			mt = types.OCIImageIndex
		}
		im.Manifests = append(im.Manifests, m.Descriptor)
	}
	im.MediaType = mt
	raw, err := json.Marshal(im)
	if err != nil {
		return Manifest{}, err
	}
	h, size, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return Manifest{}, err
	}
	return Manifest{Descriptor: v1.Descriptor{MediaType: mt, Size: size, Digest: h}, Raw: raw, Group: images[0].Group}, nil
}

// add merges a group's plan into a, checking that no tag is claimed twice.
func (a *Action) add(gp groupPlan) error {
	have := map[Hash]bool{}
	for _, m := range a.Manifests {
		have[m.Descriptor.Digest] = true
	}
	for _, m := range gp.manifests {
		if !have[m.Descriptor.Digest] {
			have[m.Descriptor.Digest] = true
			a.Manifests = append(a.Manifests, m)
		}
	}
	var errs []error
	tags := map[string]Tag{}
	for _, t := range a.Tags {
		tags[t.Name(1)] = t
	}
	for _, t := range gp.tags {
		if _, err := name.NewTag(a.Repository + ":" + t.Name(1)); err != nil {
			errs = append(errs, fmt.Errorf("%s: tag %q: %w", t.Group, t.Name(1), err))
			continue
		}
		if prev, ok := tags[t.Name(1)]; ok {
			if prev.Digest != t.Digest {
				errs = append(errs, fmt.Errorf("%s:%s is claimed by both %s and %s", a.Repository, t.Name(1), prev.Group, t.Group))
			}
			continue
		}
		tags[t.Name(1)] = t
		a.Tags = append(a.Tags, t)
	}
	a.Notes = append(a.Notes, gp.notes...)
	return errors.Join(errs...)
}

// sort orders images before indexes, keeping plan order otherwise.
func (a *Action) sort() {
	sort.SliceStable(a.Manifests, func(i, j int) bool {
		return !a.Manifests[i].IsIndex() && a.Manifests[j].IsIndex()
	})
}
