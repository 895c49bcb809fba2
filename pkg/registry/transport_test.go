package registry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeSleep records the waits instead of sleeping.
type fakeSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.waits = append(f.waits, d)
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fakeSleep) got() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

// step is one scripted response: a status with headers, or a dropped
// connection.
type step struct {
	status int
	header map[string]string
	drop   bool
}

// scripted serves the steps in order, then 200s, recording request bodies.
func scripted(t *testing.T, steps ...step) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var bodies []string
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		i := n
		n++
		mu.Unlock()
		if i >= len(steps) {
			w.WriteHeader(http.StatusOK)
			return
		}
		s := steps[i]
		if s.drop {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
			return
		}
		for k, v := range s.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(s.status)
	}))
	t.Cleanup(srv.Close)
	return srv, &bodies
}

var noJitter = RetryPolicy{Attempts: 5, Base: 100 * time.Millisecond, Max: 250 * time.Millisecond, MaxRetryAfter: 30 * time.Second}

func TestRetryTransport(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		steps      []step
		method     string
		body       string
		noGetBody  bool
		wantStatus int
		wantWaits  []time.Duration
		wantTries  int
	}{
		{
			name:       "429 with Retry-After seconds",
			steps:      []step{{status: 429, header: map[string]string{"Retry-After": "7"}}},
			wantStatus: 200, wantWaits: []time.Duration{7 * time.Second}, wantTries: 2,
		},
		{
			name:       "503 with Retry-After as an HTTP date",
			steps:      []step{{status: 503, header: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}}},
			wantStatus: 200, wantWaits: []time.Duration{30 * time.Second}, wantTries: 2, // capped
		},
		{
			name:       "Retry-After in the past waits nothing",
			steps:      []step{{status: 429, header: map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}}},
			wantStatus: 200, wantWaits: []time.Duration{0}, wantTries: 2,
		},
		{
			name:       "5xx back off exponentially up to the cap",
			steps:      []step{{status: 500}, {status: 502}, {status: 504}},
			wantStatus: 200, wantWaits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond}, wantTries: 4,
		},
		{
			name:       "gives up after the last attempt and returns the response",
			steps:      []step{{status: 503}, {status: 503}, {status: 503}, {status: 503}, {status: 503}},
			wantStatus: 503, wantWaits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond}, wantTries: 5,
		},
		{
			name:   "dropped connection, body sent again",
			steps:  []step{{drop: true}},
			method: http.MethodPut, body: "manifest bytes",
			wantStatus: 200, wantWaits: []time.Duration{100 * time.Millisecond}, wantTries: 2,
		},
		{
			name:   "a body that cannot be re-read is not retried",
			steps:  []step{{status: 503}},
			method: http.MethodPatch, body: "blob bytes", noGetBody: true,
			wantStatus: 503, wantTries: 1,
		},
		{
			name:       "4xx is not retried",
			steps:      []step{{status: 404}},
			wantStatus: 404, wantTries: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, bodies := scripted(t, tc.steps...)
			fs := &fakeSleep{}
			rt, err := NewRetryTransport(http.DefaultTransport, WithRetryPolicy(noJitter), WithSleep(fs.sleep), WithNow(func() time.Time { return now }))
			if err != nil {
				t.Fatal(err)
			}
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(method, srv.URL+"/v2/", body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.noGetBody {
				req.Body = io.NopCloser(bytes.NewReader([]byte(tc.body)))
				req.GetBody = nil
			}
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if diff := cmp.Diff(tc.wantWaits, fs.got()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if len(*bodies) != tc.wantTries {
				t.Errorf("server saw %d requests, want %d", len(*bodies), tc.wantTries)
			}
			if tc.body != "" && len(*bodies) > 0 {
				last := (*bodies)[len(*bodies)-1]
				if tc.steps[0].drop {
					if last != tc.body {
						t.Errorf("last body = %q, want %q", last, tc.body)
					}
				}
			}
		})
	}
}

func TestRetryTransportStopsWhenCancelled(t *testing.T) {
	srv, bodies := scripted(t, step{status: 503}, step{status: 503})
	ctx, cancel := context.WithCancel(context.Background())
	rt, err := NewRetryTransport(nil, WithRetryPolicy(noJitter), WithSleep(func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, err = rt.RoundTrip(req)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if len(*bodies) != 1 {
		t.Errorf("server saw %d requests, want 1", len(*bodies))
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{"Tue, 24 Nov 2026 12:00:10 GMT", 10 * time.Second, true},
	}
	for _, tc := range tests {
		got, ok := retryAfter(tc.in, now)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestRetryPolicyValidation(t *testing.T) {
	if _, err := NewRetryTransport(nil, WithRetryPolicy(RetryPolicy{Attempts: 0})); err == nil {
		t.Error("a policy of 0 attempts was accepted")
	}
}
