package publish

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// push writes what resolve found missing, every step as soon as what it
// needs is in place rather than in phases, so the registry's latency is
// paid along the longest chain only:
//
//   - a platform manifest once its blobs are in the repository (each blob
//     uploaded once, then mounted into the other repositories);
//   - an index once its platform manifests are;
//   - a missing manifest is put by its dated tag when it gets one (that one
//     request creates both), else by digest;
//   - the floating tags of a runtime variant only once all its manifests
//     and dated tags are written: its architectures move together, and
//     never onto a digest without its dated tag;
//   - with Attach, the referrers of an image as soon as it is there,
//     beside the rest.
//
// The first error stops everything that has not started.
func (s *session) push(ctx context.Context, states []*repoState, w *written) error {
	if err := s.homes(states); err != nil {
		return err
	}
	g := newGraph(ctx)
	// The largest uploads first: the transfers overlap the small requests.
	for _, u := range s.uploads(states) {
		g.after(nil, func(ctx context.Context) error { return s.ensure(ctx, u.repo, u.blob) })
	}
	for _, st := range states {
		if err := s.pushRepo(g, st, w); err != nil {
			g.fail(err)
			break
		}
	}
	return g.wait()
}

// homes picks the repository each blob is mounted from: one whose
// manifests in place have it (an interrupted run may have finished one
// repository and not another), else the first of the plan that needs it.
func (s *session) homes(states []*repoState) error {
	missing := false
	for _, st := range states {
		for _, m := range st.a.Manifests {
			missing = missing || !st.has(m.Descriptor.Digest)
		}
	}
	if !missing {
		return nil
	}
	for _, present := range []bool{true, false} {
		for _, st := range states {
			for _, m := range st.a.Manifests {
				if m.IsIndex() || st.has(m.Descriptor.Digest) != present {
					continue
				}
				bs, err := s.blobsOf(m)
				if err != nil {
					return err
				}
				for _, b := range bs {
					s.blobs.setHome(b.digest, st.repo, present)
				}
			}
		}
	}
	return nil
}

type homeUpload struct {
	repo name.Repository
	blob blob
}

