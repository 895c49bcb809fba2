package lock

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/internal/memo"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/registry"
)

// resolver asks registries for base image digests: one HEAD per
// reference, and one GET of the manifest per reference and digest, only
// when the previous lock does not already hold the platforms of that
// digest.
type resolver struct {
	mirrors map[string]string
	opts    []remote.Option
	calls   memo.Map[string, any]
}

func newResolver(mirrors map[string]string, opts []remote.Option) (*resolver, error) {
	p, err := remote.NewPuller(opts...)
	if err != nil {
		return nil, err
	}
	return &resolver{mirrors: mirrors, opts: append(opts[:len(opts):len(opts)], remote.Reuse(p))}, nil
}

// once runs fn once per key; later callers wait for its result.
func (r *resolver) once(key string, fn func() (any, error)) (any, error) {
	return r.calls.Do(key, fn)
}

// image resolves ref (as the catalog names it) for arches, through the
// mirrors. prev is the previous lock's entry, or nil: when ref still
// resolves to its digest and it holds every platform, its platforms are
// kept without fetching the manifest.
func (r *resolver) image(ctx context.Context, ref string, arches []catalog.Arch, prev *Image) (*Image, error) {
	pulled, err := build.Mirror(ref, r.mirrors)
	if err != nil {
		return nil, err
	}
	pr, err := name.ParseReference(pulled)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", pulled, err)
	}
	opts := append([]remote.Option{remote.WithContext(ctx)}, r.opts...)
	d, err := r.once("HEAD "+pulled, func() (any, error) { return head(pr, opts) })
	if err != nil {
		return nil, err
	}
	img := &Image{Ref: ref, Digest: d.(string), Platforms: map[string]string{}}
	if prev != nil && prev.Ref == ref && prev.Digest == img.Digest && hasPlatforms(prev, arches) {
		keepPlatforms(img, prev)
		return img, nil
	}
	m, err := r.once("GET "+pulled+"@"+img.Digest, func() (any, error) {
		return platforms(pr.Context().Digest(img.Digest), opts)
	})
	if err != nil {
		return nil, err
	}
	byPlatform := m.(map[string]string)
	for _, a := range arches {
		if d, ok := byPlatform["*"]; ok {
			img.Platforms[a.Platform()] = d
			continue
		}
		d, ok := byPlatform[a.Platform()]
		if !ok {
			return nil, fmt.Errorf("%s (%s) has no image for %s", ref, img.Digest, a.Platform())
		}
		img.Platforms[a.Platform()] = d
	}
	keepPlatforms(img, prev)
	return img, nil
}

// keepPlatforms keeps the platforms of prev that were not resolved now
// (a lock narrowed with --platform) when the digest is the same.
func keepPlatforms(img, prev *Image) {
	if prev == nil || prev.Ref != img.Ref || prev.Digest != img.Digest {
		return
	}
	for p, d := range prev.Platforms {
		if _, ok := img.Platforms[p]; !ok {
			img.Platforms[p] = d
		}
	}
}

func hasPlatforms(img *Image, arches []catalog.Arch) bool {
	for _, a := range arches {
		if img.Platforms[a.Platform()] == "" {
			return false
		}
	}
	return true
}

// head returns the digest ref resolves to, by a HEAD request, or by a GET
// where the registry answers HEAD with an error.
func head(ref name.Reference, opts []remote.Option) (string, error) {
	d, err := remote.Head(ref, opts...)
	if err != nil {
		g, gerr := remote.Get(ref, opts...)
		if gerr != nil {
			return "", registry.ScrubError(fmt.Errorf("resolving %s: %w", ref, gerr))
		}
		return g.Digest.String(), nil
	}
	return d.Digest.String(), nil
}

// platforms fetches ref's manifest: for an index, the manifest digest of
// each linux platform ("linux/amd64"); for an image manifest, its own
// digest under "*" (the build checks its platform).
func platforms(ref name.Digest, opts []remote.Option) (map[string]string, error) {
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, registry.ScrubError(fmt.Errorf("fetching %s: %w", ref, err))
	}
	if !desc.MediaType.IsIndex() {
		return map[string]string{"*": desc.Digest.String()}, nil
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading the index %s: %w", ref, err)
	}
	out := map[string]string{}
	for _, m := range im.Manifests {
		if !isPlatform(m) {
			continue
		}
		p := m.Platform.OS + "/" + m.Platform.Architecture
		if _, seen := out[p]; !seen { // the first, as BuildKit picks it
			out[p] = m.Digest.String()
		}
	}
	return out, nil
}

// isPlatform reports whether d is a linux image of the index (not an
// attestation manifest, whose platform is unknown/unknown).
func isPlatform(d v1.Descriptor) bool {
	return d.Platform != nil && d.Platform.OS == "linux" && d.MediaType.IsImage()
}
