// Package support says what lambdaimg's own CI proves of each catalog
// cell (runtime x variant x architecture): built and invoked through the
// Runtime Interface Emulator, or only rendered and linted. The end-to-end
// tests (internal/e2e, pkg/build, pkg/cli) run exactly the cells listed here
// as invoked, and the README's support matrix is written from this list, so
// the two cannot drift apart.
package support

import "github.com/lambdaimg/lambdaimg/pkg/catalog"

// Level is how far CI takes a cell.
type Level string

// The levels, from most to least proven.
const (
	// LevelInvoked cells are built with BuildKit and answer their sample
	// function's every check through the emulator in every CI run.
	LevelInvoked Level = "built and invoked in CI"
	// LevelRendered cells are rendered, parsed and linted in every CI run, not
	// built: their base images or package repositories are not reachable
	// from CI.
	LevelRendered Level = "rendered and linted only"
)

// Cell is one runtime, variant and architecture.
type Cell struct {
	Runtime string
	Variant string
	Arch    catalog.Arch
}

// invoked lists the cells CI builds and invokes; the e2e tests iterate over
// it (see Invoked).
var invoked = []Cell{
	// internal/e2e: Python, Node.js and Java on Debian stand-ins.
	{"python3.11", "debian", catalog.X86_64},
	{"python3.11", "debian", catalog.ARM64},
	{"python3.13", "debian", catalog.X86_64},
	{"nodejs18.x", "debian", catalog.X86_64},
	{"nodejs20.x", "debian", catalog.X86_64},
	{"java17", "debian", catalog.X86_64},
	{"java21", "debian", catalog.X86_64},
	// pkg/build and pkg/cli: a Go function on the custom runtime.
	{"provided.al2023", "debian", catalog.X86_64},
	{"provided.al2023", "debian", catalog.ARM64},
}

// Invoked returns the cells CI builds and invokes, in a stable order.
func Invoked() []Cell { return append([]Cell(nil), invoked...) }

// Of returns how far CI takes a cell.
func Of(c Cell) Level {
	for _, x := range invoked {
		if x == c {
			return LevelInvoked
		}
	}
	return LevelRendered
}
