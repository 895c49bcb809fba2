package registrytest

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Faults describes the failures a registry injects. Each request gets at
// most one fault per try, picked with the probabilities below from a
// pseudo-random number derived from Seed, the request's identity (method,
// path with upload ids blanked, digest and mount parameters, body length)
// and how many times that identity was seen. The same requests thus get the
// same faults on every run, whatever order concurrent requests arrive in,
// and no request is faulted more than MaxPerRequest times: a client that
// retries more often than that always gets through.
type Faults struct {
	Seed int64
	// Probabilities in [0, 1], summing to at most 1.
	Error500   float64 // 500 Internal Server Error
	Error503   float64 // 503 Service Unavailable with Retry-After
	TooMany    float64 // 429 Too Many Requests with Retry-After
	Drop       float64 // the connection is closed without a response
	Slow       float64 // the response is delayed by SlowDelay
	RetryAfter string  // the Retry-After value sent with 429 and 503; default "1"
	SlowDelay  time.Duration
	// MaxPerRequest caps the faults one request identity gets; default 2.
	MaxPerRequest int
}

func (f Faults) validate() error {
	sum := 0.0
	for _, p := range []float64{f.Error500, f.Error503, f.TooMany, f.Drop, f.Slow} {
		if p < 0 || p > 1 {
			return fmt.Errorf("registrytest: fault probability %v is not in [0, 1]", p)
		}
		sum += p
	}
	if sum > 1 {
		return fmt.Errorf("registrytest: fault probabilities sum to %v, more than 1", sum)
	}
	if f.MaxPerRequest < 0 || f.SlowDelay < 0 {
		return fmt.Errorf("registrytest: negative MaxPerRequest or SlowDelay")
	}
	return nil
}

// FaultCounts says how many faults of each kind were injected.
type FaultCounts struct {
	Error500, Error503, TooMany, Drop, Slow int
}

type faulter struct {
	f      Faults
	mu     sync.Mutex
	seen   map[string]int
	counts FaultCounts
}

func newFaulter(f Faults) *faulter {
	if f.RetryAfter == "" {
		f.RetryAfter = "1"
	}
	if f.SlowDelay == 0 {
		f.SlowDelay = 2 * time.Millisecond
	}
	if f.MaxPerRequest == 0 {
		f.MaxPerRequest = 2
	}
	return &faulter{f: f, seen: map[string]int{}}
}

var uploadID = regexp.MustCompile(`/blobs/uploads/[^/]+$`)

// identity names a request independently of upload session ids.
func identity(r *http.Request) string {
	q := r.URL.Query()
	return strings.Join([]string{
		r.Method,
		uploadID.ReplaceAllString(r.URL.Path, "/blobs/uploads/*"),
		q.Get("digest"), q.Get("mount"), q.Get("scope"),
		fmt.Sprint(r.ContentLength),
	}, " ")
}

// roll returns a number in [0, 1) for the n-th try of request id.
func (fl *faulter) roll(id string, n int) float64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(fl.f.Seed))
	binary.LittleEndian.PutUint64(b[8:], uint64(n))
	h.Write(b[:])
	h.Write([]byte(id))
	return float64(h.Sum64()>>11) / float64(1<<53)
}

func (fl *faulter) pick(r *http.Request) string {
	id := identity(r)
	fl.mu.Lock()
	defer fl.mu.Unlock()
	n := fl.seen[id]
	if n >= fl.f.MaxPerRequest {
		return ""
	}
	x := fl.roll(id, n)
	for _, c := range []struct {
		p    float64
		name string
		cnt  *int
	}{
		{fl.f.Error500, "500", &fl.counts.Error500},
		{fl.f.Error503, "503", &fl.counts.Error503},
		{fl.f.TooMany, "429", &fl.counts.TooMany},
		{fl.f.Drop, "drop", &fl.counts.Drop},
		{fl.f.Slow, "slow", &fl.counts.Slow},
	} {
		if x < c.p {
			fl.seen[id] = n + 1
			*c.cnt++
			return c.name
		}
		x -= c.p
	}
	return ""
}

func (fl *faulter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch fl.pick(r) {
		case "500":
			writeError(w, http.StatusInternalServerError, "UNKNOWN", "injected fault")
			return
		case "503":
			w.Header().Set("Retry-After", fl.f.RetryAfter)
			writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "injected fault")
			return
		case "429":
			w.Header().Set("Retry-After", fl.f.RetryAfter)
			writeError(w, http.StatusTooManyRequests, "TOOMANYREQUESTS", "injected rate limit")
			return
		case "drop":
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		case "slow":
			time.Sleep(fl.f.SlowDelay)
		}
		next.ServeHTTP(w, r)
	})
}
