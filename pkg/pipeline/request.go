package pipeline

import (
	"io"
	"time"

	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/extension"
	"github.com/lambdaimg/lambdaimg/pkg/lock"
	"github.com/lambdaimg/lambdaimg/pkg/publish"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/smoke"
)

// Request is one run of build, test or run.
type Request struct {
	Catalog   *catalog.Catalog
	Templates *render.Templates
	// Select picks the targets; One requires the selection to be exactly
	// one image (one target on one platform).
	Select catalog.Selector
	One    bool
	// Packages are extra OS packages for every target's final image.
	Packages []string
	// Extensions are extension paths (directory, zip or executable) added
	// to every target, after the catalog's own.
	Extensions []string
	// ExtensionLimits bound the extensions laid out for each target (zero
	// fields: extension.DefaultLimits).
	ExtensionLimits extension.Limits
	// Build says how to build; its Gates and Tested are set by Run.
	Build build.Options
	// StoreDir is the local OCI image store.
	StoreDir string
	// BuildKit says where BuildKit is.
	BuildKit buildkit.Options
	// Builders, when set, are the pool to build with (--builder); else
	// BuildKit.Addr or BUILDKIT_HOST name one daemon, else ConfigBuilders
	// (the user config file's) or else the catalog's builders are the
	// pool, else BuildKit's default socket or the embedded daemon is the
	// one builder (see Builders).
	Builders       []buildkit.Spec
	ConfigBuilders []buildkit.Spec
	// Lock, when set, is the lock to build: every selected target must be
	// in it, locked from the same catalog entry and templates, its
	// images are pulled by digest, and an image whose OS packages or RIC
	// differ from the lock's fails the "locked" gate (lock.Gate) before
	// it is stored (build --locked).
	Lock *lock.File
	// LockFile names Lock in messages.
	LockFile string
	// Test, when set, smoke-tests every image before it is stored.
	Test *smoke.Plan
	// Publish, when set, publishes what was built once every image is
	// good; Publish.Only is filled in by Run.
	Publish *PublishRequest
	// Log receives notes and warnings (normally stderr).
	Log io.Writer
	// Now is the clock for deprecation warnings and dated tags.
	Now func() time.Time
}

// Report is everything a run did: one document, whatever was asked.
type Report struct {
	Images    []build.Result  `json:"images"`
	Published *publish.Result `json:"published,omitempty"`
	// All is set when the request selected every runtime: then images this
	// machine cannot build are skipped without failing the run.
	All bool `json:"-"`
}
