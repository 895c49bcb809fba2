package publish

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxCounter bounds the search for a free dated tag.
const maxCounter = 99

// resolve asks the registry which manifests it holds and where the tags
// point, and picks the counter of each dated tag group.
func (s *session) resolve(ctx context.Context, actions []Action) ([]*repoState, error) {
	states := make([]*repoState, len(actions))
	p := newPool(ctx, s.r.jobs)
	for i, a := range actions {
		repo, err := name.NewRepository(a.Repository, s.r.nameOptions()...)
		if err != nil {
			return nil, fmt.Errorf("repository %q: %w", a.Repository, err)
		}
		st := &repoState{a: a, repo: repo, present: map[Hash]bool{}, tags: make([]tagState, len(a.Tags))}
		states[i] = st
		for _, m := range a.Manifests {
			p.Go(func(ctx context.Context) error {
				d, err := s.head(ctx, repo.Digest(m.Descriptor.Digest.String()))
				if err != nil {
					return err
				}
				if d != nil {
					st.add(m.Descriptor.Digest)
				}
				return nil
			})
		}
		dated := map[string][]int{}
		for j, t := range a.Tags {
			st.tags[j] = tagState{Tag: t, name: t.Name(1)}
			if t.Dated {
				dated[t.Group] = append(dated[t.Group], j)
				continue
			}
			p.Go(func(ctx context.Context) error {
				d, err := s.head(ctx, repo.Tag(t.Name(1)))
				if err != nil {
					return err
				}
				ts := &st.tags[j]
				ts.write = d == nil || d.Digest != t.Digest
				if d != nil {
					ts.current = d.Digest
				}
				return nil
			})
		}
		groups := make([]string, 0, len(dated))
		for g := range dated {
			groups = append(groups, g)
		}
		sort.Strings(groups)
		for _, g := range groups {
			p.Go(func(ctx context.Context) error { return s.resolveDated(ctx, repo, st.tags, dated[g]) })
		}
	}
	if err := p.Wait(); err != nil {
		return nil, err
	}
	for _, st := range states {
		if n := st.dropOldDated(); n > 0 {
			s.r.logf("%s: %d dated tag(s) not written: their digests are already published and their floating tags point at them", st.repo, n)
		}
	}
	return states, nil
}

// dropOldDated keeps dated tags for new digests only: a dated tag that
// would be written for a digest the repository already holds, while every
// floating tag of that digest already points at it (a rerun, or a rebuild
// that gave the same digest on another day), is dropped. It returns how
// many were dropped.
func (st *repoState) dropOldDated() int {
	moves := map[string]bool{}
	for _, t := range st.tags {
		if !t.Dated && t.write {
			moves[t.Group+"@"+t.Digest.String()] = true
		}
	}
	keep := st.tags[:0]
	for _, t := range st.tags {
		if t.Dated && t.write && st.present[t.Digest] && !moves[t.Group+"@"+t.Digest.String()] {
			continue
		}
		keep = append(keep, t)
	}
	n := len(st.tags) - len(keep)
	st.tags = keep
	return n
}

// resolveDated picks the first counter at which every dated tag of a group
// is free or already points at its digest: dated tags never move.
func (s *session) resolveDated(ctx context.Context, repo name.Repository, tags []tagState, idx []int) error {
	for n := 1; n <= maxCounter; n++ {
		cur := make([]*v1.Descriptor, len(idx))
		ok := true
		for k, j := range idx {
			d, err := s.head(ctx, repo.Tag(tags[j].Name(n)))
			if err != nil {
				return err
			}
			if d != nil && d.Digest != tags[j].Digest {
				ok = false
				break
			}
			cur[k] = d
		}
		if !ok {
			continue
		}
		for k, j := range idx {
			tags[j].name = tags[j].Name(n)
			tags[j].write = cur[k] == nil
			if cur[k] != nil {
				tags[j].current = cur[k].Digest
			}
		}
		return nil
	}
	return fmt.Errorf("%s: dated tags %s: every counter up to %d is taken", repo, tags[idx[0]].Name(1), maxCounter)
}

