package cli

import (
	"errors"
	"io"

	"github.com/lambdaimg/lambdaimg/pkg/pipeline"
	"github.com/lambdaimg/lambdaimg/pkg/plan"
	"github.com/lambdaimg/lambdaimg/pkg/store"
	"github.com/spf13/cobra"
)

// ExitError asks main for a given exit status: a run that did what it was
// asked and has an answer beyond success and failure.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode returns the exit status err asks for, if it is an *ExitError.
func ExitCode(err error) (int, bool) {
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code, true
	}
	return 0, false
}

// PlanChanged is the exit status of a plan with something to rebuild.
const PlanChanged = 10

const formatGitHubMatrix = "github-matrix"

type planOptions struct {
	selectOptions
	storeDir string
	mirrors  []string
	apt      []string
	format   string
}

func newPlanCmd(g *globalOptions) *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:     "plan",
		Short:   "Say which images must be rebuilt and why, without building",
		Long:    planLong,
		Example: planExample,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd, g) },
	}
	o.bind(cmd)
	f := cmd.Flags()
	f.StringVar(&o.storeDir, "store", store.DefaultDir(), "the image store to compare with")
	f.StringArrayVar(&o.mirrors, "registry-mirror", nil, "look base images of registry SRC up in DST instead, SRC=DST (repeatable; adds to the catalog's registryMirrors); use the build's")
	f.StringArrayVar(&o.apt, "apt-mirror", nil, aptMirrorUsage)
	f.StringVarP(&o.format, "output", "o", formatTable, "output format: table, json, markdown or github-matrix")
	return cmd
}

func (o *planOptions) run(cmd *cobra.Command, g *globalOptions) error {
	if err := checkFormat(cmd, &o.format, formatTable, formatJSON, formatMarkdown, formatGitHubMatrix); err != nil {
		return err
	}
	sel, err := o.selector()
	if err != nil {
		return err
	}
	c, tm, err := g.load(cmd.Context())
	if err != nil {
		return err
	}
	mirrors, err := parseMirrors(c.Defaults.RegistryMirrors, o.mirrors)
	if err != nil {
		return &UsageError{err}
	}
	idx, err := aptIndex(o.apt)
	if err != nil {
		return err
	}
	p, err := pipeline.Plan(cmd.Context(), c, tm, sel, o.storeDir, mirrors, cmd.ErrOrStderr(), plan.WithOSIndex(idx))
	if err != nil {
		return usage(err)
	}
	if err := o.print(cmd.OutOrStdout(), p); err != nil {
		return err
	}
	if err := p.Err(); err != nil {
		return &ExitError{Code: PlanChanged, Err: err}
	}
	return nil
}

// print writes the plan in the -o format.
func (o *planOptions) print(out io.Writer, p *plan.Plan) error {
	switch o.format {
	case formatJSON:
		return writeJSON(out, p)
	case formatMarkdown:
		return p.WriteMarkdown(out)
	case formatGitHubMatrix:
		return p.WriteMatrix(out)
	}
	return p.WriteTable(out)
}

const (
	planLong = `Say which images must be rebuilt and why, without building and without
BuildKit: for each selected target and platform, plan compares what a build
would use now with what the store recorded when the image was built:

  new     the store has no image for it
  inputs  the catalog entry or a template changed (the inputs digest)
  ric     the pinned Runtime Interface Client version changed
  base    a base image moved for this platform: one HEAD request per base
          reference; the index and the platform's manifest are fetched only
          when the digest moved, so a new arm64 base rebuilds only arm64
  package (Debian, Ubuntu) a package the build installed has a newer
          version in the image's APT sources: their InRelease, and their
          Packages index only when that moved since the build

Registry mirrors and credentials are used as by build and push.

Exit status: 0 when nothing must be rebuilt, 10 when something must (the
report is printed either way), 1 when the plan could not be made (a registry
or a package index did not answer), 2 for a usage error.

-o github-matrix prints one line of JSON for a GitHub Actions matrix:
{"include":[{"runtime":..,"variant":..,"platform":..,"runner":..}]}, the
runner being ubuntu-24.04 for x86_64 and ubuntu-24.04-arm for arm64.`
	planExample = `  lambdaimg plan --all
  lambdaimg plan --runtime python3.12 -o json
  lambdaimg plan --all -o github-matrix
  lambdaimg plan --all -o markdown >> "$GITHUB_STEP_SUMMARY"`
)