// uploads returns each blob the missing manifests need that is not in its
// home repository, largest first after the smallest.
func (s *session) uploads(states []*repoState) []homeUpload {
	var out []homeUpload
	seen := map[Hash]bool{}
	for _, st := range states {
		for _, m := range st.a.Manifests {
			if m.IsIndex() || st.has(m.Descriptor.Digest) {
				continue
			}
			bs, _ := s.blobsOf(m) // read by homes
			for _, b := range bs {
				if seen[b.digest] {
					continue
				}
				seen[b.digest] = true
				if home, ok := s.blobs.pending(b.digest); ok {
					out = append(out, homeUpload{repo: home, blob: b})
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].blob.size > out[j].blob.size })
	// But the smallest first of all: sent in its POST, it tells whether
	// the large ones can be too.
	if n := len(out); n > 1 && out[n-1].blob.size <= smallBlob {
		out = append([]homeUpload{out[n-1]}, out[:n-1]...)
	}
	return out
}

func (s *session) pushRepo(g *graph, st *repoState, w *written) error {
	made := map[Hash]*task{} // nil when the manifest is already there
	dated := map[Hash][]*tagState{}
	for i := range st.tags {
		if ts := &st.tags[i]; ts.Dated && ts.write {
			dated[ts.Digest] = append(dated[ts.Digest], ts)
		}
	}
	groupDeps := map[string][]*task{}
	for _, m := range st.a.Manifests {
		h := m.Descriptor.Digest
		if st.has(h) {
			continue
		}
		var deps []*task
		if m.IsIndex() {
			im, err := v1.ParseIndexManifest(bytes.NewReader(m.Raw))
			if err != nil {
				return fmt.Errorf("%s: index %s: %w", st.repo, h, err)
			}
			for _, c := range im.Manifests {
				deps = append(deps, made[c.Digest])
			}
		}
		var by *tagState
		if d := dated[h]; len(d) > 0 {
			by, dated[h] = d[0], d[1:]
		}
		t := g.after(deps, func(ctx context.Context) error { return s.putManifest(ctx, st, m, by, w) })
		made[h] = t
		groupDeps[m.Group] = append(groupDeps[m.Group], t)
	}
	// The other dated tags of new digests, and those of digests already
	// there.
	byDigest := manifestsByDigest(st.a)
	for i := range st.tags {
		ts := &st.tags[i]
		if !ts.Dated || !ts.write || !contains(dated[ts.Digest], ts) {
			continue
		}
		t := g.after([]*task{made[ts.Digest]}, func(ctx context.Context) error { return s.putTag(ctx, st, byDigest, ts, w) })
		groupDeps[ts.Group] = append(groupDeps[ts.Group], t)
	}
	for i := range st.tags {
		ts := &st.tags[i]
		if ts.Dated || !ts.write {
			continue
		}
		// Once the group is complete its floating tags all move, even if
		// another group fails meanwhile.
		g.all(groupDeps[ts.Group], func(ctx context.Context) error { return s.putTag(ctx, st, byDigest, ts, w) })
	}
	if s.at != nil {
		for _, sub := range st.subjects() {
			g.after([]*task{made[sub.m.Descriptor.Digest]}, func(ctx context.Context) error {
				s.attach(ctx, st, sub)
				return nil
			})
		}
	}
	return nil
}

func contains(list []*tagState, ts *tagState) bool {
	for _, x := range list {
		if x == ts {
			return true
		}
	}
	return false
}

func manifestsByDigest(a Action) map[Hash]Manifest {
	out := map[Hash]Manifest{}
	for _, m := range a.Manifests {
		out[m.Descriptor.Digest] = m
	}
	return out
}

// putManifest puts the blobs of m, then m itself: by the dated tag by when
// there is one, else by digest.
func (s *session) putManifest(ctx context.Context, st *repoState, m Manifest, by *tagState, w *written) error {
	raw, mt, err := s.rawManifest(m)
	if err != nil {
		return err
	}
	if !m.IsIndex() {
		bs, err := s.blobsOf(m)
		if err != nil {
			return err
		}
		g := newGraph(ctx)
		for _, b := range bs {
			g.after(nil, func(ctx context.Context) error { return s.ensure(ctx, st.repo, b) })
		}
		if err := g.wait(); err != nil {
			return err
		}
	}
	var ref name.Reference = st.repo.Digest(m.Descriptor.Digest.String())
	if by != nil {
		ref = st.repo.Tag(by.name)
	}
	if _, err := s.put(ctx, ref, mt, raw); err != nil {
		return fmt.Errorf("putting manifest %s: %w", ref, err)
	}
	st.add(m.Descriptor.Digest)
	s.count(func(st *Stats) { st.ManifestsPushed++ })
	s.r.logf("%s: put %s %s (%s)", st.repo, kind(m), short(m.Descriptor.Digest), m.Group)
	if by != nil {
		s.wrote(st, by, w)
	}
	return nil
}

// putTag points ts at its manifest.
func (s *session) putTag(ctx context.Context, st *repoState, byDigest map[Hash]Manifest, ts *tagState, w *written) error {
	m, ok := byDigest[ts.Digest]
	if !ok {
		return fmt.Errorf("tag %s: no manifest %s in the plan", ts.name, ts.Digest)
	}
	raw, mt, err := s.rawManifest(m)
	if err != nil {
		return err
	}
	if _, err := s.put(ctx, st.repo.Tag(ts.name), mt, raw); err != nil {
		return fmt.Errorf("tagging %s:%s: %w", st.repo, ts.name, err)
	}
	s.wrote(st, ts, w)
	return nil
}

func (s *session) wrote(st *repoState, ts *tagState, w *written) {
	w.set(ts)
	s.count(func(st *Stats) { st.TagsWritten++ })
	moved := ""
	if ts.current != (Hash{}) {
		moved = " (was " + short(ts.current) + ")"
	}
	s.r.logf("%s:%s -> %s%s", st.repo, ts.name, short(ts.Digest), moved)
}

// rawManifest returns the bytes and media type of m.
func (s *session) rawManifest(m Manifest) ([]byte, types.MediaType, error) {
	if m.IsIndex() {
		return m.Raw, m.Descriptor.MediaType, nil
	}
	img, err := s.image(m)
	if err != nil {
		return nil, "", err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return nil, "", fmt.Errorf("reading %s from the store: %w", m.Entry.Name(), err)
	}
	return raw, m.Descriptor.MediaType, nil
}

// put PUTs a manifest and returns the response's headers.
func (s *session) put(ctx context.Context, ref name.Reference, mt types.MediaType, raw []byte) (http.Header, error) {
	repo := ref.Context()
	c, err := s.client(ctx, repo)
	if err != nil {
		return nil, err
	}
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	body, _ := open()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, apiURL(repo, "manifests/"+ref.Identifier()), body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = int64(len(raw))
	req.GetBody = open
	req.Header.Set("Content-Type", string(mt))
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK, http.StatusCreated, http.StatusAccepted); err != nil {
		return nil, err
	}
	return resp.Header, nil
}
