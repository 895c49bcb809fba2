package publish

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// session publishes the actions of one registry.
type session struct {
	r        *Remote
	registry string
	rt       http.RoundTripper // r.transport with blob accounting

	pusherOnce sync.Once
	pusher     *remote.Pusher
	pusherErr  error

	mu      sync.Mutex
	clients map[string]*repoClient
	images  map[Hash]v1.Image
	stats   Stats
}

// repoState is an action with what the registry already holds.
type repoState struct {
	a       Action
	repo    name.Repository
	mu      sync.Mutex
	present map[Hash]bool
	tags    []tagState
}

func (st *repoState) has(h Hash) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.present[h]
}

func (st *repoState) add(h Hash) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.present[h] = true
}

// tagState is a tag resolved against the registry.
type tagState struct {
	Tag
	name    string // with the dated counter chosen
	current Hash   // what the tag points at now; zero when absent
	write   bool
}

func (r *Remote) newSession(registry string) *session {
	return &session{
		r: r, registry: registry, rt: observer{r.transport},
		clients: map[string]*repoClient{}, images: map[Hash]v1.Image{},
		stats: Stats{Registry: registry},
	}
}

func (s *session) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}

func (s *session) getPusher() (*remote.Pusher, error) {
	s.pusherOnce.Do(func() {
		s.pusher, s.pusherErr = remote.NewPusher(
			remote.WithAuthFromKeychain(s.r.keychain),
			remote.WithTransport(s.rt),
			remote.WithJobs(s.r.jobs),
			remote.WithUserAgent(s.r.userAgent),
			// Retries belong to the transport, which honours Retry-After.
			remote.WithRetryPredicate(func(error) bool { return false }),
			remote.WithRetryStatusCodes(),
		)
	})
	return s.pusher, s.pusherErr
}

// publish resolves, then uploads blobs, puts platform manifests, indexes
// and finally tags, each step only after the previous one is complete.
func (s *session) publish(ctx context.Context, actions []Action, dry bool) (Result, error) {
	states, err := s.resolve(ctx, actions)
	if err != nil {
		return Result{}, err
	}
	s.logPlan(states, dry)
	if dry {
		return s.result(states, nil), nil
	}
	if err := s.uploadBlobs(ctx, states); err != nil {
		return s.result(nil, nil), err
	}
	if err := s.putManifests(ctx, states, false); err != nil {
		return s.result(nil, nil), err
	}
	if err := s.putManifests(ctx, states, true); err != nil {
		return s.result(nil, nil), err
	}
	// Dated tags first: a run stopped between the two leaves no floating
	// tag on a digest without its dated tag.
	written := map[*tagState]bool{}
	for _, dated := range []bool{true, false} {
		if err := s.putTags(ctx, states, dated, written); err != nil {
			return s.result(states, written), err
		}
	}
	return s.result(states, written), nil
}

// result lists every tag of states: Unchanged when it was in place,
// Pushed when written says so, WouldPush when written is nil (a dry run),
// and nothing for a tag a failed run did not write.
func (s *session) result(states []*repoState, written map[*tagState]bool) Result {
	s.mu.Lock()
	res := Result{Stats: []Stats{s.stats}}
	s.mu.Unlock()
	for _, st := range states {
		byDigest := map[Hash]Manifest{}
		for _, m := range st.a.Manifests {
			byDigest[m.Descriptor.Digest] = m
		}
		for i := range st.tags {
			ts := &st.tags[i]
			m := byDigest[ts.Digest]
			ref := Ref{Repository: st.a.Repository, Tag: ts.name, Digest: ts.Digest, MediaType: m.Descriptor.MediaType, Source: ts.Group}
			if p := m.Descriptor.Platform; p != nil && !m.IsIndex() {
				ref.Platform = p.OS + "/" + p.Architecture
			}
			switch {
			case !ts.write:
				ref.Status = Unchanged
			case written == nil:
				ref.Status = WouldPush
			case written[ts]:
				ref.Status = Pushed
			default:
				continue
			}
			if ts.write && ts.current != (Hash{}) {
				ref.Previous = ts.current.String()
			}
			res.Refs = append(res.Refs, ref)
		}
	}
	return res
}

func (s *session) logPlan(states []*repoState, dry bool) {
	var manifests, present, tags, unchanged int
	for _, st := range states {
		for _, m := range st.a.Manifests {
			manifests++
			if st.has(m.Descriptor.Digest) {
				present++
			}
		}
		for _, t := range st.tags {
			tags++
			if !t.write {
				unchanged++
			}
		}
	}
	s.count(func(st *Stats) { st.ManifestsPresent = present; st.TagsUnchanged = unchanged })
	verb := "pushing"
	if dry {
		verb = "would push"
	}
	s.r.logf("%s: %s %d of %d manifests and %d of %d tags (the rest are in place)",
		s.registry, verb, manifests-present, manifests, tags-unchanged, tags)
}

