package registrytest

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Registry is an in-process registry handler with the behaviour chosen by
// its options.
type Registry struct {
	handler  http.Handler
	blobs    *Blobs
	log      *Log
	requests atomic.Int64
	kinds    kindCounts
	inflight atomic.Int64
	toks     tokens
	faulter  *faulter
	calm     atomic.Bool
	o        options
}

type options struct {
	basicUser, basicPass   string
	bearerUser, bearerPass string
	denyRepos              map[string]bool
	faults                 *Faults
	latency                time.Duration
	hook                   func(n int64, r *http.Request)
	failAfter              int64
	logger                 *log.Logger
	echoStatus             int
	echoWhen               func(*http.Request) bool
}

// Option configures a Registry.
type Option func(*options) error

// WithBasicAuth requires HTTP basic auth with user and password on /v2/.
// Default: no auth.
func WithBasicAuth(user, password string) Option {
	return func(o *options) error {
		if user == "" || password == "" {
			return errors.New("registrytest: basic auth needs a user and a password")
		}
		o.basicUser, o.basicPass = user, password
		return nil
	}
}

// WithBearerAuth requires bearer tokens on /v2/, issued by the registry's
// own token endpoint (/token) to clients presenting user and password with
// HTTP basic auth, as Docker Hub and ECR Public do. Default: no auth.
func WithBearerAuth(user, password string) Option {
	return func(o *options) error {
		if user == "" || password == "" {
			return errors.New("registrytest: bearer auth needs a user and a password")
		}
		o.bearerUser, o.bearerPass = user, password
		return nil
	}
}

// WithDeniedRepos makes every authenticated write to the named repositories
// (e.g. "ns/python") fail with 403 DENIED. Default: none.
func WithDeniedRepos(repos ...string) Option {
	return func(o *options) error {
		if o.denyRepos == nil {
			o.denyRepos = map[string]bool{}
		}
		for _, r := range repos {
			o.denyRepos[r] = true
		}
		return nil
	}
}

// WithFaults injects the faults f describes. Default: none.
func WithFaults(f Faults) Option {
	return func(o *options) error {
		if err := f.validate(); err != nil {
			return err
		}
		o.faults = &f
		return nil
	}
}

// WithLatency delays every request by d before it is handled. Default: 0.
func WithLatency(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("registrytest: negative latency %v", d)
		}
		o.latency = d
		return nil
	}
}

// WithHook calls fn with the 1-based number of every incoming request,
// before anything else handles it. Default: none.
func WithHook(fn func(n int64, r *http.Request)) Option {
	return func(o *options) error {
		o.hook = fn
		return nil
	}
}

// WithFailAfter makes every request after the first n fail with 500, as a
// registry that went away would. Default: never.
func WithFailAfter(n int64) Option {
	return func(o *options) error {
		if n < 0 {
			return fmt.Errorf("registrytest: negative request count %d", n)
		}
		o.failAfter = n
		return nil
	}
}

// WithLogger sends ggcr's registry log to l. Default: discarded.
func WithLogger(l *log.Logger) Option {
	return func(o *options) error {
		o.logger = l
		return nil
	}
}

// New returns a registry handler.
func New(opts ...Option) (*Registry, error) {
	r := &Registry{blobs: NewBlobs(), log: &Log{}}
	for _, opt := range opts {
		if err := opt(&r.o); err != nil {
			return nil, err
		}
	}
	if r.o.basicUser != "" && r.o.bearerUser != "" {
		return nil, errors.New("registrytest: choose basic or bearer auth, not both")
	}
	logger := r.o.logger
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	var h http.Handler = registry.New(registry.Logger(logger), registry.WithBlobHandler(r.blobs))
	h = r.blobs.middleware(h)
	h = r.log.middleware(h)
	if r.o.echoStatus != 0 {
		h = r.echo(h)
	}
	h = r.auth(h)
	if r.o.faults != nil {
		r.faulter = newFaulter(*r.o.faults)
		faulty, calm := r.faulter.middleware(h), h
		h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if r.calm.Load() {
				calm.ServeHTTP(w, req)
				return
			}
			faulty.ServeHTTP(w, req)
		})
	}
	r.handler = h
	return r, nil
}

// ServeHTTP implements http.Handler.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.inflight.Add(1)
	defer r.inflight.Add(-1)
	n := r.requests.Add(1)
	r.kinds.add(Classify(req))
	if r.o.hook != nil {
		r.o.hook(n, req)
	}
	if r.o.latency > 0 {
		time.Sleep(r.o.latency)
	}
	if r.o.failAfter > 0 && n > r.o.failAfter {
		http.Error(w, "registrytest: failing after request "+fmt.Sprint(r.o.failAfter), http.StatusInternalServerError)
		return
	}
	r.handler.ServeHTTP(w, req)
}

// WaitIdle waits until no request is being handled, e.g. after a client
// gave up on requests the registry still finishes (and commits), before a
// test looks at what is there or starts the client again.
func (r *Registry) WaitIdle() {
	for r.inflight.Load() > 0 {
		time.Sleep(time.Millisecond)
	}
}

// Log returns the log of requests that reached the registry (past faults
// and auth).
func (r *Registry) Log() *Log { return r.log }

// StopFaults stops injecting faults, e.g. before a test checks what a
// client left in the registry.
func (r *Registry) StopFaults() { r.calm.Store(true) }

// Faults returns how many faults of each kind were injected so far.
func (r *Registry) Faults() FaultCounts {
	if r.faulter == nil {
		return FaultCounts{}
	}
	r.faulter.mu.Lock()
	defer r.faulter.mu.Unlock()
	return r.faulter.counts
}

// Blobs returns the registry's repository-scoped blob store.
func (r *Registry) Blobs() *Blobs { return r.blobs }

// Requests returns how many requests came in, faulted ones included.
func (r *Registry) Requests() int64 { return r.requests.Load() }

// Server is a Registry listening on 127.0.0.1.
type Server struct {
	*Registry
	// Host is host:port, to put in front of repository names.
	Host string
	srv  *httptest.Server
}

// Start serves a new Registry until the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	r, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &Server{Registry: r, Host: strings.TrimPrefix(srv.URL, "http://"), srv: srv}
}

// URL returns the server's base URL.
func (s *Server) URL() string { return s.srv.URL }
