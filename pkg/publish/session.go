package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// session publishes the actions of one registry.
type session struct {
	r        *Remote
	registry string
	rt       http.RoundTripper // r.transport, at most r.jobs requests at once
	at       *attacher         // nil: attach nothing

	mu        sync.Mutex
	clients   map[string]*clientGroup
	images    map[Hash]v1.Image
	imgBlobs  map[Hash][]blob
	stats     Stats
	blobs     blobs
	referrers []Referrer
	attachErr []error
	fallback  fallbackProbe
}

// repoState is an action with what the registry already holds.
type repoState struct {
	a       Action
	repo    name.Repository
	mu      sync.Mutex
	present map[Hash]bool
	tags    []tagState
	// listed is the repository's tags at resolve time; nil when the
	// registry did not list them.
	listed map[string]bool
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
		r: r, registry: registry, rt: limiter{next: r.transport, slots: make(chan struct{}, r.jobs)},
		clients: map[string]*clientGroup{}, images: map[Hash]v1.Image{}, imgBlobs: map[Hash][]blob{},
		stats: Stats{Registry: registry},
	}
}

func (s *session) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}

// publish resolves, then pushes every repository at once (see push).
func (s *session) publish(ctx context.Context, actions []Action, dry bool) (Result, error) {
	// Read the store while the registry answers.
	loaded := make(chan error, 1)
	if !dry {
		go func() { loaded <- s.preload(actions) }()
	}
	states, err := s.resolve(ctx, actions)
	if err != nil {
		return Result{}, err
	}
	s.logPlan(states, dry)
	if dry {
		return s.result(states, nil), nil
	}
	if err := <-loaded; err != nil {
		return s.result(states, nil), err
	}
	w := &written{m: map[*tagState]bool{}}
	err = s.push(ctx, states, w)
	res := s.result(states, w.snapshot())
	s.mu.Lock()
	res.Referrers = append(res.Referrers, s.referrers...)
	err = errors.Join(append([]error{err}, s.attachErr...)...)
	s.mu.Unlock()
	sortReferrers(res.Referrers)
	return res, err
}

// written records the tags a run wrote.
type written struct {
	mu sync.Mutex
	m  map[*tagState]bool
}

func (w *written) set(ts *tagState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.m[ts] = true
}

func (w *written) snapshot() map[*tagState]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[*tagState]bool, len(w.m))
	for k, v := range w.m {
		out[k] = v
	}
	return out
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

// preload reads the images of actions and their blobs from the store.
func (s *session) preload(actions []Action) error {
	for _, a := range actions {
		for _, m := range a.Manifests {
			if m.IsIndex() {
				continue
			}
			if _, err := s.blobsOf(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// blobsOf returns the config and distributable layers of image m.
func (s *session) blobsOf(m Manifest) ([]blob, error) {
	h := m.Descriptor.Digest
	s.mu.Lock()
	bs, ok := s.imgBlobs[h]
	s.mu.Unlock()
	if ok {
		return bs, nil
	}
	img, err := s.image(m)
	if err != nil {
		return nil, err
	}
	if bs, err = imageBlobs(img); err != nil {
		return nil, fmt.Errorf("reading %s from the store: %w", m.Entry.Name(), err)
	}
	s.mu.Lock()
	s.imgBlobs[h] = bs
	s.mu.Unlock()
	return bs, nil
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
