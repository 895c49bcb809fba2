package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/publish"
	"github.com/lambdaimg/lambdaimg/pkg/registry"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// RollbackRequest says which runtime variant's floating tags to move back
// to the digests of which day's dated tags, and where.
type RollbackRequest struct {
	Catalog *catalog.Catalog
	Runtime string
	// Variant is the variant name or OS family; "" is the default variant.
	Variant string
	// Date is YYYY.MM.DD or YYYY.MM.DD.N, as the dated tags spell it.
	Date       string
	Registries []string
	Namespace  string
	// Tags are the kinds of floating tags to move (default arch and index).
	Tags      publish.TagScheme
	Insecure  bool
	UserAgent string
	Log       io.Writer
}

// Rollback re-points the floating tags (per architecture and the index)
// of one runtime variant, in every registry, at the digests of the dated
// tags of req.Date. In each registry nothing moves unless every dated tag
// is there.
func Rollback(ctx context.Context, req RollbackRequest) ([]publish.Ref, error) {
	sel := catalog.Selector{Runtimes: []string{req.Runtime}}
	if req.Variant != "" {
		sel.Variants = []string{req.Variant}
	}
	targets, err := req.Catalog.Targets(sel)
	if err != nil {
		return nil, requestErr(FieldSelect, "%w", err)
	}
	if len(targets) != 1 {
		return nil, requestErr(FieldSelect, "%s: %d variants match %q; name one with --os", req.Runtime, len(targets), req.Variant)
	}
	prefixes, err := publish.Prefixes(req.Registries, req.Namespace)
	if err != nil {
		return nil, err
	}
	r, err := req.remote()
	if err != nil {
		return nil, err
	}
	t := targets[0]
	var refs []publish.Ref
	var errs []error
	for _, p := range prefixes {
		got, err := r.Rollback(ctx, req.forTarget(t, p+"/"+t.Image))
		refs = append(refs, got...)
		errs = append(errs, err)
	}
	return refs, registry.ScrubError(errors.Join(errs...))
}

func (req *RollbackRequest) forTarget(t catalog.Target, repo string) publish.RollbackRequest {
	scheme := req.Tags
	if !scheme.Arch && !scheme.Index {
		scheme = publish.DefaultTagScheme()
	}
	out := publish.RollbackRequest{Repository: repo, Group: t.Name(), Tags: t.Runtime.Tags, Date: req.Date, Scheme: scheme}
	if !t.Default {
		out.Variant = t.Variant
	}
	for _, a := range t.Arches {
		out.Arches = append(out.Arches, string(a))
	}
	return out
}

func (req *RollbackRequest) remote() (*publish.Remote, error) {
	log := req.Log
	if log == nil {
		log = io.Discard
	}
	progress := &lockedWriter{w: log}
	rt, err := registry.NewRetryTransport(remote.DefaultTransport, registry.WithRetryLog(func(f string, a ...any) {
		fmt.Fprintf(progress, f+"\n", a...)
	}))
	if err != nil {
		return nil, err
	}
	return publish.New(noImages{}, publish.WithInsecure(req.Insecure), publish.WithProgress(progress),
		publish.WithTransport(rt), publish.WithUserAgent(req.UserAgent))
}

// noImages is the Source of a publisher that only moves tags.
type noImages struct{}

func (noImages) Image(e store.Entry) (v1.Image, error) {
	return nil, fmt.Errorf("%s: a rollback reads no image from the store", e.Name())
}
