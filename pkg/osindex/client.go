package osindex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/lambdaimg/lambdaimg/internal/memo"
)

// Client reads package indexes over HTTP, each file once: it remembers
// what it read for its whole life, so each plan or build run takes a
// Session of its own.
type Client struct {
	http    *http.Client
	mirrors []mirror
	limit   int64

	calls memo.Map[string, any]
}

type mirror struct{ from, to string }

// Option configures a Client.
type Option func(*Client) error

// WithHTTPClient sets the HTTP client (default http.DefaultClient, which
// honours $HTTP_PROXY and $HTTPS_PROXY).
func WithHTTPClient(c *http.Client) Option {
	return func(cl *Client) error {
		if c == nil {
			return errors.New("nil HTTP client")
		}
		cl.http = c
		return nil
	}
}

// WithMirrors reads repositories from mirrors: a source whose URI starts
// with a key is read from the value instead
// ("http://deb.debian.org/debian" -> "http://mirror.internal/debian");
// default none. The longest matching key wins.
func WithMirrors(m map[string]string) Option {
	return func(cl *Client) error {
		cl.mirrors = cl.mirrors[:0]
		for from, to := range m {
			if !strings.HasPrefix(to, "http://") && !strings.HasPrefix(to, "https://") {
				return fmt.Errorf("APT mirror %s=%s: want an http:// or https:// URL", from, to)
			}
			cl.mirrors = append(cl.mirrors, mirror{strings.TrimRight(from, "/"), strings.TrimRight(to, "/")})
		}
		sort.Slice(cl.mirrors, func(i, j int) bool { return len(cl.mirrors[i].from) > len(cl.mirrors[j].from) })
		return nil
	}
}

// WithSizeLimit bounds each index file, uncompressed (default 1GiB).
func WithSizeLimit(n int64) Option {
	return func(cl *Client) error {
		if n < 1 {
			return fmt.Errorf("size limit %d: want at least 1 byte", n)
		}
		cl.limit = n
		return nil
	}
}

// New returns a Client.
func New(opts ...Option) (*Client, error) {
	c := &Client{http: http.DefaultClient, limit: 1 << 30}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Session returns a Client with c's settings and nothing read yet: one
// per run, so that a long-lived Client does not answer from an old index.
func (c *Client) Session() *Client {
	return &Client{http: c.http, mirrors: c.mirrors, limit: c.limit}
}

// url is u read through the mirrors.
func (c *Client) url(u string) string {
	for _, m := range c.mirrors {
		if u == m.from || strings.HasPrefix(u, m.from+"/") {
			return m.to + strings.TrimPrefix(u, m.from)
		}
	}
	return u
}

// once runs fn once per key; later callers wait for its result.
func (c *Client) once(key string, fn func() (any, error)) (any, error) {
	return c.calls.Do(key, fn)
}

// errNotFound is a 404 or 410 answer.
var errNotFound = errors.New("not found")

// get fetches u (through the mirrors) and hands its body to read.
func (c *Client) get(ctx context.Context, u string, read func(io.Reader) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(u), nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("reading the package index %s: %w", c.url(u), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return fmt.Errorf("%s: %w", c.url(u), errNotFound)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("reading the package index %s: %s", c.url(u), resp.Status)
	}
	if err := read(io.LimitReader(resp.Body, c.limit)); err != nil {
		return fmt.Errorf("reading the package index %s: %w", c.url(u), err)
	}
	return nil
}
