package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/osindex"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/store"
	"golang.org/x/sync/errgroup"
)

// ErrChanged is returned (wrapped) by callers that want an exit status
// for a plan with something to rebuild; see Plan.Err.
var ErrChanged = errors.New("images must be rebuilt")

// Why a target must be rebuilt.
const (
	KindNew    = "new"    // not in the store
	KindInputs = "inputs" // the catalog entry or a template changed
	KindRIC    = "ric"    // the pinned RIC version changed
	KindBase   = "base"   // a base image moved for this platform
	// KindPackage: an installed OS package has a newer version in the
	// index of the image's APT sources.
	KindPackage = "package"
)

// Reason is one reason to rebuild.
type Reason struct {
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// Item is one target on one platform.
type Item struct {
	Target   string `json:"target"` // runtime/variant
	Runtime  string `json:"runtime"`
	Variant  string `json:"variant"`
	Platform string `json:"platform"` // linux/amd64, linux/arm64
	// Runner is the GitHub-hosted runner of the platform's architecture.
	Runner  string   `json:"runner"`
	Rebuild bool     `json:"rebuild"`
	Reasons []Reason `json:"reasons,omitempty"`
}

// Plan is the answer for every selected target and platform, in target
// order.
type Plan struct {
	Items []Item `json:"items"`
}

// Rebuild returns the items that must be rebuilt.
func (p *Plan) Rebuild() []Item {
	var out []Item
	for _, it := range p.Items {
		if it.Rebuild {
			out = append(out, it)
		}
	}
	return out
}

// Err is nil when nothing must be rebuilt, else an error wrapping
// ErrChanged that says how many images.
func (p *Plan) Err() error {
	if n := len(p.Rebuild()); n > 0 {
		return fmt.Errorf("%w: %d of %d", ErrChanged, n, len(p.Items))
	}
	return nil
}

// Runners are the GitHub-hosted runners that build each architecture
// natively.
var Runners = map[catalog.Arch]string{
	catalog.X86_64: "ubuntu-24.04",
	catalog.ARM64:  "ubuntu-24.04-arm",
}

// Planner plans against one store and the registries.
type Planner struct {
	store *store.Store
	tm    *render.Templates
	o     options
}

// New returns a Planner comparing with st; tm renders the targets.
func New(st *store.Store, tm *render.Templates, opts ...Option) (*Planner, error) {
	o, err := defaults()
	if err != nil {
		return nil, err
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.remote == nil {
		if o.remote, err = DefaultRemoteOptions(); err != nil {
			return nil, err
		}
	}
	return &Planner{store: st, tm: tm, o: o}, nil
}

// Plan plans targets. An error means the plan could not be made (a
// registry or a package index did not answer, the store is unreadable): it never stands for
// "nothing changed".
func (p *Planner) Plan(ctx context.Context, targets []catalog.Target) (*Plan, error) {
	entries, err := p.store.List()
	if err != nil {
		return nil, err
	}
	stored := map[string]store.Entry{}
	for _, e := range entries {
		stored[e.Name()] = e
	}
	res, err := newResolver(p.o)
	if err != nil {
		return nil, err
	}
	r := &planRun{res: res, plan: &Plan{}}
	if p.o.index != nil {
		r.index = p.o.index.Session() // this run's index, not an earlier one's
	}
	var errs []error
	for i := range targets {
		t := &targets[i]
		rc, err := p.tm.Render(t, render.Options{Extensions: len(t.ExtensionPaths()) > 0})
		if err != nil {
			errs = append(errs, fmt.Errorf("rendering %s: %w", t.Name(), err))
			continue
		}
		for _, a := range t.Arches {
			p.item(r, t, rc.Digest, a, stored)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	eg, egctx := errgroup.WithContext(ctx)
	eg.SetLimit(p.o.jobs)
	for _, c := range r.checks {
		eg.Go(func() error { return c(egctx) })
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	for i := range r.plan.Items {
		it := &r.plan.Items[i]
		sort.SliceStable(it.Reasons, func(a, b int) bool { return it.Reasons[a].Kind < it.Reasons[b].Kind })
		it.Rebuild = len(it.Reasons) > 0
	}
	return r.plan, nil
}

// planRun is one Plan call: the plan it fills and the checks that ask the
// registries and package indexes, run concurrently once every item is in.
type planRun struct {
	res    *resolver
	index  *osindex.Client
	plan   *Plan
	checks []func(context.Context) error
}

// add appends reasons to item idx; checks call it concurrently.
func (r *planRun) add(idx int, reasons ...Reason) {
	r.res.mu.Lock()
	defer r.res.mu.Unlock()
	r.plan.Items[idx].Reasons = append(r.plan.Items[idx].Reasons, reasons...)
}

// item adds t's item for a with what the store answers at once, and
// queues the checks of its OS packages and base images.
func (p *Planner) item(r *planRun, t *catalog.Target, digest string, a catalog.Arch, stored map[string]store.Entry) {
	r.plan.Items = append(r.plan.Items, Item{Target: t.Name(), Runtime: t.Runtime.ID, Variant: t.Variant,
		Platform: a.Platform(), Runner: Runners[a]})
	idx := len(r.plan.Items) - 1
	e, ok := stored[store.Ref{Runtime: t.Runtime.ID, Variant: t.Variant, Arch: string(a)}.Name()]
	if !ok {
		r.plan.Items[idx].Reasons = []Reason{{KindNew, "not in the store"}}
		return
	}
	r.plan.Items[idx].Reasons = compareInputs(t, digest, e)
	if recordOSes[t.Spec.OS] && r.index != nil {
		r.checks = append(r.checks, func(ctx context.Context) error {
			rs, err := packages(ctx, r.index, e, a)
			r.add(idx, rs...)
			return err
		})
	}
	bases, why := p.bases(t, e)
	if why != nil {
		r.plan.Items[idx].Reasons = append(r.plan.Items[idx].Reasons, *why)
		return
	}
	for _, b := range bases {
		r.checks = append(r.checks, func(ctx context.Context) error {
			reason, err := r.res.moved(ctx, b, a)
			if reason != nil {
				r.add(idx, *reason)
			}
			return err
		})
	}
}

// compareInputs compares the inputs digest and the RIC pin with the
// stored image's.
func compareInputs(t *catalog.Target, digest string, e store.Entry) []Reason {
	var out []Reason
	if e.Inputs != digest {
		out = append(out, Reason{KindInputs, fmt.Sprintf("catalog entry or templates changed (inputs %s -> %s)", short(e.Inputs), short(digest))})
	}
	if t.Spec.OS != catalog.AWS {
		if old, ok := e.Descriptor.Annotations[labels.RIC]; ok && old != t.Spec.RIC {
			out = append(out, Reason{KindRIC, fmt.Sprintf("RIC %s -> %s", orNone(old), orNone(t.Spec.RIC))})
		}
	}
	return out
}

// recorded is a base image as the build recorded it (build.Base).
type recorded struct {
	Arg    string `json:"-"`
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
	Config string `json:"config"`
}

// bases returns the bases to check for e: the recorded ones, with the
// reference they would be pulled from now. A store entry without them
// (built before lambdaimg recorded them) is a reason to rebuild.
func (p *Planner) bases(t *catalog.Target, e store.Entry) ([]recorded, *Reason) {
	raw, ok := e.Descriptor.Annotations[labels.Bases]
	if !ok {
		return nil, &Reason{KindBase, "the stored image does not record its base digests (built by an older lambdaimg)"}
	}
	var m map[string]recorded
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, &Reason{KindBase, fmt.Sprintf("the stored base record is unreadable: %v", err)}
	}
	now := map[string]string{"BASE_IMAGE": t.Spec.Base, "BUILD_IMAGE": t.Spec.BuildBase}
	var out []recorded
	for _, arg := range []string{"BASE_IMAGE", "BUILD_IMAGE"} {
		r, ok := m[arg]
		if !ok || now[arg] == "" {
			continue
		}
		r.Arg, r.Ref = arg, p.o.mirror(now[arg])
		out = append(out, r)
	}
	return out, nil
}

func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return orNone(d)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
