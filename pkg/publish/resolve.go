package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxCounter bounds the search for a free dated tag.
const maxCounter = 99

// resolve asks the registry which manifests it holds and where the tags
// point, and picks the counter of each dated tag group. Per repository it
// lists the tags (one request), HEADs only the tags that exist, and then
// only the manifests no existing tag already names; a repository the
// registry does not know holds nothing, and costs no HEAD at all. A
// registry that will not list tags gets a HEAD per tag and manifest.
func (s *session) resolve(ctx context.Context, actions []Action) ([]*repoState, error) {
	states := make([]*repoState, len(actions))
	repos := make([]name.Repository, len(actions))
	for i, a := range actions {
		repo, err := name.NewRepository(a.Repository, s.r.nameOptions()...)
		if err != nil {
			return nil, fmt.Errorf("repository %q: %w", a.Repository, err)
		}
		repos[i] = repo
		states[i] = &repoState{a: a, repo: repo, present: map[Hash]bool{}, tags: make([]tagState, len(a.Tags))}
	}
	if err := s.addRepos(ctx, repos); err != nil {
		return nil, err
	}
	g := newGraph(ctx)
	for _, st := range states {
		g.after(nil, func(ctx context.Context) error { return s.resolveRepo(ctx, st) })
	}
	if err := g.wait(); err != nil {
		return nil, err
	}
	for _, st := range states {
		if n := st.dropOldDated(); n > 0 {
			s.r.logf("%s: %d dated tag(s) not written: their digests are already published and their floating tags point at them", st.repo, n)
		}
	}
	return states, nil
}

// tagLookup answers where tags point, asking the registry only about the
// tags its list holds.
type tagLookup struct {
	s      *session
	repo   name.Repository
	listed map[string]bool // nil: no list, HEAD every tag
	mu     sync.Mutex
	seen   map[Hash]bool // digests some tag points at
}

func (l *tagLookup) head(ctx context.Context, tag string) (*v1.Descriptor, error) {
	if l.listed != nil && !l.listed[tag] {
		return nil, nil
	}
	d, err := l.s.head(ctx, l.repo.Tag(tag))
	if d != nil {
		l.mu.Lock()
		l.seen[d.Digest] = true
		l.mu.Unlock()
	}
	return d, err
}

func (s *session) resolveRepo(ctx context.Context, st *repoState) error {
	listed, unknownRepo, err := s.listTags(ctx, st.repo)
	if err != nil {
		return err
	}
	st.listed = listed
	l := &tagLookup{s: s, repo: st.repo, listed: listed, seen: map[Hash]bool{}}
	g := newGraph(ctx)
	dated := map[string][]int{}
	for j, t := range st.a.Tags {
		st.tags[j] = tagState{Tag: t, name: t.Name(1)}
		if t.Dated {
			dated[t.Group] = append(dated[t.Group], j)
			continue
		}
		g.after(nil, func(ctx context.Context) error {
			d, err := l.head(ctx, t.Name(1))
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
	for grp := range dated {
		groups = append(groups, grp)
	}
	sort.Strings(groups)
	for _, grp := range groups {
		g.after(nil, func(ctx context.Context) error { return s.resolveDated(ctx, l, st.tags, dated[grp]) })
	}
	if err := g.wait(); err != nil {
		return err
	}
	// A manifest a tag points at is there; one in a repository the
	// registry does not know is not; the others are asked about.
	g = newGraph(ctx)
	for _, m := range st.a.Manifests {
		h := m.Descriptor.Digest
		switch {
		case l.seen[h]:
			st.add(h)
		case unknownRepo:
		default:
			g.after(nil, func(ctx context.Context) error {
				d, err := s.head(ctx, st.repo.Digest(h.String()))
				if err != nil {
					return err
				}
				if d != nil {
					st.add(h)
				}
				return nil
			})
		}
	}
	return g.wait()
}

// listTags returns the tags of repo. unknown is true when the registry
// says the repository does not exist (404 NAME_UNKNOWN); tags is nil when
// the registry gave no list (any other answer), so that every tag must be
// looked up. It follows Link headers across pages.
func (s *session) listTags(ctx context.Context, repo name.Repository) (tags map[string]bool, unknown bool, err error) {
	c, err := s.client(ctx, repo)
	if err != nil {
		return nil, false, err
	}
	tags = map[string]bool{}
	next := apiURL(repo, "tags/list")
	for page := 0; next != ""; page++ {
		if page == 100 {
			return nil, false, nil
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, false, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, false, fmt.Errorf("listing the tags of %s: %w", repo, err)
		}
		var list struct {
			Tags []string `json:"tags"`
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			err = json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&list)
		case resp.StatusCode == http.StatusNotFound && page == 0:
			err = transport.CheckError(resp, http.StatusOK)
			resp.Body.Close()
			var terr *transport.Error
			if errors.As(err, &terr) && len(terr.Errors) > 0 && terr.Errors[0].Code == transport.NameUnknownErrorCode {
				return tags, true, nil
			}
			return nil, false, nil
		default:
			resp.Body.Close()
			return nil, false, nil
		}
		resp.Body.Close()
		if err != nil {
			return nil, false, nil
		}
		for _, t := range list.Tags {
			tags[t] = true
		}
		next, err = nextPage(req.URL, resp.Header.Get("Link"))
		if err != nil {
			return nil, false, nil
		}
	}
	return tags, false, nil
}

// nextPage returns the URL of a Link: <...>; rel="next" header, or "".
func nextPage(base *url.URL, link string) (string, error) {
	if link == "" {
		return "", nil
	}
	start, end := strings.Index(link, "<"), strings.Index(link, ">")
	if start < 0 || end < start || !strings.Contains(link[end:], `rel="next"`) {
		return "", nil
	}
	u, err := url.Parse(link[start+1 : end])
	if err != nil {
		return "", err
	}
	return base.ResolveReference(u).String(), nil
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
func (s *session) resolveDated(ctx context.Context, l *tagLookup, tags []tagState, idx []int) error {
	for n := 1; n <= maxCounter; n++ {
		cur := make([]*v1.Descriptor, len(idx))
		ok := true
		for k, j := range idx {
			d, err := l.head(ctx, tags[j].Name(n))
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
	return fmt.Errorf("%s: dated tags %s: every counter up to %d is taken", l.repo, tags[idx[0]].Name(1), maxCounter)
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
