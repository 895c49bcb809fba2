package build

import (
	"io"

	"github.com/lambdaimg/lambdaimg/pkg/osindex"
	"github.com/moby/buildkit/client"
)

// Options control a build run.
type Options struct {
	// Jobs bounds the solves running at once (default 4).
	Jobs int
	// FailFast cancels the other targets after the first failure.
	FailFast bool
	// Progress is the display mode: auto, tty, plain, rawjson or quiet.
	Progress string
	// ProgressOut receives the display (normally stderr).
	ProgressOut io.Writer
	// SourceDateEpoch (seconds) makes timestamps reproducible.
	SourceDateEpoch int64
	// Mirrors redirect base-image registries: "docker.io" -> "127.0.0.1:5000".
	Mirrors map[string]string
	// RIEDir holds local emulator binaries to use instead of the download
	// (see RIEBinary).
	RIEDir string
	// CABundle is a PEM file RUN steps trust, passed as the secret "ca".
	CABundle string
	// BuildArgs are passed to the Dockerfile.
	BuildArgs map[string]string
	// CacheImports and CacheExports pass through to BuildKit.
	CacheImports []client.CacheOptionsEntry
	CacheExports []client.CacheOptionsEntry
	// Exports are extra exports of each image (OCI or rootfs tarballs).
	Exports []Export
	// Pull resolves base images again and rebuilds even unchanged targets.
	Pull bool
	// NoCache ignores BuildKit's cache (and rebuilds unchanged targets).
	NoCache bool
	// WorkDir is where build contexts are written (default a temp dir).
	WorkDir string
	// Gates check each image, in order, before it is stored; an image that
	// fails one is not stored and its job fails. They also run on
	// unchanged images, from the store: one that fails now is removed.
	Gates []Gate
	// KeepStored keeps a stored, unchanged image that fails a gate (the
	// gate tested the user's function, not the image).
	KeepStored bool
	// OSIndex reads the APT package indexes of Debian and Ubuntu images
	// (default osindex.New(): each source as its image names it).
	OSIndex *osindex.Client
	// Tested marks stored images as smoke-tested (the label
	// io.lambdaimg.smoke-test=passed): set it when Gates hold the smoke test.
	Tested bool
}
