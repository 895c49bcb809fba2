package registrytest

import (
	"io"
	"net/http"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Entry is one request that reached the registry.
type Entry struct {
	Method string
	Path   string
	Repo   string
	Kind   string // "blobs", "manifests" or ""
	Ref    string // manifests: the tag or digest
	Digest string // blob commits and mounts: the blob's digest
	Mount  bool   // a POST asking to mount Digest
	Status int
	Bytes  int64 // request body bytes the registry read
}

// Log records the requests that reach the registry.
type Log struct {
	mu      sync.Mutex
	entries []Entry
}

// Entries returns a copy of the log.
func (l *Log) Entries() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Entry(nil), l.entries...)
}

// Reset empties the log.
func (l *Log) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = nil
}

// BlobUploads counts, per blob, the uploads that completed (a 201 to the
// PUT that commits an upload, or to a monolithic POST ?digest=). Mounts
// are not uploads.
func (l *Log) BlobUploads() map[v1.Hash]int {
	out := map[v1.Hash]int{}
	for _, e := range l.Entries() {
		if e.Kind == "blobs" && !e.Mount && e.Digest != "" && e.Status == http.StatusCreated &&
			(e.Method == http.MethodPut || e.Method == http.MethodPost) {
			if h, err := v1.NewHash(e.Digest); err == nil {
				out[h]++
			}
		}
	}
	return out
}

// Mounts counts, per blob, the cross-repository mounts that succeeded.
func (l *Log) Mounts() map[v1.Hash]int {
	out := map[v1.Hash]int{}
	for _, e := range l.Entries() {
		if e.Mount && e.Status == http.StatusCreated {
			if h, err := v1.NewHash(e.Digest); err == nil {
				out[h]++
			}
		}
	}
	return out
}

// BytesUploaded is the request body bytes the registry read for blobs.
func (l *Log) BytesUploaded() int64 {
	var n int64
	for _, e := range l.Entries() {
		if e.Kind == "blobs" {
			n += e.Bytes
		}
	}
	return n
}

// ManifestPuts returns the manifest PUTs that succeeded, in order.
func (l *Log) ManifestPuts() []Entry {
	var out []Entry
	for _, e := range l.Entries() {
		if e.Kind == "manifests" && e.Method == http.MethodPut && e.Status == http.StatusCreated {
			out = append(out, e)
		}
	}
	return out
}

type countingBody struct {
	io.ReadCloser
	n *int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	*c.n += int64(n)
	return n, err
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (l *Log) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := Entry{Method: r.Method, Path: r.URL.Path}
		var rest string
		e.Repo, e.Kind, rest = splitPath(r.URL.Path)
		q := r.URL.Query()
		switch e.Kind {
		case "manifests":
			e.Ref = rest
		case "blobs":
			e.Digest = q.Get("digest")
			if m := q.Get("mount"); m != "" && r.Method == http.MethodPost && strings.HasPrefix(rest, "uploads") {
				e.Digest, e.Mount = m, true
			}
		}
		if r.Body != nil {
			r.Body = countingBody{r.Body, &e.Bytes}
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		e.Status = sw.status
		if e.Status == 0 {
			e.Status = http.StatusOK
		}
		l.mu.Lock()
		l.entries = append(l.entries, e)
		l.mu.Unlock()
	})
}
