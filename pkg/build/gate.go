package build

import (
	"context"
	"errors"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

// Gate is a check an image must pass before it is stored: lambdaimg's
// static verification (pkg/verify) and the smoke test through the Runtime
// Interface Emulator (pkg/smoke) are gates.
type Gate interface {
	// Name names the gate in reports: "verify", "smoke".
	Name() string
	// Check examines the image desc of the OCI layout at layoutDir, built
	// for target. report is what the user is shown (JSON-encodable, may
	// be nil); a non-nil error keeps the image out of the store.
	Check(ctx context.Context, layoutDir string, desc v1.Descriptor, target *catalog.Target) (report any, err error)
}

// ErrUnwanted, wrapped in a gate's error, says that this run does not
// want the image (a locked build's image is not the lock's), not that the
// image is broken: a stored image that fails with it stays in the store,
// where any other failure of a stored image removes it.
var ErrUnwanted = errors.New("not the image this run asks for")

// GateResult is how one image went through one gate.
type GateResult struct {
	Gate   string `json:"gate"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	Report any    `json:"report,omitempty"`
}

// runGates runs every gate on the image in order and stops at the first
// that fails.
func runGates(ctx context.Context, gates []Gate, layoutDir string, desc v1.Descriptor, t *catalog.Target) ([]GateResult, error) {
	var out []GateResult
	for _, g := range gates {
		rep, err := g.Check(ctx, layoutDir, desc, t)
		r := GateResult{Gate: g.Name(), OK: err == nil, Report: rep}
		if err != nil {
			r.Error = err.Error()
		}
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
