package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
)

// The artifact types of what Attach puts beside an image.
const (
	SBOMArtifactType      = inventory.SPDXMediaType
	ChangelogArtifactType = "application/vnd.lambdaimg.changelog.v1+json"
)

// Referrer is an artifact attached to a published image.
type Referrer struct {
	Repository   string `json:"repository"`
	Subject      Hash   `json:"subject"`
	Digest       Hash   `json:"digest"`
	ArtifactType string `json:"artifactType"`
}

// Attach returns a Publisher that publishes with next and then, for every
// platform image a tag was moved to, attaches an SPDX SBOM and a changelog
// (JSON and Markdown, against the image the tag pointed at before) as OCI
// artifacts whose subject is the image: found through the referrers API,
// or the sha256-<digest> tag on registries without it. The tags keep
// naming the image itself, a single manifest Lambda deploys.
func Attach(next Publisher, r *Remote, l *inventory.Loader) Publisher {
	return attach{next: next, r: r, l: l}
}

type attach struct {
	next Publisher
	r    *Remote
	l    *inventory.Loader
}

var _ Publisher = attach{}

// subject is a newly tagged image and what its tags pointed at before.
type subject struct {
	repo     string
	m        Manifest
	previous string
}

func (a attach) Publish(ctx context.Context, plan []Action) (Result, error) {
	res, err := a.next.Publish(ctx, plan)
	if err != nil {
		return res, err
	}
	var errs []error
	for _, s := range subjects(plan, res) {
		refs, err := a.attach(ctx, s)
		res.Referrers = append(res.Referrers, refs...)
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// subjects returns the platform images of plan that a pushed tag names,
// once per repository.
func subjects(plan []Action, res Result) []subject {
	byDigest := map[string]Manifest{}
	for _, a := range plan {
		for _, m := range a.Manifests {
			if !m.IsIndex() {
				byDigest[a.Repository+"@"+m.Descriptor.Digest.String()] = m
			}
		}
	}
	seen := map[string]int{}
	var out []subject
	for _, ref := range res.Refs {
		key := ref.Repository + "@" + ref.Digest.String()
		m, ok := byDigest[key]
		if ref.Status != Pushed || !ok {
			continue
		}
		if i, dup := seen[key]; dup {
			if out[i].previous == "" {
				out[i].previous = ref.Previous
			}
			continue
		}
		seen[key] = len(out)
		out = append(out, subject{repo: ref.Repository, m: m, previous: ref.Previous})
	}
	return out
}

// attach puts the SBOM and the changelog of one image.
func (a attach) attach(ctx context.Context, s subject) ([]Referrer, error) {
	img, err := a.r.src.Image(*s.m.Entry)
	if err != nil {
		return nil, err
	}
	repo, err := name.NewRepository(s.repo, a.r.nameOptions()...)
	if err != nil {
		return nil, err
	}
	cur, err := inventory.Read(repo.Digest(s.m.Descriptor.Digest.String()).String(), img, s.m.Entry.Descriptor.Annotations)
	if err != nil {
		return nil, err
	}
	old := &inventory.Inventory{Ref: "(none)"}
	if s.previous != "" {
		if old, err = a.l.Load(ctx, repo.Digest(s.previous).String()); err != nil {
			return nil, fmt.Errorf("reading the image %s replaced: %w", s.repo, err)
		}
	}
	created := time.Unix(0, 0)
	if t, err := time.Parse(time.RFC3339, s.m.Entry.Created); err == nil {
		created = t
	}
	sbom, log, err := artifacts(cur, inventory.Diff(old, cur), created, "lambdaimg")
	if err != nil {
		return nil, err
	}
	var out []Referrer
	for _, art := range []v1.Image{sbom, log} {
		ref, err := a.put(ctx, repo, art, s.m.Descriptor)
		if err != nil {
			return out, err
		}
		out = append(out, ref)
	}
	return out, nil
}

// artifacts builds the SBOM and changelog artifacts of an image.
func artifacts(cur *inventory.Inventory, c *inventory.Changelog, created time.Time, tool string) (v1.Image, v1.Image, error) {
	var sbom, js, md bytes.Buffer
	if err := cur.WriteSPDX(&sbom, created, tool); err != nil {
		return nil, nil, err
	}
	if err := c.WriteJSON(&js); err != nil {
		return nil, nil, err
	}
	if err := c.WriteMarkdown(&md); err != nil {
		return nil, nil, err
	}
	s, err := artifact(SBOMArtifactType, created, static.NewLayer(sbom.Bytes(), SBOMArtifactType))
	if err != nil {
		return nil, nil, err
	}
	l, err := artifact(ChangelogArtifactType, created,
		static.NewLayer(js.Bytes(), ChangelogArtifactType), static.NewLayer(md.Bytes(), "text/markdown"))
	return s, l, err
}

// artifact is an OCI manifest whose config media type is the artifact
// type (the OCI 1.1 way that registries without artifactType accept).
func artifact(artifactType string, created time.Time, layers ...v1.Layer) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.MediaType(artifactType))
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, map[string]string{"org.opencontainers.image.created": created.UTC().Format(time.RFC3339)}).(v1.Image), nil
}

// put writes art by digest with subject as its subject.
func (a attach) put(ctx context.Context, repo name.Repository, art v1.Image, subj v1.Descriptor) (Referrer, error) {
	art = mutate.Subject(art, v1.Descriptor{MediaType: subj.MediaType, Digest: subj.Digest, Size: subj.Size}).(v1.Image)
	h, err := art.Digest()
	if err != nil {
		return Referrer{}, err
	}
	cfg, err := art.Manifest()
	if err != nil {
		return Referrer{}, err
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(a.r.keychain),
		remote.WithTransport(a.r.transport), remote.WithUserAgent(a.r.userAgent)}
	if err := remote.Write(repo.Digest(h.String()), art, opts...); err != nil {
		return Referrer{}, fmt.Errorf("attaching %s to %s@%s: %w", cfg.Config.MediaType, repo, subj.Digest, err)
	}
	a.r.logf("%s@%s: attached %s %s", repo, short(subj.Digest), cfg.Config.MediaType, short(h))
	return Referrer{Repository: repo.String(), Subject: subj.Digest, Digest: h, ArtifactType: string(cfg.Config.MediaType)}, nil
}
