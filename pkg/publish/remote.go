package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/lambdaimg/lambdaimg/pkg/registry"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Remote publishes plans to registries with ggcr.
type Remote struct {
	src       Source
	jobs      int
	keychain  authn.Keychain
	transport http.RoundTripper
	insecure  bool
	userAgent string
	log       io.Writer
	logMu     sync.Mutex
}

var _ Publisher = (*Remote)(nil)

// Option configures a Remote.
type Option func(*Remote) error

// DefaultJobs is how many requests a Remote has in flight per registry
// unless WithJobs says otherwise: pushing is bound by the registry's
// latency, not by bandwidth or CPU.
const DefaultJobs = 16

// WithJobs bounds the concurrent requests per registry. Default:
// DefaultJobs.
func WithJobs(n int) Option {
	return func(r *Remote) error {
		if n < 1 {
			return fmt.Errorf("jobs %d: want at least 1", n)
		}
		r.jobs = n
		return nil
	}
}

// WithKeychain sets where credentials come from. Default: registry.Keychain().
func WithKeychain(kc authn.Keychain) Option {
	return func(r *Remote) error {
		if kc == nil {
			return errors.New("nil keychain")
		}
		r.keychain = kc
		return nil
	}
}

// WithTransport sets the HTTP transport. Retries are the transport's job:
// wrap it with registry.NewRetryTransport. Default: registry.NewRetryTransport over ggcr's
// remote.DefaultTransport with DefaultRetryPolicy.
func WithTransport(t http.RoundTripper) Option {
	return func(r *Remote) error {
		if t == nil {
			return errors.New("nil transport")
		}
		r.transport = t
		return nil
	}
}

// WithInsecure allows plain-HTTP registries. (ggcr already speaks HTTP to
// localhost, 127.0.0.0/8 and private addresses.) Default: HTTPS only.
func WithInsecure(insecure bool) Option {
	return func(r *Remote) error {
		r.insecure = insecure
		return nil
	}
}

// WithUserAgent sets the User-Agent. Default: "lambdaimg".
func WithUserAgent(ua string) Option {
	return func(r *Remote) error {
		r.userAgent = ua
		return nil
	}
}

// WithProgress writes one line per step (blob, manifest, tag, retry) to w.
// Default: none.
func WithProgress(w io.Writer) Option {
	return func(r *Remote) error {
		if w == nil {
			w = io.Discard
		}
		r.log = w
		return nil
	}
}

// New returns a publisher reading images from src.
func New(src Source, opts ...Option) (*Remote, error) {
	if src == nil {
		return nil, errors.New("nil image source")
	}
	r := &Remote{src: src, jobs: DefaultJobs, userAgent: "lambdaimg", log: io.Discard}
	for _, opt := range opts {
		if err := opt(r); err != nil {
			return nil, err
		}
	}
	if r.keychain == nil {
		r.keychain = registry.Keychain()
	}
	// Whatever credentials are used, Scrub must know them.
	r.keychain = registry.RecordingKeychain(r.keychain)
	if r.transport == nil {
		t, err := registry.NewRetryTransport(remote.DefaultTransport, registry.WithRetryLog(r.logf))
		if err != nil {
			return nil, err
		}
		r.transport = t
	}
	r.transport = registry.RecordSecrets(r.transport)
	return r, nil
}

func (r *Remote) logf(format string, args ...any) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	fmt.Fprintln(r.log, registry.Scrub(fmt.Sprintf(format, args...)))
}

func (r *Remote) nameOptions() []name.Option {
	if r.insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// Publish implements Publisher. Registries are published to concurrently
// and independently: one failing does not stop the others.
func (r *Remote) Publish(ctx context.Context, plan []Action) (Result, error) {
	return r.run(ctx, plan, false, nil)
}

// DryRun returns a Publisher that reads the registries as Publish would
// and reports which tags would be written (WouldPush) and which are in
// place (Unchanged), writing nothing.
func DryRun(r *Remote) Publisher { return dryRun{r} }

type dryRun struct{ r *Remote }

var _ Publisher = dryRun{}

func (d dryRun) Publish(ctx context.Context, plan []Action) (Result, error) {
	return d.r.run(ctx, plan, true, nil)
}

func (r *Remote) run(ctx context.Context, plan []Action, dry bool, at *attacher) (Result, error) {
	type regPlan struct {
		registry string
		actions  []Action
	}
	var regs []*regPlan
	byName := map[string]*regPlan{}
	for _, a := range plan {
		repo, err := name.NewRepository(a.Repository, r.nameOptions()...)
		if err != nil {
			return Result{}, fmt.Errorf("repository %q: %w", a.Repository, err)
		}
		key := repo.Registry.Name()
		if byName[key] == nil {
			byName[key] = &regPlan{registry: key}
			regs = append(regs, byName[key])
		}
		byName[key].actions = append(byName[key].actions, a)
	}
	results := make([]Result, len(regs))
	errs := make([]error, len(regs))
	var wg sync.WaitGroup
	for i, rp := range regs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := r.newSession(rp.registry)
			s.at = at
			results[i], errs[i] = s.publish(ctx, rp.actions, dry)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("publishing to %s: %w%s", rp.registry, errs[i], authHint(errs[i], rp.registry))
			}
		}()
	}
	wg.Wait()
	var out Result
	for _, a := range plan {
		out.addNotes(a.Notes...)
	}
	for _, res := range results {
		out.merge(res)
	}
	// A registry's error can repeat the request: never show credentials.
	return out, registry.ScrubError(errors.Join(errs...))
}

// authHint says where credentials come from when a registry refused them.
func authHint(err error, registry string) string {
	var terr *transport.Error
	if !errors.As(err, &terr) || (terr.StatusCode != http.StatusUnauthorized && terr.StatusCode != http.StatusForbidden) {
		return ""
	}
	return fmt.Sprintf(" (credentials for %s come from the docker config: run 'docker login %s', or for Amazon ECR from the AWS credential chain)", registry, registry)
}
