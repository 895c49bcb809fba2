package pins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Status is what a registry said about a pin.
type Status string

// The outcomes of a check.
const (
	// Served: the registry serves the pinned version.
	Served Status = "served"
	// Missing: the registry answered, and it does not serve the version.
	Missing Status = "missing"
	// Unchecked: nobody was asked (the registry is out of reach here), or
	// asking failed (Result.Err says why).
	Unchecked Status = "unchecked"
)

// Result is the answer for one pin.
type Result struct {
	Pin    Pin
	Status Status
	// Detail says more: what the registry does serve when the pin is
	// missing, a deprecation or yank, why a pin was not checked.
	Detail string
	// Err is set when a registry this package checks could not be asked
	// (network failure, timeout, an answer it could not read).
	Err error
}

// String is one line for logs: the pin, the status, the detail and the
// targets that use the pin.
func (r Result) String() string {
	s := r.Pin.String() + ": " + string(r.Status)
	if r.Detail != "" {
		s += " (" + r.Detail + ")"
	}
	return s + " used by " + usedBy(r.Pin.UsedBy)
}

// usedBy groups targets by runtime, "nodejs22.x (al2023, debian)", and
// names at most eight runtimes.
func usedBy(targets []string) string {
	const most = 8
	var runtimes []string
	variants := map[string][]string{}
	for _, t := range targets {
		rt, v, _ := strings.Cut(t, "/")
		if _, ok := variants[rt]; !ok {
			runtimes = append(runtimes, rt)
		}
		variants[rt] = append(variants[rt], v)
	}
	var parts []string
	for i, rt := range runtimes {
		if i == most {
			parts = append(parts, fmt.Sprintf("%d more runtimes (%d targets in all)", len(runtimes)-most, len(targets)))
			break
		}
		parts = append(parts, rt+" ("+strings.Join(variants[rt], ", ")+")")
	}
	return strings.Join(parts, ", ")
}

// Checker asks registries whether they serve pins.
type Checker struct {
	client      *http.Client
	endpoints   map[Registry]string
	concurrency int
	timeout     time.Duration
	retryDelay  time.Duration
}

// Option configures a Checker.
type Option func(*Checker) error

// The registries Checker asks: those lambdaimg's CI machine reaches.
var defaultEndpoints = map[Registry]string{
	NPM:          "https://registry.npmjs.org",
	PyPI:         "https://pypi.org",
	MavenCentral: "https://repo1.maven.org/maven2",
}

// WithEndpoint sends the requests for registry r to base instead of its
// public address (https://registry.npmjs.org, https://pypi.org,
// https://repo1.maven.org/maven2). r must be one of NPM, PyPI and
// MavenCentral, base an absolute http or https URL.
func WithEndpoint(r Registry, base string) Option {
	return func(c *Checker) error {
		if _, ok := defaultEndpoints[r]; !ok {
			return fmt.Errorf("endpoint for %q: only npm, pypi and maven-central are checked", r)
		}
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("endpoint for %s: %q is not an absolute http(s) URL", r, base)
		}
		c.endpoints[r] = strings.TrimSuffix(base, "/")
		return nil
	}
}

// WithConcurrency bounds the requests in flight (default 4, at least 1).
func WithConcurrency(n int) Option {
	return func(c *Checker) error {
		if n < 1 {
			return fmt.Errorf("concurrency %d: must be at least 1", n)
		}
		c.concurrency = n
		return nil
	}
}

// WithTimeout bounds each request, body included (default 30s, above 0).
func WithTimeout(d time.Duration) Option {
	return func(c *Checker) error {
		if d <= 0 {
			return fmt.Errorf("timeout %v: must be above 0", d)
		}
		c.timeout = d
		return nil
	}
}

// WithRetryDelay is the wait before the one retry of a request that timed
// out or got a 5xx answer (default 1s, not negative).
func WithRetryDelay(d time.Duration) Option {
	return func(c *Checker) error {
		if d < 0 {
			return fmt.Errorf("retry delay %v: must not be negative", d)
		}
		c.retryDelay = d
		return nil
	}
}

// NewChecker returns a Checker that asks through client (nil means
// http.DefaultClient, which trusts the system's CAs).
func NewChecker(client *http.Client, opts ...Option) (*Checker, error) {
	if client == nil {
		client = http.DefaultClient
	}
	c := &Checker{
		client:      client,
		endpoints:   map[Registry]string{},
		concurrency: 4,
		timeout:     30 * time.Second,
		retryDelay:  time.Second,
	}
	for r, e := range defaultEndpoints {
		c.endpoints[r] = e
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Check asks, one request per pin, whether each pin is served, and returns
// the results in the order of pins. Pins of registries it does not ask come
// back Unchecked without an error.
func (c *Checker) Check(ctx context.Context, pins []Pin) []Result {
	out := make([]Result, len(pins))
	sem := make(chan struct{}, c.concurrency)
	var wg sync.WaitGroup
	for i, p := range pins {
		out[i].Pin = p
		check := c.checkerFor(p.Registry)
		if check == nil {
			out[i].Status = Unchecked
			out[i].Detail = fmt.Sprintf("could not check, %s unreachable from this machine", p.Registry)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				out[i].Status, out[i].Detail, out[i].Err = Unchecked, "not asked: "+ctx.Err().Error(), ctx.Err()
				return
			}
			st, detail, err := check(ctx, p)
			if err != nil {
				st, detail = Unchecked, fmt.Sprintf("could not ask %s: %v", p.Registry, err)
			}
			out[i].Status, out[i].Detail, out[i].Err = st, detail, err
		}()
	}
	wg.Wait()
	return out
}

type checkFunc func(context.Context, Pin) (Status, string, error)

func (c *Checker) checkerFor(r Registry) checkFunc {
	switch r {
	case NPM:
		return c.npm
	case PyPI:
		return c.pypi
	case MavenCentral:
		return c.maven
	}
	return nil
}

// maxBody bounds a registry document; npm's and PyPI's for one package are
// well under it.
const maxBody = 32 << 20

// get fetches address, retrying once after a timeout or a 5xx answer. It
// returns the status and body of 2xx and 4xx answers.
func (c *Checker) get(ctx context.Context, address, accept string) (int, []byte, error) {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(c.retryDelay):
			case <-ctx.Done():
				return 0, nil, ctx.Err()
			}
		}
		var code int
		var body []byte
		code, body, err = c.getOnce(ctx, address, accept)
		switch {
		case err == nil && code >= 500:
			err = fmt.Errorf("GET %s: %s", address, http.StatusText(code))
		case err == nil:
			return code, body, nil
		case ctx.Err() != nil || !isTimeout(err):
			return 0, nil, err
		}
	}
	return 0, nil, fmt.Errorf("%w (after one retry)", err)
}

func (c *Checker) getOnce(ctx context.Context, address, accept string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, address, nil)
	if err != nil {
		return 0, nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("User-Agent", "lambdaimg-pins")
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, fmt.Errorf("GET %s: reading the answer: %w", address, err)
	}
	if len(body) > maxBody {
		return 0, nil, fmt.Errorf("GET %s: answer larger than %d bytes", address, maxBody)
	}
	return resp.StatusCode, body, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// unexpected is the error for an answer that is neither found nor not found.
func unexpected(address string, code int) error {
	return fmt.Errorf("GET %s: unexpected status %d %s", address, code, http.StatusText(code))
}
