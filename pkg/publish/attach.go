package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
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

// Attach returns a Publisher that publishes with r and, for every platform
// image a tag moves to, attaches an SPDX SBOM and a changelog (JSON and
// Markdown, against the image the tag pointed at before) as OCI artifacts
// whose subject is the image: found through the referrers API, or the
// sha256-<digest> tag on registries without it. The tags keep naming the
// image itself, a single manifest Lambda deploys.
//
// The artifacts of an image are put as soon as the image is in the
// registry, beside the rest of the push and within the same bound on
// concurrent requests: per image its few small blobs (each in one request
// where the registry takes single-POST uploads) and two manifests, plus
// the fallback tag's GET and PUT. An error attaching does not stop the
// push; it is returned with the result.
func Attach(r *Remote, l *inventory.Loader) Publisher {
	return attach{r: r, at: &attacher{l: l, tool: "lambdaimg"}}
}

type attach struct {
	r  *Remote
	at *attacher
}

var _ Publisher = attach{}

func (a attach) Publish(ctx context.Context, plan []Action) (Result, error) {
	return a.r.run(ctx, plan, false, a.at)
}

// attacher builds the artifacts of an image.
type attacher struct {
	l    *inventory.Loader
	tool string
}

// subject is a newly tagged image and what its tags pointed at before.
type subject struct {
	m        Manifest
	previous Hash
}

// subjects returns the platform images a tag of st moves to.
func (st *repoState) subjects() []subject {
	byDigest := manifestsByDigest(st.a)
	seen := map[Hash]int{}
	var out []subject
	for _, ts := range st.tags {
		m, ok := byDigest[ts.Digest]
		if !ts.write || !ok || m.IsIndex() {
			continue
		}
		if i, dup := seen[ts.Digest]; dup {
			if out[i].previous == (Hash{}) {
				out[i].previous = ts.current
			}
			continue
		}
		seen[ts.Digest] = len(out)
		out = append(out, subject{m: m, previous: ts.current})
	}
	return out
}

// attach puts the SBOM and the changelog of one image, recording what it
// did in the session.
func (s *session) attach(ctx context.Context, st *repoState, sub subject) {
	repo := st.repo
	refs, err := s.attachOne(ctx, st, sub)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.referrers = append(s.referrers, refs...)
	if err != nil {
		s.attachErr = append(s.attachErr, fmt.Errorf("attaching to %s@%s: %w", repo, sub.m.Descriptor.Digest, err))
	}
}

func (s *session) attachOne(ctx context.Context, st *repoState, sub subject) ([]Referrer, error) {
	repo := st.repo
	img, err := s.image(sub.m)
	if err != nil {
		return nil, err
	}
	cur, err := inventory.Read(repo.Digest(sub.m.Descriptor.Digest.String()).String(), img, sub.m.Entry.Descriptor.Annotations)
	if err != nil {
		return nil, err
	}
	old := &inventory.Inventory{Ref: "(none)"}
	if sub.previous != (Hash{}) {
		if old, err = s.at.l.Load(ctx, repo.Digest(sub.previous.String()).String()); err != nil {
			return nil, fmt.Errorf("reading the image it replaced: %w", err)
		}
	}
	created := time.Unix(0, 0)
	if t, err := time.Parse(time.RFC3339, sub.m.Entry.Created); err == nil {
		created = t
	}
	subj := v1.Descriptor{MediaType: sub.m.Descriptor.MediaType, Digest: sub.m.Descriptor.Digest, Size: sub.m.Descriptor.Size}
	arts, err := artifacts(cur, inventory.Diff(old, cur), created, s.at.tool, subj)
	if err != nil {
		return nil, err
	}
	var (
		mu     sync.Mutex
		out    []Referrer
		viaAPI = true
	)
	g := newGraph(ctx)
	for _, art := range arts {
		g.after(nil, func(ctx context.Context) error {
			api, err := s.putArtifact(ctx, repo, art)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			viaAPI = viaAPI && api
			out = append(out, Referrer{Repository: repo.String(), Subject: subj.Digest, Digest: art.desc.Digest, ArtifactType: art.desc.ArtifactType})
			return nil
		})
	}
	if err := g.wait(); err != nil {
		return nil, err
	}
	if !viaAPI {
		if err := s.updateFallback(ctx, st, subj.Digest, arts); err != nil {
			return nil, err
		}
	}
	sortReferrers(out)
	for _, ref := range out {
		s.r.logf("%s@%s: attached %s %s", repo, short(subj.Digest), ref.ArtifactType, short(ref.Digest))
	}
	return out, nil
}

// artifactManifest is an artifact ready to put.
type artifactManifest struct {
	raw   []byte
	desc  v1.Descriptor // with ArtifactType and the annotations
	blobs []blob
}

// emptyJSON is the config of every artifact (OCI's empty descriptor
// content): one blob per repository for all of them.
var emptyJSON = []byte("{}")

// artifacts builds the SBOM and changelog artifacts of an image.
func artifacts(cur *inventory.Inventory, c *inventory.Changelog, created time.Time, tool string, subj v1.Descriptor) ([]artifactManifest, error) {
	var sbom, js, md bytes.Buffer
	if err := cur.WriteSPDX(&sbom, created, tool); err != nil {
		return nil, err
	}
	if err := c.WriteJSON(&js); err != nil {
		return nil, err
	}
	if err := c.WriteMarkdown(&md); err != nil {
		return nil, err
	}
	s, err := artifact(SBOMArtifactType, created, subj, layerData{SBOMArtifactType, sbom.Bytes()})
	if err != nil {
		return nil, err
	}
	l, err := artifact(ChangelogArtifactType, created, subj,
		layerData{ChangelogArtifactType, js.Bytes()}, layerData{"text/markdown", md.Bytes()})
	if err != nil {
		return nil, err
	}
	return []artifactManifest{s, l}, nil
}

