package inventory

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/store"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/registry"
)

// Loader reads inventories of images named as verify names them.
type Loader struct {
	names  []name.Option
	remote []remote.Option
}

// NewLoader returns a Loader reading registries as push writes them:
// credentials from registry.Keychain, retries from registry's transport,
// plain HTTP allowed when insecure.
func NewLoader(insecure bool) (*Loader, error) {
	rt, err := registry.NewRetryTransport(remote.DefaultTransport)
	if err != nil {
		return nil, err
	}
	l := &Loader{remote: []remote.Option{
		remote.WithAuthFromKeychain(registry.Keychain()),
		remote.WithTransport(registry.RecordSecrets(rt)),
	}}
	if insecure {
		l.names = append(l.names, name.Insecure)
	}
	return l, nil
}

// Load reads the inventory of the one image s names: a registry reference
// to a single-platform image (REPO:TAG, REPO@DIGEST), or oci:DIR:REFNAME
// or oci:DIR@DIGEST in an OCI layout such as the store (whose index
// entries carry the build's base and RIC).
func (l *Loader) Load(ctx context.Context, s string) (*Inventory, error) {
	inv, err := l.load(ctx, s)
	return inv, registry.ScrubError(err)
}

func (l *Loader) load(ctx context.Context, s string) (*Inventory, error) {
	if rest, ok := strings.CutPrefix(s, "oci:"); ok {
		return loadLayout(s, rest)
	}
	ref, err := name.ParseReference(s, l.names...)
	if err != nil {
		return nil, fmt.Errorf("reference %q: %w", s, err)
	}
	desc, err := remote.Get(ref, append([]remote.Option{remote.WithContext(ctx)}, l.remote...)...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s, err)
	}
	if !desc.MediaType.IsImage() {
		return nil, fmt.Errorf("%s is a %s, not a single-platform image: name one platform's tag (e.g. -x86_64 or -arm64)", s, desc.MediaType)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s, err)
	}
	return Read(s, img, m.Annotations)
}

// loadLayout finds the image REFNAME (its ref.name annotation) or DIGEST
// in the OCI layout at rest = DIR:REFNAME or DIR@DIGEST.
func loadLayout(s, rest string) (*Inventory, error) {
	dir, want := rest, ""
	if i := strings.LastIndex(rest, "@"); i > 0 {
		dir, want = rest[:i], rest[i+1:]
	} else if i := strings.LastIndex(rest, ":"); i > 0 {
		dir, want = rest[:i], rest[i+1:]
	}
	if st, err := os.Stat(dir); want == "" || err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%s: want oci:DIR:REFNAME or oci:DIR@DIGEST, naming one image of an OCI layout", s)
	}
	ii, im, err := store.ReadIndex(dir)
	if err != nil {
		return nil, err
	}
	for _, d := range im.Manifests {
		if d.Annotations[labels.RefName] != want && d.Digest.String() != want {
			continue
		}
		if !d.MediaType.IsImage() {
			return nil, fmt.Errorf("%s is a %s, not a single-platform image", s, d.MediaType)
		}
		img, err := ii.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s, err)
		}
		return Read(s, img, d.Annotations)
	}
	return nil, fmt.Errorf("no image named %q in %s", want, dir)
}