// repoClient is an authenticated client for one repository, with push
// and pull scope (a pull-only token cannot see a repository that does not
// exist yet on Docker Hub).
type repoClient struct {
	once   sync.Once
	client *http.Client
	err    error
}

func (s *session) client(ctx context.Context, repo name.Repository) (*http.Client, error) {
	s.mu.Lock()
	c := s.clients[repo.String()]
	if c == nil {
		c = &repoClient{}
		s.clients[repo.String()] = c
	}
	s.mu.Unlock()
	c.once.Do(func() {
		auth, err := authn.Resolve(ctx, s.r.keychain, repo)
		if err != nil {
			c.err = fmt.Errorf("finding credentials for %s: %w", repo, err)
			return
		}
		rt, err := transport.NewWithContext(ctx, repo.Registry, auth, s.rt, []string{repo.Scope(transport.PushScope)})
		if err != nil {
			c.err = fmt.Errorf("authenticating to %s: %w", repo, err)
			return
		}
		c.client = &http.Client{Transport: rt}
	})
	return c.client, c.err
}

var acceptManifests = strings.Join([]string{
	string(types.OCIManifestSchema1), string(types.OCIImageIndex),
	string(types.DockerManifestSchema2), string(types.DockerManifestList),
	string(types.DockerManifestSchema1), string(types.DockerManifestSchema1Signed),
}, ",")

// head returns the descriptor ref resolves to, or nil when it does not
// exist.
func (s *session) head(ctx context.Context, ref name.Reference) (*v1.Descriptor, error) {
	c, err := s.client(ctx, ref.Context())
	if err != nil {
		return nil, err
	}
	d, err := s.fetch(ctx, c, http.MethodHead, ref)
	if err == nil && d != nil && d.Digest == (Hash{}) {
		// No Docker-Content-Digest on HEAD: hash the manifest.
		d, err = s.fetch(ctx, c, http.MethodGet, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("looking up %s: %w", ref, err)
	}
	return d, nil
}

func (s *session) fetch(ctx context.Context, c *http.Client, method string, ref name.Reference) (*v1.Descriptor, error) {
	repo := ref.Context()
	u := url.URL{Scheme: repo.Scheme(), Host: repo.RegistryStr(), Path: "/v2/" + repo.RepositoryStr() + "/manifests/" + ref.Identifier()}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", acceptManifests)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, err
	}
	d := &v1.Descriptor{MediaType: types.MediaType(resp.Header.Get("Content-Type")), Size: resp.ContentLength}
	if h, err := v1.NewHash(resp.Header.Get("Docker-Content-Digest")); err == nil {
		d.Digest = h
	}
	if method == http.MethodGet {
		h, n, err := v1.SHA256(io.LimitReader(resp.Body, 4<<20))
		if err != nil {
			return nil, err
		}
		d.Digest, d.Size = h, n
	}
	return d, nil
}

// blobStats records, through the request context, what happened to one
// blob upload.
type blobStats struct {
	mu      sync.Mutex
	mounted bool
	sent    bool
	bytes   int64
}

type blobStatsKey struct{}

func (b *blobStats) get() (mounted, sent bool, n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mounted, b.sent, b.bytes
}

// observer fills the blobStats of a request's context from its outcome.
type observer struct{ next http.RoundTripper }

func (o observer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := o.next.RoundTrip(req)
	bs, _ := req.Context().Value(blobStatsKey{}).(*blobStats)
	if bs == nil || err != nil || resp.StatusCode/100 != 2 || !strings.Contains(req.URL.Path, "/blobs/uploads/") {
		return resp, err
	}
	q := req.URL.Query()
	bs.mu.Lock()
	defer bs.mu.Unlock()
	switch {
	case req.Method == http.MethodPost && q.Get("mount") != "" && resp.StatusCode == http.StatusCreated:
		bs.mounted = true
	case req.Method == http.MethodPatch, req.Method == http.MethodPut,
		req.Method == http.MethodPost && q.Get("digest") != "":
		bs.sent = true
		bs.bytes += max(req.ContentLength, 0)
	}
	return resp, err
}
