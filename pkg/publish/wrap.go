package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Recorder returns a Publisher that publishes with next and then writes
// every published reference (pushed or already in place) to w, one
// repository:tag@digest per line: the --image-refs file.
func Recorder(next Publisher, w io.Writer) Publisher { return recorder{next, w} }

type recorder struct {
	next Publisher
	w    io.Writer
}

var _ Publisher = recorder{}

func (r recorder) Publish(ctx context.Context, plan []Action) (Result, error) {
	res, err := r.next.Publish(ctx, plan)
	for _, ref := range res.Refs {
		if ref.Status == Pushed || ref.Status == Unchanged {
			if _, werr := fmt.Fprintln(r.w, ref.String()); werr != nil {
				return res, errors.Join(err, fmt.Errorf("recording image references: %w", werr))
			}
		}
	}
	return res, err
}

// Checker decides whether an image may be published.
type Checker interface {
	// Check returns an error saying what is wrong with img, or nil.
	Check(ctx context.Context, img v1.Image) error
}

// Verified returns a Publisher that checks every platform image of the
// plan with c before publishing. A runtime/variant with an image that
// fails is left out whole (its other architectures and its index too);
// the rest is published, and the error lists each failure.
func Verified(next Publisher, src Source, c Checker) Publisher {
	return verified{next: next, src: src, c: c}
}

type verified struct {
	next Publisher
	src  Source
	c    Checker
}

var _ Publisher = verified{}

func (v verified) Publish(ctx context.Context, plan []Action) (Result, error) {
	images := map[Hash]Manifest{}
	var order []Hash
	for _, a := range plan {
		for _, m := range a.Manifests {
			if h := m.Descriptor.Digest; !m.IsIndex() && images[h].Entry == nil {
				images[h] = m
				order = append(order, h)
			}
		}
	}
	failed := map[string]error{}
	var mu sync.Mutex
	p := newPool(ctx, runtime.NumCPU())
	for _, h := range order {
		m := images[h]
		p.Go(func(ctx context.Context) error {
			img, err := v.src.Image(*m.Entry)
			if err == nil {
				err = v.c.Check(ctx, img)
			}
			if err != nil {
				mu.Lock()
				defer mu.Unlock()
				failed[m.Group] = errors.Join(failed[m.Group], fmt.Errorf("%s failed verification: %w", m.Entry.Name(), err))
			}
			return ctx.Err()
		})
	}
	if err := p.Wait(); err != nil {
		return Result{}, err
	}
	if len(failed) == 0 {
		return v.next.Publish(ctx, plan)
	}
	groups := make([]string, 0, len(failed))
	for g := range failed {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	var errs []error
	var held Result
	for _, g := range groups {
		errs = append(errs, failed[g])
		held.addNotes(fmt.Sprintf("%s: held back, no tag moved: an image failed verification (every architecture of a runtime variant moves together)", g))
	}
	verr := fmt.Errorf("refusing to publish %d runtime variant(s) (use --no-verify to publish anyway):\n%w", len(groups), errors.Join(errs...))
	rest := withoutGroups(plan, failed)
	if len(rest) == 0 {
		return held, verr
	}
	res, err := v.next.Publish(ctx, rest)
	res.addNotes(held.Notes...)
	return res, errors.Join(verr, err)
}

// withoutGroups drops the manifests and tags of the given groups.
func withoutGroups(plan []Action, drop map[string]error) []Action {
	var out []Action
	for _, a := range plan {
		b := Action{Repository: a.Repository, Notes: a.Notes}
		for _, m := range a.Manifests {
			if _, ok := drop[m.Group]; !ok {
				b.Manifests = append(b.Manifests, m)
			}
		}
		for _, t := range a.Tags {
			if _, ok := drop[t.Group]; !ok {
				b.Tags = append(b.Tags, t)
			}
		}
		if len(b.Manifests) > 0 {
			out = append(out, b)
		}
	}
	return out
}
