package lock

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
)

// ErrMismatch is returned (wrapped) by Gate.Check when a locked build's
// image holds other OS packages or another RIC than the lock.
var ErrMismatch = errors.New("the image is not what the lock holds")

// maxListed bounds the packages a mismatch names; the rest are counted.
const maxListed = 10

// Gate checks each image of a locked build (build --locked) against the
// lock before it is stored: its OS packages, read as 'lambdaimg lock' reads
// them (pkg/inventory), must be the lock's for the image's platform, and
// the language packages the build installs into /var/runtime (the RIC)
// must be the locked versions with the locked checksums where the image
// records them. It satisfies build.Gate.
type Gate struct {
	f    *File
	name string
}

var _ build.Gate = (*Gate)(nil)

// NewGate returns a gate checking images against f; name names f in
// messages ("lambdaimg.lock").
func NewGate(f *File, name string) *Gate { return &Gate{f: f, name: name} }

// Name is "locked".
func (g *Gate) Name() string { return "locked" }

// GateReport is what the gate found in one image.
type GateReport struct {
	Platform string `json:"platform"`
	// OS says how the OS packages compared, or why they were not checked.
	OS string `json:"os"`
	// RIC says how each pinned language package compared, or why it was
	// not checked.
	RIC []string `json:"ric,omitempty"`
}

// Check compares the image desc of the layout at layoutDir, built for t,
// with t's entry in the lock. Every difference found is in the error,
// which wraps ErrMismatch.
func (g *Gate) Check(ctx context.Context, layoutDir string, desc v1.Descriptor, t *catalog.Target) (any, error) {
	e, ok := g.f.Targets[t.Name()]
	if !ok { // the pipeline checked the lock before building: not reached
		return nil, fmt.Errorf("%w: %s has no entry for %s: run 'lambdaimg lock' with the same selection", ErrStale, g.name, t.Name())
	}
	img, err := layout.Path(layoutDir).Image(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("reading the image: %w", err)
	}
	inv, err := inventory.Read(t.Name(), img, nil)
	if err != nil {
		return nil, err
	}
	rep := &GateReport{Platform: inv.Platform}
	if desc.Platform != nil {
		rep.Platform = desc.Platform.OS + "/" + desc.Platform.Architecture
	}
	osErr := g.checkOS(rep, e.OS[rep.Platform], inv)
	ricErr := g.checkRIC(ctx, rep, e.Packages, img)
	if err := errors.Join(osErr, ricErr); err != nil {
		// Unwanted, not broken: a stored image stays in the store.
		return rep, unwanted{fmt.Errorf("locked: %w: %w", ErrMismatch, err)}
	}
	return rep, nil
}

// unwanted marks an error as build.ErrUnwanted without changing its text.
type unwanted struct{ error }

func (u unwanted) Unwrap() []error { return []error{u.error, build.ErrUnwanted} }

// checkOS compares the image's OS packages with locked (nil when the lock
// has none for the platform) and notes the outcome in rep.
func (g *Gate) checkOS(rep *GateReport, locked *OSPackages, inv *inventory.Inventory) error {
	if locked == nil || len(locked.Packages) == 0 {
		rep.OS = fmt.Sprintf("not checked: %s has no OS packages for %s ('lambdaimg lock' records them from a stored image of the same inputs)", g.name, rep.Platform)
		return nil
	}
	built := osEntry(inv)
	diffs := diffPackages(locked.Packages, built.Packages)
	if len(diffs) == 0 {
		rep.OS = fmt.Sprintf("%d %s packages as locked", len(locked.Packages), locked.Database)
		return nil
	}
	rep.OS = fmt.Sprintf("%d of %d packages differ", len(diffs), len(locked.Packages))
	return fmt.Errorf("%d OS package(s) differ from %s (locked -> built):\n%s\n"+
		"the package index no longer serves the locked versions (Debian's and Alpine's keep only the newest): "+
		"run 'lambdaimg lock --update' to accept them, then review the lock diff",
		len(diffs), g.name, listed(diffs))
}

// diffPackages compares two sorted "name=version" lists by name and
// describes each difference: "libc6 2.36-9 -> 2.36-10", "curl: added
// 7.88.1-10", "zlib1g: removed (locked 1:1.2.13)".
func diffPackages(locked, built []string) []string {
	a, b := byName(locked), byName(built)
	names := make([]string, 0, len(a)+len(b))
	for n := range a {
		names = append(names, n)
	}
	for n := range b {
		if _, ok := a[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		old, inLock := a[n]
		now, inImage := b[n]
		switch {
		case !inImage:
			out = append(out, fmt.Sprintf("%s: removed (locked %s)", n, old))
		case !inLock:
			out = append(out, fmt.Sprintf("%s: added %s", n, now))
		case old != now:
			out = append(out, fmt.Sprintf("%s %s -> %s", n, old, now))
		}
	}
	return out
}

// byName maps "name=version" entries by name.
func byName(pkgs []string) map[string]string {
	out := make(map[string]string, len(pkgs))
	for _, p := range pkgs {
		n, v, _ := strings.Cut(p, "=")
		out[n] = v
	}
	return out
}

// listed indents the first maxListed lines and counts the rest.
func listed(lines []string) string {
	shown := lines
	if len(shown) > maxListed {
		shown = shown[:maxListed]
	}
	s := "  " + strings.Join(shown, "\n  ")
	if more := len(lines) - len(shown); more > 0 {
		s += fmt.Sprintf("\n  ... and %d more", more)
	}
	return s
}
