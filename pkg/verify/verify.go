package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/registry"
)

// Status is the outcome of a check.
type Status string

// The outcomes of a check.
const (
	Pass Status = "PASS"
	Warn Status = "WARN"
	Fail Status = "FAIL"
)

// Check is the outcome of one rule.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Reason string `json:"reason"`
}

// Report is every check of one image (or the one failed check of an index).
type Report struct {
	// Ref is what was verified: a registry reference or oci:DIR:REFNAME.
	Ref      string  `json:"ref"`
	Digest   string  `json:"digest,omitempty"`
	Platform string  `json:"platform,omitempty"`
	Checks   []Check `json:"checks"`
	// Memo is set when the checks were not run again: this lambdaimg
	// binary recorded that the image with this digest passed them, and
	// every blob of the image was hashed and found intact (see Memo).
	Memo bool `json:"memo,omitempty"`
	// layersIntact: every layer was read, and its bytes had the digest
	// and size the manifest gives, hashed as they were read or known to
	// (package hashed) (a Memo records only such a pass).
	layersIntact bool
}

// Failed reports whether any check failed.
func (r Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// Err returns a *FailedError when a check failed, else nil.
func (r Report) Err() error {
	if !r.Failed() {
		return nil
	}
	return &FailedError{Report: r}
}

func (r *Report) add(name string, s Status, format string, args ...any) {
	// Reasons can quote a registry's error (a layer that could not be
	// read): never show credentials.
	r.Checks = append(r.Checks, Check{Name: name, Status: s, Reason: registry.Scrub(fmt.Sprintf(format, args...))})
}

// FailedError is the error of an image that failed verification; it names
// every failed check.
type FailedError struct{ Report Report }

func (e *FailedError) Error() string {
	var fails []string
	for _, c := range e.Report.Checks {
		if c.Status == Fail {
			fails = append(fails, "FAIL "+c.Name+": "+c.Reason)
		}
	}
	return strings.Join(fails, "; ")
}

// CmdRule says what a missing CMD is.
type CmdRule string

// The CMD rules.
const (
	// CmdAuto: a warning for a base image (label io.lambdaimg.runtime) or an
	// entry point that takes no handler (a Go or custom-runtime binary), a
	// failure when the entry point is /lambda-entrypoint.sh or a Runtime
	// Interface Client, which need the handler as their argument.
	CmdAuto CmdRule = "auto"
	// CmdRequire: always a failure.
	CmdRequire CmdRule = "require"
	// CmdOptional: never reported.
	CmdOptional CmdRule = "optional"
)

// Valid reports whether r is a known rule.
func (r CmdRule) Valid() bool { return r == CmdAuto || r == CmdRequire || r == CmdOptional }

// Lambda's limits.
const (
	// MaxUncompressedSize is Lambda's "10 GB (maximum uncompressed image
	// size, including all layers)", read as GiB like Lambda's other
	// gigabyte limits (10,240 MB of /tmp).
	MaxUncompressedSize int64 = 10 << 30
	// MaxSettingsSize is Lambda's "Container image settings size: 16 KB".
	MaxSettingsSize = 16 << 10
)

// Option configures a Verifier.
type Option func(*Verifier) error

// WithMaxSize sets the largest uncompressed image accepted. Default:
// MaxUncompressedSize.
func WithMaxSize(n int64) Option {
	return func(v *Verifier) error {
		if n <= 0 {
			return fmt.Errorf("max size %d: want a positive number of bytes", n)
		}
		v.maxSize = n
		return nil
	}
}

// WithMaxSettingsSize sets the largest serialized ENTRYPOINT, CMD, WORKDIR
// and ENV accepted. Default: MaxSettingsSize.
func WithMaxSettingsSize(n int) Option {
	return func(v *Verifier) error {
		if n <= 0 {
			return fmt.Errorf("max settings size %d: want a positive number of bytes", n)
		}
		v.maxSettings = n
		return nil
	}
}

// WithCmdRule sets what a missing CMD is. Default: CmdAuto.
func WithCmdRule(r CmdRule) Option {
	return func(v *Verifier) error {
		if !r.Valid() {
			return fmt.Errorf("CMD rule %q is not one of [auto require optional]", r)
		}
		v.cmdRule = r
		return nil
	}
}

// WithRemoteOptions are used to read registry references (auth, transport).
// Default: anonymous, ggcr's default transport.
func WithRemoteOptions(opts ...remote.Option) Option {
	return func(v *Verifier) error {
		v.remote = append(v.remote, opts...)
		return nil
	}
}

// WithNameOptions are used to parse registry references (name.Insecure).
// Default: none.
func WithNameOptions(opts ...name.Option) Option {
	return func(v *Verifier) error {
		v.names = append(v.names, opts...)
		return nil
	}
}

// Verifier checks images. It is safe for concurrent use. Layer scans are
// kept by digest for the process (internal/layerscan), and used again
// only for bytes that hash to the digest.
type Verifier struct {
	maxSize     int64
	maxSettings int
	cmdRule     CmdRule
	remote      []remote.Option
	names       []name.Option
}

// New returns a Verifier.
func New(opts ...Option) (*Verifier, error) {
	v := &Verifier{maxSize: MaxUncompressedSize, maxSettings: MaxSettingsSize, cmdRule: CmdAuto}
	for _, opt := range opts {
		if err := opt(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Check verifies img and returns its *FailedError, if any: the
// publish.Checker that `push` runs before publishing.
func (v *Verifier) Check(ctx context.Context, img v1.Image) error {
	return v.Image(ctx, "", img, nil).Err()
}

// Image checks img. desc, when not nil, is the descriptor img was found
// under (an index or layout entry); its platform must agree with the
// config.
func (v *Verifier) Image(ctx context.Context, ref string, img v1.Image, desc *v1.Descriptor) Report {
	rep := Report{Ref: ref}
	if h, err := img.Digest(); err == nil {
		rep.Digest = h.String()
	}
	c := &imageChecks{v: v, rep: &rep, img: img, desc: desc}
	c.run(ctx)
	return rep
}

// errNotChecked marks file-system checks skipped because the layers were
// not read.
var errNotChecked = errors.New("not checked")