type layerData struct {
	mediaType types.MediaType
	data      []byte
}

// artifact is an OCI manifest whose config media type is the artifact
// type (the OCI 1.1 way that registries without artifactType accept) and
// whose config is {}.
func artifact(artifactType types.MediaType, created time.Time, subj v1.Descriptor, layers ...layerData) (artifactManifest, error) {
	cfg := bytesBlob(emptyJSON)
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: artifactType, Digest: cfg.digest, Size: cfg.size},
		Annotations:   map[string]string{"org.opencontainers.image.created": created.UTC().Format(time.RFC3339)},
		Subject:       &subj,
	}
	blobs := []blob{cfg}
	for _, l := range layers {
		b := bytesBlob(l.data)
		blobs = append(blobs, b)
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: l.mediaType, Digest: b.digest, Size: b.size})
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return artifactManifest{}, err
	}
	h, n, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return artifactManifest{}, err
	}
	return artifactManifest{raw: raw, blobs: blobs, desc: v1.Descriptor{
		MediaType: types.OCIManifestSchema1, Digest: h, Size: n, ArtifactType: string(artifactType), Annotations: m.Annotations,
	}}, nil
}

// putArtifact puts the blobs and the manifest of art by digest, and
// reports whether the registry indexed its subject (the referrers API).
func (s *session) putArtifact(ctx context.Context, repo name.Repository, art artifactManifest) (bool, error) {
	g := newGraph(ctx)
	for _, b := range art.blobs {
		g.after(nil, func(ctx context.Context) error { return s.ensure(ctx, repo, b) })
	}
	if err := g.wait(); err != nil {
		return false, err
	}
	hdr, err := s.put(ctx, repo.Digest(art.desc.Digest.String()), art.desc.MediaType, art.raw)
	if err != nil {
		return false, err
	}
	if hdr.Get("OCI-Subject") != "" {
		return true, nil
	}
	return s.fallback.supported(ctx, s, repo)
}

// fallbackProbe asks a registry once whether it serves the referrers API.
type fallbackProbe struct {
	once sync.Once
	api  bool
	err  error
}

func (p *fallbackProbe) supported(ctx context.Context, s *session, repo name.Repository) (bool, error) {
	p.once.Do(func() {
		c, err := s.client(ctx, repo)
		if err != nil {
			p.err = err
			return
		}
		// Any digest will do: a registry with the API answers 200 (an
		// empty index), one without 404 or 400.
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL(repo, "referrers/"+bytesBlob(emptyJSON).digest.String()), nil)
		if err != nil {
			p.err = err
			return
		}
		req.Header.Set("Accept", string(types.OCIImageIndex))
		resp, err := c.Do(req)
		if err != nil {
			p.err = err
			return
		}
		defer resp.Body.Close()
		p.err = transport.CheckError(resp, http.StatusOK, http.StatusNotFound, http.StatusBadRequest)
		p.api = resp.StatusCode == http.StatusOK && strings.Contains(resp.Header.Get("Content-Type"), string(types.OCIImageIndex))
	})
	return p.api, p.err
}

// updateFallback adds arts to the index tagged sha256-<subject>, as
// registries without the referrers API need; it is read first only if the
// repository's tag list had it (or there was no list).
func (s *session) updateFallback(ctx context.Context, st *repoState, subj Hash, arts []artifactManifest) error {
	repo := st.repo
	tag := repo.Tag(strings.Replace(subj.String(), ":", "-", 1))
	im := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	if st.listed == nil || st.listed[tag.TagStr()] {
		if err := s.readFallback(ctx, tag, &im); err != nil {
			return err
		}
	}
	added := false
	for _, art := range arts {
		if !hasDigest(im.Manifests, art.desc.Digest) {
			im.Manifests = append(im.Manifests, art.desc)
			added = true
		}
	}
	if !added {
		return nil
	}
	sort.Slice(im.Manifests, func(i, j int) bool { return im.Manifests[i].Digest.String() < im.Manifests[j].Digest.String() })
	raw, err := json.Marshal(im)
	if err != nil {
		return err
	}
	_, err = s.put(ctx, tag, types.OCIImageIndex, raw)
	return err
}

// readFallback reads the fallback index tag into im, if it exists.
func (s *session) readFallback(ctx context.Context, tag name.Tag, im *v1.IndexManifest) error {
	c, err := s.client(ctx, tag.Context())
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL(tag.Context(), "manifests/"+tag.TagStr()), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", string(types.OCIImageIndex))
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK, http.StatusNotFound); err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(im); err != nil {
		return fmt.Errorf("reading %s: %w", tag, err)
	}
	if im.SchemaVersion != 2 || im.MediaType != types.OCIImageIndex {
		return fmt.Errorf("%s is not an OCI image index", tag)
	}
	return nil
}

func hasDigest(list []v1.Descriptor, h Hash) bool {
	for _, d := range list {
		if d.Digest == h {
			return true
		}
	}
	return false
}

// sortReferrers orders referrers by repository and subject, the SBOM
// before the changelog.
func sortReferrers(refs []Referrer) {
	rank := func(t string) int {
		if t == SBOMArtifactType {
			return 0
		}
		return 1
	}
	sort.SliceStable(refs, func(i, j int) bool {
		a, b := refs[i], refs[j]
		if a.Repository != b.Repository {
			return a.Repository < b.Repository
		}
		if a.Subject != b.Subject {
			return a.Subject.String() < b.Subject.String()
		}
		return rank(a.ArtifactType) < rank(b.ArtifactType)
	})
}
