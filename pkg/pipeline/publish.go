package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/lambdaimg/lambdaimg/pkg/publish"
	"github.com/lambdaimg/lambdaimg/pkg/registry"
	"github.com/lambdaimg/lambdaimg/pkg/store"
	"github.com/lambdaimg/lambdaimg/pkg/verify"
)

// PublishRequest says what to publish from the store, and where.
type PublishRequest struct {
	StoreDir string
	// Registries are where to publish (REGISTRY[/PATH]); Namespace is the
	// path under a bare registry host.
	Registries []string
	Namespace  string
	// Runtimes, Variants and Arches filter the store's images (empty:
	// all); a variant filter also takes its OS family's variants.
	Runtimes, Variants, Arches []string
	// Only, when set, limits the push to these store refs.
	Only map[string]bool
	// Expected names, per runtime/variant, the architectures that must
	// move together (see publish.WithExpected); default: the store's.
	Expected map[string][]string
	// Tags are the kinds of tags to write (default every kind).
	Tags publish.TagScheme
	// Jobs bounds the requests per registry (default publish.DefaultJobs).
	Jobs int
	// ImageRefs, when set, receives the published references.
	ImageRefs io.Writer
	// Insecure allows plain-HTTP registries; DryRun writes nothing;
	// NoVerify publishes images that fail verification; NoAttach leaves
	// out the SBOM and changelog referrers.
	Insecure, DryRun, NoVerify, NoAttach bool
	// UserAgent names lambdaimg to registries.
	UserAgent string
	// Log receives progress (normally stderr).
	Log io.Writer
	Now func() time.Time
}

// ErrNoRegistry is the error of a publish with nowhere to go.
var ErrNoRegistry = errors.New("no registry to publish to (and the catalog sets no defaults.registries)")

// Registries returns where to publish: the given registries, else the
// catalog's defaults, and the namespace for bare registry hosts.
func Registries(c *catalog.Catalog, given []string) ([]string, string, error) {
	regs := given
	if len(regs) == 0 {
		regs = c.Defaults.Registries
	}
	if len(regs) == 0 {
		return nil, "", ErrNoRegistry
	}
	return regs, c.Defaults.Namespace, nil
}

// Publish plans the tags of the selected store images and publishes them,
// verified unless NoVerify.
func Publish(ctx context.Context, req PublishRequest) (publish.Result, error) {
	if req.Log == nil {
		req.Log = io.Discard
	}
	if req.Now == nil {
		req.Now = time.Now
	}
	if req.Tags == (publish.TagScheme{}) {
		req.Tags = publish.DefaultTagScheme()
	}
	entries, err := req.entries()
	if err != nil {
		return publish.Result{}, err
	}
	popts := []publish.PlanOption{publish.WithClock(req.Now), publish.WithTagScheme(req.Tags), publish.WithNamespace(req.Namespace)}
	if len(req.Arches) > 0 {
		popts = append(popts, publish.WithArches(req.Arches...))
	}
	if req.Expected != nil {
		popts = append(popts, publish.WithExpected(req.Expected))
	}
	plan, err := publish.Plan(entries, req.Registries, popts...)
	if err != nil {
		return publish.Result{}, err
	}
	p, err := req.publisher()
	if err != nil {
		return publish.Result{}, err
	}
	return p.Publish(ctx, plan)
}

// entries returns the store's images that the filters select.
func (req *PublishRequest) entries() ([]store.Entry, error) {
	if st, err := os.Stat(req.StoreDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("no image store at %s: build images first", req.StoreDir)
	}
	st, err := store.Open(req.StoreDir)
	if err != nil {
		return nil, err
	}
	if rec := st.Recovered(); rec != nil && req.Log != nil {
		fmt.Fprintln(req.Log, "warning:", rec)
	}
	all, err := st.List()
	if err != nil {
		return nil, err
	}
	var out []store.Entry
	for _, e := range all {
		if req.Only != nil && !req.Only[e.Name()] {
			continue
		}
		if matches(req.Runtimes, e.Runtime, false) && matches(req.Variants, e.Variant, true) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no image in the store at %s matches runtimes %v, variants %v (it holds %d)", req.StoreDir, req.Runtimes, req.Variants, len(all))
	}
	return out, nil
}

// matches reports whether v is in filter (an empty filter takes all).
// With family, a filter entry also takes the variants of its OS family:
// alpine takes alpine3.20, but al2 does not take al2023.
func matches(filter []string, v string, family bool) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		if v == f {
			return true
		}
		if rest, ok := strings.CutPrefix(v, f); family && ok && f != "al2" && rest != "" && strings.ContainsRune("0123456789-._", rune(rest[0])) {
			return true
		}
	}
	return false
}

// publisher wires the publisher: remote (or dry run), recorder, verifier.
func (req *PublishRequest) publisher() (publish.Publisher, error) {
	st, err := store.Open(req.StoreDir)
	if err != nil {
		return nil, err
	}
	progress := &lockedWriter{w: req.Log}
	rt, err := registry.NewRetryTransport(remote.DefaultTransport, registry.WithRetryLog(func(f string, a ...any) {
		fmt.Fprintf(progress, f+"\n", a...)
	}))
	if err != nil {
		return nil, err
	}
	jobs := req.Jobs
	if jobs == 0 {
		jobs = publish.DefaultJobs
	}
	r, err := publish.New(st, publish.WithJobs(jobs), publish.WithInsecure(req.Insecure),
		publish.WithProgress(progress), publish.WithTransport(rt), publish.WithUserAgent(req.UserAgent))
	if err != nil {
		return nil, err
	}
	var p publish.Publisher = r
	if !req.DryRun && !req.NoAttach {
		l, err := inventory.NewLoader(req.Insecure)
		if err != nil {
			return nil, err
		}
		p = publish.Attach(r, l)
	}
	if req.DryRun {
		p = publish.DryRun(r)
	} else if req.ImageRefs != nil {
		p = publish.Recorder(p, req.ImageRefs)
	}
	if !req.NoVerify {
		v, err := verify.New()
		if err != nil {
			return nil, err
		}
		p = publish.Verified(p, st, v)
	}
	return p, nil
}