// image returns the store image of m, checking its digest.
func (s *session) image(m Manifest) (v1.Image, error) {
	h := m.Descriptor.Digest
	s.mu.Lock()
	img, ok := s.images[h]
	s.mu.Unlock()
	if ok {
		return img, nil
	}
	img, err := s.r.src.Image(*m.Entry)
	if err != nil {
		return nil, fmt.Errorf("reading %s from the store: %w", m.Entry.Name(), err)
	}
	got, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("reading %s from the store: %w", m.Entry.Name(), err)
	}
	if got != h {
		return nil, fmt.Errorf("reading %s from the store: manifest digest %s, want %s", m.Entry.Name(), got, h)
	}
	s.mu.Lock()
	s.images[h] = img
	s.mu.Unlock()
	return img, nil
}

// rawManifest is an index built by Plan, ready to put.
type rawManifest struct {
	raw  []byte
	desc v1.Descriptor
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.desc.MediaType, nil }
func (r rawManifest) Digest() (Hash, error)               { return r.desc.Digest, nil }
func (r rawManifest) Size() (int64, error)                { return r.desc.Size, nil }

func (s *session) taggable(m Manifest) (remote.Taggable, error) {
	if m.IsIndex() {
		return rawManifest{raw: m.Raw, desc: m.Descriptor}, nil
	}
	return s.image(m)
}

// putManifests puts the missing image manifests (indexes false) or
// indexes (true) by digest.
func (s *session) putManifests(ctx context.Context, states []*repoState, indexes bool) error {
	p := newPool(ctx, s.r.jobs)
	for _, st := range states {
		for _, m := range st.a.Manifests {
			if m.IsIndex() != indexes || st.has(m.Descriptor.Digest) {
				continue
			}
			p.Go(func(ctx context.Context) error {
				pusher, err := s.getPusher()
				if err != nil {
					return err
				}
				t, err := s.taggable(m)
				if err != nil {
					return err
				}
				ref := st.repo.Digest(m.Descriptor.Digest.String())
				if err := pusher.Put(ctx, ref, t); err != nil {
					return fmt.Errorf("putting manifest %s: %w", ref, err)
				}
				st.add(m.Descriptor.Digest)
				s.count(func(st *Stats) { st.ManifestsPushed++ })
				s.r.logf("%s: put %s %s (%s)", st.repo, kind(m), short(m.Descriptor.Digest), m.Group)
				return nil
			})
		}
	}
	return p.Wait()
}

// putTags points the dated (or the other) tags that need it at their
// manifests, recording each one written in written.
func (s *session) putTags(ctx context.Context, states []*repoState, dated bool, written map[*tagState]bool) error {
	var mu sync.Mutex
	p := newPool(ctx, s.r.jobs)
	for _, st := range states {
		byDigest := map[Hash]Manifest{}
		for _, m := range st.a.Manifests {
			byDigest[m.Descriptor.Digest] = m
		}
		for i := range st.tags {
			ts := &st.tags[i]
			if !ts.write || ts.Dated != dated {
				continue
			}
			p.Go(func(ctx context.Context) error {
				pusher, err := s.getPusher()
				if err != nil {
					return err
				}
				m, ok := byDigest[ts.Digest]
				if !ok {
					return fmt.Errorf("tag %s: no manifest %s in the plan", ts.name, ts.Digest)
				}
				t, err := s.taggable(m)
				if err != nil {
					return err
				}
				if err := pusher.Put(ctx, st.repo.Tag(ts.name), t); err != nil {
					return fmt.Errorf("tagging %s:%s: %w", st.repo, ts.name, err)
				}
				mu.Lock()
				written[ts] = true
				mu.Unlock()
				s.count(func(st *Stats) { st.TagsWritten++ })
				moved := ""
				if ts.current != (Hash{}) {
					moved = " (was " + short(ts.current) + ")"
				}
				s.r.logf("%s:%s -> %s%s", st.repo, ts.name, short(ts.Digest), moved)
				return nil
			})
		}
	}
	return p.Wait()
}

func kind(m Manifest) string {
	if m.IsIndex() {
		return "index"
	}
	return "image " + m.Entry.Arch
}

func short(h Hash) string {
	s := h.String()
	if i := strings.IndexByte(s, ':'); i >= 0 && len(s) > i+13 {
		return s[:i+13]
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
