package registrytest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// TokenPath is where a registry with bearer auth issues tokens.
const TokenPath = "/token"

// tokens is the set of bearer tokens the token endpoint issued.
type tokens struct {
	mu     sync.Mutex
	issued map[string]bool
	last   string
}

func (t *tokens) issue() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "registrytest-token-" + hex.EncodeToString(b)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.issued == nil {
		t.issued = map[string]bool{}
	}
	t.issued[tok] = true
	t.last = tok
	return tok
}

func (t *tokens) valid(tok string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.issued[tok]
}

// LastToken returns the most recent bearer token the registry issued, so a
// test can check it never leaks into output.
func (r *Registry) LastToken() string {
	r.toks.mu.Lock()
	defer r.toks.mu.Unlock()
	return r.toks.last
}

// auth puts the configured authentication in front of /v2/ and serves the
// token endpoint.
func (r *Registry) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch {
		case r.o.bearerUser != "" && req.URL.Path == TokenPath:
			r.serveToken(w, req)
			return
		case !strings.HasPrefix(req.URL.Path, "/v2"):
		case r.o.basicUser != "":
			u, p, ok := req.BasicAuth()
			if !ok || u != r.o.basicUser || p != r.o.basicPass {
				w.Header().Set("WWW-Authenticate", `Basic realm="registrytest"`)
				writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
				return
			}
		case r.o.bearerUser != "":
			tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
			if !ok || !r.toks.valid(tok) {
				realm := "http://" + req.Host + TokenPath
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`",service="registrytest"`)
				writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
				return
			}
		}
		if repo, _, _ := splitPath(req.URL.Path); repo != "" && r.o.denyRepos[repo] &&
			req.Method != http.MethodGet && req.Method != http.MethodHead {
			errorf(w, http.StatusForbidden, "DENIED", "requested access to %s is denied", repo)
			return
		}
		next.ServeHTTP(w, req)
	})
}

// serveToken issues a token to a client presenting the right user and
// password, as Docker Hub's and ECR Public's token services do.
func (r *Registry) serveToken(w http.ResponseWriter, req *http.Request) {
	u, p, ok := req.BasicAuth()
	if !ok || u != r.o.bearerUser || p != r.o.bearerPass {
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "incorrect username or password")
		return
	}
	tok := r.toks.issue()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "access_token": tok, "expires_in": 300})
}
