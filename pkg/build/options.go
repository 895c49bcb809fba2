package build

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/render"
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
	// (<dir>/<arch>/aws-lambda-rie or <dir>/aws-lambda-rie-<arch>).
	RIEDir string
	// CABundle is a PEM file RUN steps trust, passed as the secret "ca".
	CABundle string
	// BuildArgs are passed to the Dockerfile.
	BuildArgs map[string]string
	// CacheImports and CacheExports pass through to BuildKit.
	CacheImports []client.CacheOptionsEntry
	CacheExports []client.CacheOptionsEntry
	// Outputs are extra exports of each image (OCI or rootfs tarballs).
	Outputs []Output
	// Pull resolves base images again and rebuilds even unchanged targets.
	Pull bool
	// NoCache ignores BuildKit's cache.
	NoCache bool
	// WorkDir is where build contexts are written (default a temp dir).
	WorkDir string
	// Test, when set, checks each image before it is stored; an image that
	// fails it is not stored and its job fails. It also runs on unchanged
	// images, from the store.
	Test Tester
}

// Tester checks an image in an OCI layout (see pkg/smoke).
type Tester func(ctx context.Context, layoutDir string, desc v1.Descriptor, cfg v1.Config, j Job) error

// Output is an extra export: type oci (an OCI layout tarball) or tar (the
// root filesystem) to Dest, a file for one image or a directory for many.
type Output struct {
	Type string
	Dest string
}

// ParseOutput parses "type=oci,dest=FILE" or "type=tar,dest=FILE".
func ParseOutput(s string) (Output, error) {
	var o Output
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return o, fmt.Errorf("--output %q: want type=oci|tar,dest=PATH", s)
		}
		switch k {
		case "type":
			o.Type = v
		case "dest":
			o.Dest = v
		default:
			return o, fmt.Errorf("--output %q: unknown key %q (want type and dest)", s, k)
		}
	}
	if o.Type != client.ExporterOCI && o.Type != client.ExporterTar {
		return o, fmt.Errorf("--output %q: type must be oci or tar", s)
	}
	if o.Dest == "" {
		return o, fmt.Errorf("--output %q: dest is required", s)
	}
	return o, nil
}

// Job is one image to build: a rendered context for one architecture.
type Job struct {
	Context *render.Context
	Arch    catalog.Arch
	// Extensions is a directory laid out as /opt (see pkg/extension) that
	// is added over the image; empty for none.
	Extensions string
}

// Name is "runtime/variant linux/arch".
func (j Job) Name() string { return j.Context.Target.Name() + " " + j.Arch.Platform() }

// Status is how a job ended.
type Status string

// The statuses of a job.
const (
	Built     Status = "built"
	Unchanged Status = "unchanged" // inputs and options as stored: not rebuilt
	Failed    Status = "failed"
	Skipped   Status = "skipped" // this machine cannot build it
	Canceled  Status = "canceled"
)

// Result is the outcome of one job.
type Result struct {
	Target   string  `json:"target"`
	Runtime  string  `json:"runtime"`
	Variant  string  `json:"variant"`
	Platform string  `json:"platform"`
	Status   Status  `json:"status"`
	Digest   string  `json:"digest,omitempty"`
	Size     int64   `json:"size,omitempty"`
	Seconds  float64 `json:"seconds"`
	Reason   string  `json:"reason,omitempty"`
	// FailedLines are the generated Dockerfile's lines that failed.
	FailedLines []string `json:"failedLines,omitempty"`
	// Store is the ref name of the stored image (runtime/variant/arch).
	Store string `json:"store,omitempty"`

	Duration time.Duration `json:"-"`
}

// OK reports whether the job left a good image in the store.
func (r Result) OK() bool { return r.Status == Built || r.Status == Unchanged }
