package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// RetryPolicy says how often and how long the transport retries.
type RetryPolicy struct {
	// Attempts is the most tries of one request, the first included.
	Attempts int
	// Base is the first backoff; each retry doubles it, up to Max.
	Base, Max time.Duration
	// MaxRetryAfter caps the wait a Retry-After header asks for.
	MaxRetryAfter time.Duration
	// Jitter adds up to this fraction of the backoff at random (not to
	// Retry-After waits).
	Jitter float64
}

// DefaultRetryPolicy: 6 tries, backing off 0.5s, 1s, 2s, 4s, 8s (+20%),
// honouring Retry-After up to a minute.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Attempts: 6, Base: 500 * time.Millisecond, Max: 30 * time.Second, MaxRetryAfter: time.Minute, Jitter: 0.2}
}

// TransportOption configures NewRetryTransport.
type TransportOption func(*retryTransport) error

// WithRetryPolicy sets the policy. Default: DefaultRetryPolicy().
func WithRetryPolicy(p RetryPolicy) TransportOption {
	return func(t *retryTransport) error {
		if p.Attempts < 1 || p.Base < 0 || p.Max < 0 || p.MaxRetryAfter < 0 || p.Jitter < 0 {
			return fmt.Errorf("invalid retry policy %+v", p)
		}
		t.policy = p
		return nil
	}
}

// WithSleep replaces the wait between tries; sleep must return early with
// ctx's error when ctx is done. Default: a timer that honours ctx. Tests
// pass a fake that records the waits and returns at once.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) TransportOption {
	return func(t *retryTransport) error {
		if sleep == nil {
			return errors.New("nil sleep")
		}
		t.sleep = sleep
		return nil
	}
}

// WithNow sets the clock Retry-After dates are measured against. Default:
// time.Now.
func WithNow(now func() time.Time) TransportOption {
	return func(t *retryTransport) error {
		if now == nil {
			return errors.New("nil clock")
		}
		t.now = now
		return nil
	}
}

// WithRetryLog receives one line per retry (method, host and path only:
// never headers or query strings, which can carry credentials). Default:
// none.
func WithRetryLog(logf func(format string, args ...any)) TransportOption {
	return func(t *retryTransport) error {
		t.logf = logf
		return nil
	}
}

// NewRetryTransport wraps next (http.DefaultTransport when nil) so that a
// request answered 429, 500, 502, 503 or 504, or whose connection was reset
// or closed, is sent again after a backoff or after what Retry-After asks
// (seconds or an HTTP date, capped). A request with a body is retried only
// when its body can be re-read (req.GetBody).
//
// ggcr's own retries do not honour Retry-After; the Remote publisher turns
// them off and relies on this transport instead. Every Authorization
// header sent is remembered for Scrub (see RecordSecrets).
func NewRetryTransport(next http.RoundTripper, opts ...TransportOption) (http.RoundTripper, error) {
	if next == nil {
		next = http.DefaultTransport
	}
	t := &retryTransport{next: RecordSecrets(next), policy: DefaultRetryPolicy(), sleep: sleepCtx, now: time.Now}
	for _, opt := range opts {
		if err := opt(t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

type retryTransport struct {
	next   http.RoundTripper
	policy RetryPolicy
	sleep  func(context.Context, time.Duration) error
	now    func() time.Time
	logf   func(string, ...any)
}

var _ http.RoundTripper = (*retryTransport)(nil)

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// RoundTrip implements http.RoundTripper.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	rewindable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	r := req
	for attempt := 1; ; attempt++ {
		resp, err := t.next.RoundTrip(r)
		if !rewindable || attempt >= t.policy.Attempts || ctx.Err() != nil {
			return resp, err
		}
		var why string
		switch {
		case err != nil:
			if !transient(err) {
				return resp, err
			}
			why = err.Error()
		case retryStatus(resp.StatusCode):
			why = resp.Status
		default:
			return resp, nil
		}
		wait := t.backoff(attempt, resp)
		if resp != nil {
			// Drain a little so the connection can be reused, then close.
			_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
			resp.Body.Close()
		}
		if t.logf != nil {
			t.logf("retrying %s %s%s (%s), try %d of %d in %v", req.Method, req.URL.Host, req.URL.Path, why, attempt+1, t.policy.Attempts, wait.Round(time.Millisecond))
		}
		if err := t.sleep(ctx, wait); err != nil {
			return nil, err
		}
		r = req.Clone(ctx)
		if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("rewinding the request body: %w", err)
			}
			r.Body = body
		}
	}
}

// backoff returns how long to wait before try attempt+1.
func (t *retryTransport) backoff(attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), t.now()); ok {
			return min(d, t.policy.MaxRetryAfter)
		}
	}
	d := t.policy.Base
	for i := 1; i < attempt && d < t.policy.Max; i++ {
		d *= 2
	}
	d = min(d, t.policy.Max)
	if t.policy.Jitter > 0 {
		d += time.Duration(rand.Float64() * t.policy.Jitter * float64(d))
	}
	return d
}

// retryAfter parses a Retry-After value: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

func retryStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// transient reports whether err is a dropped or reset connection or a
// network timeout, as opposed to a refusal to talk (TLS, certificates) or a
// cancelled context.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var (
		certErr    *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		recHdrErr  tls.RecordHeaderError
		opErr      *net.OpError
		netErr     net.Error
		invalidErr x509.CertificateInvalidError
	)
	if errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) ||
		errors.As(err, &recHdrErr) || errors.As(err, &invalidErr) {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, net.ErrClosed) {
		return true
	}
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	return errors.As(err, &opErr)
}
