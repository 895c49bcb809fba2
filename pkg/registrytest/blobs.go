package registrytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Blobs is a blob store whose blobs belong to repositories: a blob pushed
// to one repository is not visible in another until it is pushed or
// mounted there, as on Docker Hub and ECR (ggcr's own in-memory handler
// shares every blob with every repository).
type Blobs struct {
	mu    sync.Mutex
	data  map[v1.Hash][]byte
	links map[string]map[v1.Hash]bool
}

var (
	_ registry.BlobHandler     = (*Blobs)(nil)
	_ registry.BlobStatHandler = (*Blobs)(nil)
	_ registry.BlobPutHandler  = (*Blobs)(nil)
)

// NewBlobs returns an empty store.
func NewBlobs() *Blobs {
	return &Blobs{data: map[v1.Hash][]byte{}, links: map[string]map[v1.Hash]bool{}}
}

// ggcr's registry names the repository of an upload commit
// (/v2/REPO/blobs/uploads/ID) "REPO/blobs".
func normRepo(repo string) string { return strings.TrimSuffix(repo, "/blobs") }

// Has reports whether repo holds blob h.
func (b *Blobs) Has(repo string, h v1.Hash) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.links[normRepo(repo)][h]
}

// Stat implements registry.BlobStatHandler.
func (b *Blobs) Stat(_ context.Context, repo string, h v1.Hash) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.links[normRepo(repo)][h] {
		return 0, registry.ErrNotFound
	}
	return int64(len(b.data[h])), nil
}

// Get implements registry.BlobHandler.
func (b *Blobs) Get(_ context.Context, repo string, h v1.Hash) (io.ReadCloser, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.links[normRepo(repo)][h] {
		return nil, registry.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b.data[h])), nil
}

// Put implements registry.BlobPutHandler.
func (b *Blobs) Put(_ context.Context, repo string, h v1.Hash, rc io.ReadCloser) error {
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.data[h] = data
	b.link(normRepo(repo), h)
	return nil
}

func (b *Blobs) link(repo string, h v1.Hash) {
	if b.links[repo] == nil {
		b.links[repo] = map[v1.Hash]bool{}
	}
	b.links[repo][h] = true
}

// mount links h into repo if from holds it.
func (b *Blobs) mount(from, repo string, h v1.Hash) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.links[from][h] {
		return false
	}
	b.link(repo, h)
	return true
}

// splitPath returns the repository and the kind ("blobs" or "manifests")
// of a /v2/ request path, and the rest after the kind.
func splitPath(p string) (repo, kind, rest string) {
	p = strings.TrimPrefix(p, "/v2/")
	// The last of the two wins: a repository may be named .../blobs.
	at, k := -1, ""
	for _, kk := range []string{"/blobs/", "/manifests/"} {
		if i := strings.LastIndex(p, kk); i > at {
			at, k = i, kk
		}
	}
	if at <= 0 {
		return "", "", ""
	}
	return p[:at], strings.Trim(k, "/"), p[at+len(k):]
}

// middleware adds cross-repository mounts and refuses image manifests whose
// blobs are missing from the repository.
func (b *Blobs) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		repo, kind, rest := splitPath(r.URL.Path)
		switch {
		case kind == "blobs" && r.Method == http.MethodPost && strings.TrimSuffix(rest, "/") == "uploads":
			q := r.URL.Query()
			if h, err := v1.NewHash(q.Get("mount")); err == nil && q.Get("from") != "" && b.mount(q.Get("from"), repo, h) {
				w.Header().Set("Location", "/v2/"+repo+"/blobs/"+h.String())
				w.Header().Set("Docker-Content-Digest", h.String())
				w.WriteHeader(http.StatusCreated)
				return
			}
		case kind == "manifests" && r.Method == http.MethodPut:
			body, err := io.ReadAll(r.Body)
			if err != nil {
				writeError(w, http.StatusBadRequest, "MANIFEST_INVALID", err.Error())
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if missing := b.missingBlobs(repo, types.MediaType(r.Header.Get("Content-Type")), body); missing != "" {
				writeError(w, http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry: "+missing)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// missingBlobs returns the first blob an image manifest references that
// repo lacks, or "".
func (b *Blobs) missingBlobs(repo string, mt types.MediaType, body []byte) string {
	if !mt.IsImage() {
		return ""
	}
	m, err := v1.ParseManifest(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	for _, d := range append([]v1.Descriptor{m.Config}, m.Layers...) {
		if d.MediaType.IsDistributable() && !b.Has(repo, d.Digest) {
			return d.Digest.String()
		}
	}
	return ""
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]string{{"code": code, "message": msg}},
	})
}

// errorf is writeError with formatting.
func errorf(w http.ResponseWriter, status int, code, format string, args ...any) {
	writeError(w, status, code, fmt.Sprintf(format, args...))
}
