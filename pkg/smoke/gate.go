package smoke

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/helper"
)

// Plan says what the smoke test of each image sends and expects. The zero
// Plan runs lambdaimg's sample function for the image's language with
// every check.
type Plan struct {
	// FunctionDir is the user's function, copied into /var/task; empty
	// means the sample function of the image's language.
	FunctionDir string
	// Handler is the entry point's argument; empty means the catalog's.
	Handler string
	// Events are sent in order; none means the sample's events (or one
	// empty event with a user's function).
	Events []Event
	// Timeout is AWS_LAMBDA_FUNCTION_TIMEOUT in seconds (0: 2 with the
	// sample function, to check the cut-off; else the emulator's 300).
	Timeout int
	// User is the uid:gid the function runs as (default LambdaUser).
	User string
	// Helper is lambdaimg-helper, run inside the container: a file or a
	// directory (default: see package helper).
	Helper string
	// NoContract leaves out the check that the entry point refuses to
	// start without a handler (run does not want it).
	NoContract bool
	// SampleLayer says lambdaimg's sample layer is laid under /opt (see
	// HasSampleLayer): the sample functions then check that their
	// language finds it.
	SampleLayer bool
}

// Gate smoke-tests images through the Runtime Interface Emulator before
// they are stored. It satisfies build.Gate.
type Gate struct {
	conn    *buildkit.Conn
	pick    func(platform string) *buildkit.Conn
	plan    Plan
	samples sampleDirs
}

// NewGate returns a gate running plan through conn. Close it when done.
func NewGate(conn *buildkit.Conn, plan Plan) *Gate {
	return &Gate{conn: conn, plan: plan}
}

// NewPoolGate returns a gate running plan through the connection pick
// returns for each image's platform (e.g. buildkit.Pool.For).
func NewPoolGate(pick func(platform string) *buildkit.Conn, plan Plan) *Gate {
	return &Gate{pick: pick, plan: plan}
}

// Name is "smoke".
func (g *Gate) Name() string { return "smoke" }

// Close removes the sample functions written out for the run.
func (g *Gate) Close() error { return g.samples.cleanup() }

// FindHelpers finds lambdaimg-helper for each architecture (GOARCH) the
// gate will test, before anything is built: a missing helper fails the run
// at once instead of after the builds.
func (g *Gate) FindHelpers(archs []string) error {
	for _, arch := range archs {
		conn := g.conn
		if g.pick != nil {
			conn = g.pick("linux/" + arch)
		}
		if _, err := (helper.Lookup{Path: g.plan.Helper}).Find(helperArchs(conn, arch)...); err != nil {
			return err
		}
	}
	return nil
}

// Check runs the plan on the image desc of the layout at layoutDir and
// returns its *Report; the error names the checks that failed.
func (g *Gate) Check(ctx context.Context, layoutDir string, desc v1.Descriptor, t *catalog.Target) (any, error) {
	o, runs, err := g.options(t)
	if err != nil {
		return nil, err
	}
	img, err := layout.Path(layoutDir).Image(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("reading the image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the image config: %w", err)
	}
	conn := g.conn
	if g.pick != nil {
		conn = g.pick(cf.OS + "/" + cf.Architecture)
	}
	var rep *Report
	if runs != nil {
		rep, err = RunPlan(ctx, conn, layoutDir, desc, cf.Config, o, runs)
	} else {
		rep, err = Run(ctx, conn, layoutDir, desc, cf.Config, o)
	}
	if err != nil {
		if rep != nil {
			return rep, fmt.Errorf("smoke test: %w", err)
		}
		return nil, fmt.Errorf("smoke test: %w", err)
	}
	if err := rep.Err(); err != nil {
		return rep, fmt.Errorf("smoke test: %w", err)
	}
	return rep, nil
}

// ErrNoSample is returned for a language lambdaimg has no sample function
// for: the user must give their own.
var ErrNoSample = errors.New("lambdaimg has no sample function for this language")

// options turns the plan into the Options of one target's test and, with
// a sample function and no events of the user's, the runs of the sample's
// plan (SamplePlan; o holds the first run's events).
func (g *Gate) options(t *catalog.Target) (Options, []SampleRun, error) {
	p := g.plan
	o := Options{Handler: p.Handler, Timeout: p.Timeout, User: p.User, Helper: p.Helper, Contract: !p.NoContract, Events: p.Events}
	if o.Handler == "" {
		o.Handler = t.Handler
	}
	if p.FunctionDir != "" {
		o.FunctionDir = p.FunctionDir
		if len(o.Events) == 0 && !IsSample(p.FunctionDir) {
			o.Events = []Event{{Name: "event {}", Payload: []byte("{}")}}
		}
	} else {
		dir, err := g.samples.dir(t.Runtime.Language)
		if err != nil {
			return o, nil, err
		}
		o.FunctionDir = dir
		if t.Spec.OS == catalog.AWS && t.Runtime.Language == catalog.Provided && p.Handler == "" {
			// AWS's provided images run /var/runtime/bootstrap; the sample
			// is /var/task/bootstrap, which they also look for.
			o.Handler = "function.handler"
		}
	}
	if len(o.Events) > 0 {
		return o, nil, nil
	}
	if o.Timeout == 0 {
		o.Timeout = 2
	}
	check := o.Timeout // the timeout check sleeps past it: short ones only
	if check > 10 {
		check = 0
	}
	runs := SamplePlan(SampleTarget{Language: string(t.Runtime.Language), Runtime: t.Runtime.ID, Version: t.Runtime.Version,
		RIC: t.Spec.RIC, Handler: o.Handler, Timeout: check, Layer: p.SampleLayer})
	o.Events = runs[0].Events
	return o, runs, nil
}

// sampleDir is where the sample of lang sits under a samples root.
func sampleDir(root string, lang catalog.Language) string {
	return filepath.Join(root, "samples", string(lang))
}
