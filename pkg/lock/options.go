package lock

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/pins"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

type options struct {
	mirrors map[string]string
	remote  []remote.Option
	store   *store.Store
	checker *pins.Checker
	jobs    int
}

// Option configures a Locker.
type Option func(*options) error

// WithMirrors resolves base images through registry mirrors as builds
// pull them (registry host -> mirror host[/path]); default none. The lock
// records the reference as the catalog names it and the digest the mirror
// serves.
func WithMirrors(m map[string]string) Option {
	return func(o *options) error {
		o.mirrors = m
		return nil
	}
}

// WithRemoteOptions replaces the options of registry requests; default
// plan.DefaultRemoteOptions (the shared keychain, retries).
func WithRemoteOptions(opts ...remote.Option) Option {
	return func(o *options) error {
		o.remote = opts
		return nil
	}
}

// WithStore reads the OS packages of the targets' stored images from st;
// default none (the lock then has no os entries).
func WithStore(st *store.Store) Option {
	return func(o *options) error {
		o.store = st
		return nil
	}
}

// WithChecker asks the language package registries through c; default
// pins.NewChecker(nil) (npm, PyPI and Maven Central at their public
// addresses).
func WithChecker(c *pins.Checker) Option {
	return func(o *options) error {
		if c == nil {
			return fmt.Errorf("checker: nil")
		}
		o.checker = c
		return nil
	}
}

// WithJobs bounds the targets resolved at once (default 8, at least 1).
func WithJobs(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("jobs %d: want at least 1", n)
		}
		o.jobs = n
		return nil
	}
}
