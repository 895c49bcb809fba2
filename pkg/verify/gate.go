package verify

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/lambdaimg/lambdaimg/internal/hashed"
	"github.com/lambdaimg/lambdaimg/internal/layerscan"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/opencontainers/go-digest"
)

// Gate verifies images before they are stored, so that nothing Lambda
// would reject reaches the store. It satisfies build.Gate.
type Gate struct {
	v    *Verifier
	memo *Memo
}

// GateOption configures a Gate.
type GateOption func(*Gate)

// WithMemo makes the gate record the images that pass in m and replay
// the record of an image asked about again, once its blobs are hashed and
// found intact (see Memo). Default: no memo, every image is read in full.
func WithMemo(m *Memo) GateOption {
	return func(g *Gate) { g.memo = m }
}

// NewGate returns a gate that checks with v.
func NewGate(v *Verifier, opts ...GateOption) *Gate {
	g := &Gate{v: v}
	for _, o := range opts {
		o(g)
	}
	return g
}

// Name is "verify".
func (g *Gate) Name() string { return "verify" }

// Check verifies the image desc of the layout at layoutDir and returns its
// Report; the error is its *FailedError.
func (g *Gate) Check(ctx context.Context, layoutDir string, desc v1.Descriptor, t *catalog.Target) (any, error) {
	ref := t.Name()
	if desc.Platform != nil {
		ref += " " + desc.Platform.String()
	}
	var key string
	if g.memo != nil {
		var err error
		if key, err = memoKey(g.v, desc); err == nil {
			if rep, ok := g.memo.lookup(layoutDir, desc, key); ok {
				rep.Ref, rep.Memo = ref, true
				return rep, nil
			}
		}
	}
	img, err := layout.Path(layoutDir).Image(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("reading the image: %w", err)
	}
	rep := g.v.Image(ctx, ref, hashedLayers{img, layoutDir}, &desc)
	if err := rep.Err(); err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	if key != "" && ctx.Err() == nil && rep.Digest == desc.Digest.String() && rep.layersIntact {
		// The checks read the manifest (its digest is rep.Digest) and
		// every layer (hashed as they were read, or known to be hashed
		// as this process wrote them: package hashed); the config is
		// hashed here. A record not written is only work again next time.
		if m, err := img.Manifest(); err == nil {
			if _, err := readBlob(layout.Path(layoutDir), m.Config.Digest, m.Config.Size); err == nil {
				g.memo.record(desc, key, rep)
			}
		}
	}
	return rep, nil
}

// hashedLayers is an image of the layout at dir whose layers that this
// process hashed as it wrote them (package hashed: an export through the
// blob pool) are marked layerscan.Intact, so that reading them does not
// hash them again.
type hashedLayers struct {
	v1.Image
	dir string
}

func (i hashedLayers) Layers() ([]v1.Layer, error) {
	ls, err := i.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for j, l := range ls {
		out[j] = l
		if d, err := l.Digest(); err == nil && hashed.Known(blobFile(i.dir, d), digest.Digest(d.String())) {
			out[j] = layerscan.Intact(l)
		}
	}
	return out, nil
}
