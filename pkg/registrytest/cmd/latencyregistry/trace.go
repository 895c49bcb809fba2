package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

// tracer records when each request started and ended.
type tracer struct {
	mu    sync.Mutex
	first time.Time
	spans []span
}

type span struct {
	start, end time.Duration
	kind       string
	method     string
	path       string
	status     int
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (t *tracer) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		t.mu.Lock()
		if t.first.IsZero() {
			t.first = start
		}
		first := t.first
		t.mu.Unlock()
		sw := &statusRecorder{ResponseWriter: w}
		kind := registrytest.Classify(r)
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		sp := span{start: start.Sub(first), end: time.Since(first), kind: kind, method: r.Method, path: r.URL.RequestURI(), status: sw.status}
		t.mu.Lock()
		t.spans = append(t.spans, sp)
		t.mu.Unlock()
	})
}

// write writes the spans in the order they started.
func (t *tracer) write(path string) error {
	t.mu.Lock()
	spans := append([]span(nil), t.spans...)
	t.mu.Unlock()
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, s := range spans {
		fmt.Fprintf(w, "%8.1f %8.1f  %-16s %-6s %s %d\n", ms(s.start), ms(s.end), s.kind, s.method, s.path, s.status)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
