package registrytest

import (
	"net/http"
	"sort"
	"strings"
	"sync"
)

// The kinds of request Classify tells apart.
const (
	KindPing           = "ping"            // GET/HEAD /v2/
	KindToken          = "token"           // the bearer token endpoint
	KindHeadManifest   = "HEAD manifest"   // HEAD /v2/REPO/manifests/REF
	KindGetManifest    = "GET manifest"    // GET /v2/REPO/manifests/REF
	KindPutManifest    = "PUT manifest"    // PUT /v2/REPO/manifests/REF
	KindHeadBlob       = "HEAD blob"       // HEAD /v2/REPO/blobs/DIGEST
	KindGetBlob        = "GET blob"        // GET /v2/REPO/blobs/DIGEST
	KindMount          = "POST mount"      // POST /v2/REPO/blobs/uploads/?mount=
	KindPostMonolithic = "POST monolithic" // POST /v2/REPO/blobs/uploads/?digest= with the blob
	KindPostUpload     = "POST upload"     // POST /v2/REPO/blobs/uploads/: opens an upload session
	KindPatchUpload    = "PATCH upload"    // PATCH /v2/REPO/blobs/uploads/ID: a chunk
	KindPutUpload      = "PUT upload"      // PUT /v2/REPO/blobs/uploads/ID?digest=: commits
	KindReferrers      = "GET referrers"   // GET /v2/REPO/referrers/DIGEST
	KindTagsList       = "GET tags"        // GET /v2/REPO/tags/list
	KindOther          = "other"
)

// Classify returns the kind of a registry API request, one of the Kind
// constants.
func Classify(r *http.Request) string {
	p := r.URL.Path
	switch {
	case p == TokenPath:
		return KindToken
	case p == "/v2" || p == "/v2/":
		return KindPing
	case strings.HasPrefix(p, "/v2/") && strings.Contains(p, "/referrers/"):
		return KindReferrers
	case strings.HasPrefix(p, "/v2/") && strings.HasSuffix(p, "/tags/list"):
		return KindTagsList
	}
	_, kind, rest := splitPath(p)
	switch kind {
	case "manifests":
		switch r.Method {
		case http.MethodHead:
			return KindHeadManifest
		case http.MethodGet:
			return KindGetManifest
		case http.MethodPut:
			return KindPutManifest
		}
	case "blobs":
		upload := strings.HasPrefix(rest, "uploads")
		q := r.URL.Query()
		switch {
		case !upload && r.Method == http.MethodHead:
			return KindHeadBlob
		case !upload && r.Method == http.MethodGet:
			return KindGetBlob
		case upload && r.Method == http.MethodPost && q.Get("mount") != "":
			return KindMount
		case upload && r.Method == http.MethodPost && q.Get("digest") != "":
			return KindPostMonolithic
		case upload && r.Method == http.MethodPost:
			return KindPostUpload
		case upload && r.Method == http.MethodPatch:
			return KindPatchUpload
		case upload && r.Method == http.MethodPut:
			return KindPutUpload
		}
	}
	return KindOther
}

// kindCounts counts requests by kind.
type kindCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (k *kindCounts) add(kind string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.n == nil {
		k.n = map[string]int{}
	}
	k.n[kind]++
}

// RequestKinds returns how many requests of each kind (see Classify) came
// in, faulted ones included.
func (r *Registry) RequestKinds() map[string]int {
	r.kinds.mu.Lock()
	defer r.kinds.mu.Unlock()
	out := make(map[string]int, len(r.kinds.n))
	for k, n := range r.kinds.n {
		out[k] = n
	}
	return out
}

// SortedKinds returns the kinds of counts, most requests first.
func SortedKinds(counts map[string]int) []string {
	out := make([]string, 0, len(counts))
	for k := range counts {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if counts[out[i]] != counts[out[j]] {
			return counts[out[i]] > counts[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}
