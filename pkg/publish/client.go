package publish

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// maxScopes bounds the repositories one client (one token) is for.
const maxScopes = 16

// clientGroup is an authenticated client for some repositories of one
// registry that share credentials: one ping and, with bearer auth, one
// token with push and pull scope on all of them (push: a repository that
// does not exist yet is invisible to a pull-only token on Docker Hub;
// pull on the others: cross-repository mounts).
type clientGroup struct {
	auth   authn.Authenticator
	repos  []name.Repository
	once   sync.Once
	client *http.Client
	err    error
}

// addRepos makes the clients of repos: one per credential, for up to
// maxScopes repositories each. Repositories it does not know later get a
// client of their own.
func (s *session) addRepos(ctx context.Context, repos []name.Repository) error {
	type key struct{ cfg authn.AuthConfig }
	var groups []*clientGroup
	open := map[key]*clientGroup{}
	for _, repo := range repos {
		s.mu.Lock()
		_, known := s.clients[repo.String()]
		s.mu.Unlock()
		if known {
			continue
		}
		auth, err := authn.Resolve(ctx, s.r.keychain, repo)
		if err != nil {
			return fmt.Errorf("finding credentials for %s: %w", repo, err)
		}
		cfg, err := authn.Authorization(ctx, auth)
		if err != nil {
			return fmt.Errorf("finding credentials for %s: %w", repo, err)
		}
		k := key{*cfg}
		g := open[k]
		if g == nil || len(g.repos) >= maxScopes {
			g = &clientGroup{auth: auth}
			open[k] = g
			groups = append(groups, g)
		}
		g.repos = append(g.repos, repo)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range groups {
		for _, repo := range g.repos {
			s.clients[repo.String()] = g
		}
	}
	return nil
}

// client returns the client for repo.
func (s *session) client(ctx context.Context, repo name.Repository) (*http.Client, error) {
	s.mu.Lock()
	g := s.clients[repo.String()]
	s.mu.Unlock()
	if g == nil {
		if err := s.addRepos(ctx, []name.Repository{repo}); err != nil {
			return nil, err
		}
		s.mu.Lock()
		g = s.clients[repo.String()]
		s.mu.Unlock()
	}
	g.once.Do(func() {
		scopes := make([]string, len(g.repos))
		for i, r := range g.repos {
			scopes[i] = r.Scope(transport.PushScope)
		}
		rt, err := transport.NewWithContext(ctx, repo.Registry, g.auth, s.rt, scopes)
		if err != nil {
			g.err = fmt.Errorf("authenticating to %s: %w", repo, err)
			return
		}
		g.client = &http.Client{Transport: rt}
	})
	return g.client, g.err
}

// limiter lets at most cap(slots) requests through at once: --jobs.
type limiter struct {
	next  http.RoundTripper
	slots chan struct{}
}

func (l limiter) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case l.slots <- struct{}{}:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	defer func() { <-l.slots }()
	return l.next.RoundTrip(req)
}

// apiURL returns the URL of /v2/<repo>/<path>.
func apiURL(repo name.Repository, path string) string {
	return fmt.Sprintf("%s://%s/v2/%s/%s", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), strings.TrimPrefix(path, "/"))
}
