package plan

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/osindex"
	"github.com/lambdaimg/lambdaimg/pkg/registry"
)

type options struct {
	mirrors map[string]string
	remote  []remote.Option
	jobs    int
	index   *osindex.Client // nil: OS packages are not checked
}

func defaults() (options, error) {
	idx, err := osindex.New()
	return options{jobs: 16, index: idx}, err
}

// mirror rewrites ref through the registry mirrors; a reference Mirror
// cannot parse is left as it is, and fails when it is resolved.
func (o options) mirror(ref string) string {
	if m, err := o.mirrorErr(ref); err == nil {
		return m
	}
	return ref
}

func (o options) mirrorErr(ref string) (string, error) { return build.Mirror(ref, o.mirrors) }

// Option configures a Planner.
type Option func(*options) error

// WithMirrors redirects base-image registries as builds do (registry host
// -> mirror host[/path]); default none.
func WithMirrors(m map[string]string) Option {
	return func(o *options) error {
		o.mirrors = m
		return nil
	}
}

// WithRemoteOptions replaces the options of registry requests. The
// default authenticates with registry.Keychain and retries through
// registry.NewRetryTransport; see DefaultRemoteOptions.
func WithRemoteOptions(opts ...remote.Option) Option {
	return func(o *options) error {
		o.remote = opts
		return nil
	}
}

// WithOSIndex reads APT package indexes with c (for its mirrors or HTTP
// client); nil leaves OS packages unchecked. Default: osindex.New(),
// every source read from where the stored image's sources say.
func WithOSIndex(c *osindex.Client) Option {
	return func(o *options) error {
		o.index = c
		return nil
	}
}

// WithJobs bounds the registry requests in flight (default 16).
func WithJobs(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("jobs %d: want at least 1", n)
		}
		o.jobs = n
		return nil
	}
}

// DefaultRemoteOptions are lambdaimg's registry client options: the
// shared keychain and the retrying transport.
func DefaultRemoteOptions() ([]remote.Option, error) {
	tr, err := registry.NewRetryTransport(remote.DefaultTransport)
	if err != nil {
		return nil, err
	}
	return []remote.Option{remote.WithAuthFromKeychain(registry.Keychain()), remote.WithTransport(tr)}, nil
}
