package plan

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/internal/memo"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/registry"
)

// resolver asks registries for the current digests of base images, once
// per reference (HEAD) and once per reference and platform (the config
// digest, only for references whose digest moved).
type resolver struct {
	o       options
	puller  *remote.Puller // shares pings and tokens between requests
	mu      sync.Mutex     // guards the plan's reasons
	heads   memo.Map[string, string]
	configs memo.Map[string, string]
}

func newResolver(o options) (*resolver, error) {
	p, err := remote.NewPuller(o.remote...)
	if err != nil {
		return nil, err
	}
	return &resolver{o: o, puller: p}, nil
}

// moved compares the recorded base b with the registry for arch: nil
// when it did not move for arch, else the reason.
func (r *resolver) moved(ctx context.Context, b recorded, arch catalog.Arch) (*Reason, error) {
	ref, err := name.ParseReference(b.Ref)
	if err != nil {
		return nil, fmt.Errorf("base image %s: %w", b.Ref, err)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.Reuse(r.puller)}
	head, err := r.heads.Do(b.Ref, func() (string, error) {
		d, err := remote.Head(ref, opts...)
		if err != nil {
			return "", registry.ScrubError(fmt.Errorf("resolving %s: %w", b.Ref, err))
		}
		return d.Digest.String(), nil
	})
	if err != nil {
		return nil, err
	}
	if head == b.Digest {
		return nil, nil
	}
	// The reference moved; for an index, maybe for another platform only.
	cfg, err := r.configs.Do(b.Ref+" "+string(arch), func() (string, error) {
		return configDigest(ref, arch, opts)
	})
	if err != nil {
		return nil, err
	}
	if cfg == b.Config {
		return nil, nil
	}
	return &Reason{KindBase, fmt.Sprintf("%s %s moved for %s (config %s -> %s)", b.Arg, b.Ref, arch.Platform(), short(b.Config), short(cfg))}, nil
}

// configDigest returns the digest of ref's config for arch: one GET of
// the manifest (index or image), and for an index one more of the
// platform's manifest.
func configDigest(ref name.Reference, arch catalog.Arch, opts []remote.Option) (string, error) {
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return "", registry.ScrubError(fmt.Errorf("fetching %s: %w", ref, err))
	}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return "", err
		}
		m, err := idx.IndexManifest()
		if err != nil {
			return "", err
		}
		want := v1.Platform{OS: "linux", Architecture: arch.GoArch()}
		var found *v1.Descriptor
		for i, d := range m.Manifests {
			if d.Platform != nil && d.Platform.OS == want.OS && d.Platform.Architecture == want.Architecture {
				found = &m.Manifests[i]
				break
			}
		}
		if found == nil {
			return "", fmt.Errorf("%s has no image for %s", ref, arch.Platform())
		}
		if img, err = idx.Image(found.Digest); err != nil {
			return "", registry.ScrubError(fmt.Errorf("fetching %s@%s: %w", ref, found.Digest, err))
		}
	} else if img, err = desc.Image(); err != nil {
		return "", err
	}
	h, err := img.ConfigName()
	if err != nil {
		return "", registry.ScrubError(fmt.Errorf("reading the config of %s for %s: %w", ref, arch.Platform(), err))
	}
	return h.String(), nil
}
