package verify

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

// Gate verifies images before they are stored, so that nothing Lambda
// would reject reaches the store. It satisfies build.Gate.
type Gate struct{ v *Verifier }

// NewGate returns a gate that checks with v.
func NewGate(v *Verifier) *Gate { return &Gate{v: v} }

// Name is "verify".
func (g *Gate) Name() string { return "verify" }

// Check verifies the image desc of the layout at layoutDir and returns its
// Report; the error is its *FailedError.
func (g *Gate) Check(ctx context.Context, layoutDir string, desc v1.Descriptor, t *catalog.Target) (any, error) {
	img, err := layout.Path(layoutDir).Image(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("reading the image: %w", err)
	}
	ref := t.Name()
	if desc.Platform != nil {
		ref += " " + desc.Platform.String()
	}
	rep := g.v.Image(ctx, ref, img, &desc)
	if err := rep.Err(); err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	return rep, nil
}
