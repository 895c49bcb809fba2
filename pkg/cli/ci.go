package cli

import (
	"fmt"

	"github.com/lambdaimg/lambdaimg/pkg/ci"
	"github.com/lambdaimg/lambdaimg/pkg/pipeline"
	"github.com/spf13/cobra"
)

func newCICmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ci",
		Short: "Generate the CI configuration of scheduled rebuilds",
	}
	cmd.AddCommand(newCIGitHubCmd(g))
	return cmd
}

type ciGitHubOptions struct {
	selectOptions
	file, schedule, version, buildkit string
	awsRole                           string
	registries, builders              []string
	check                             bool
	format                            string
}

// ciReport is the result of `ci github`, also its JSON form.
type ciReport struct {
	File string `json:"file"`
	// Status is written, unchanged (already as generated) or up to date
	// (--check found no difference).
	Status string `json:"status"`
}

func newCIGitHubCmd(g *globalOptions) *cobra.Command {
	o := &ciGitHubOptions{}
	cmd := &cobra.Command{
		Use:     "github",
		Short:   "Write a GitHub Actions workflow that plans, builds, tests and publishes on a schedule",
		Long:    ciGitHubLong,
		Example: ciGitHubExample,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd, g) },
	}
	o.bind(cmd)
	f := cmd.Flags()
	f.StringVar(&o.file, "file", ci.DefaultWorkflow, "workflow file to write (or to compare with --check)")
	f.StringVar(&o.schedule, "schedule", "daily", "when to run: daily, weekly, or a 5-field cron expression in UTC")
	f.StringVar(&o.version, "lambdaimg-version", "latest", "lambdaimg version the jobs install (go install ...@VERSION)")
	f.StringVar(&o.buildkit, "buildkit-image", ci.DefaultBuildKitImage, "buildkitd image the build jobs start")
	f.StringArrayVar(&o.registries, "registry", nil, "registry and path the publish job pushes to (repeatable; default: the catalog's defaults.registries)")
	f.StringArrayVar(&o.builders, "builder", nil, "a BuildKit builder the build jobs use instead of a buildkitd on the runner (repeatable): as build's --builder, but cacert, cert and key name GitHub secrets holding the PEM files, e.g. tcp://arm64-1:1234,cacert=BUILDKIT_CA,cert=BUILDKIT_CERT,key=BUILDKIT_KEY")
	f.StringVar(&o.awsRole, "aws-role", "", "IAM role ARN the publish job assumes (GitHub OpenID Connect) to push to Amazon ECR, public or private")
	f.BoolVar(&o.check, "check", false, "write nothing; fail (exit 1) with a diff when --file differs from what would be generated")
	f.StringVarP(&o.format, "output", "o", formatTable, "output format: table or json")
	return cmd
}

func (o *ciGitHubOptions) run(cmd *cobra.Command, g *globalOptions) error {
	if err := checkFormat(cmd, &o.format, formatTable, formatJSON); err != nil {
		return err
	}
	if len(o.runtimes) == 0 {
		o.all = true // the workflow plans every runtime unless told otherwise
	}
	sel, err := o.selector()
	if err != nil {
		return err
	}
	c, _, err := g.load(cmd.Context())
	if err != nil {
		return err
	}
	if _, err := c.Targets(sel); err != nil { // a typo fails now, not at 4 a.m.
		return usage(&pipeline.RequestError{Field: pipeline.FieldSelect, Err: err})
	}
	gh := ci.GitHub{
		Schedule: o.schedule, Version: o.version, BuildKitImage: o.buildkit,
		Select: o.selectArgs(), Catalog: g.catalog, Templates: g.templates,
		Registries: o.registries, Builders: o.builders,
		CatalogRegistries: c.Defaults.Registries, AWSRole: o.awsRole,
	}
	gen, err := ci.Generate(gh)
	if err != nil {
		return &UsageError{err}
	}
	rep := ciReport{File: o.file}
	if rep.Status, err = ci.Sync(o.file, gen, o.check); err != nil {
		return err
	}
	if o.format == formatJSON {
		return writeJSON(cmd.OutOrStdout(), rep)
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", rep.File, rep.Status)
	return err
}

// selectArgs gives the selection back as plan's flags, --all by default.
func (o *ciGitHubOptions) selectArgs() []string {
	var out []string
	if o.all {
		out = append(out, "--all")
	}
	for _, r := range o.runtimes {
		out = append(out, "--runtime", r)
	}
	for _, v := range o.variants {
		out = append(out, "--os", v)
	}
	for _, p := range o.platforms {
		out = append(out, "--platform", p)
	}
	return out
}

const (
	ciGitHubLong = `Write a GitHub Actions workflow (default ` + ci.DefaultWorkflow + `) for
scheduled security rebuilds. It runs on a cron schedule and on demand:

  plan     lambdaimg plan: which targets and platforms must be rebuilt (a
           base image moved, the catalog, a template or a RIC pin changed);
           the matrix is every platform of those targets, so that their
           architectures move together; nothing changed ends the run, green
  build    one job per target and platform, on a native runner
           (ubuntu-24.04 for x86_64, ubuntu-24.04-arm for arm64), fail-fast
           off: lambdaimg build --test
  publish  after the builds, even when some failed: a runtime variant whose
           every job passed is pushed (lambdaimg push), one with a failed
           job is held back whole; the state it leaves is what the next plan
           compares with

The job summaries are lambdaimg's own Markdown: the plan's (plan -o
markdown), then what was pushed and held back, and the changelog of every
image whose tag moved (diff -o markdown OLD NEW). Without --runtime the
workflow plans --all; with --platform naming one platform the publish
moves only per-architecture and dated tags (an index would name that
platform alone).

With --builder the build jobs use that pool of BuildKit builders (as build's
--builder) instead of starting a buildkitd on the runner. The TLS options
cacert, cert and key then name repository secrets holding the PEM files:
each job writes them to files under $RUNNER_TEMP, so no certificate, key or
local path enters the workflow; the generated file lists the secrets.

The publish job logs in to each registry it pushes to (--registry, else
the catalog's defaults.registries): Amazon ECR, public or private, by
assuming --aws-role through GitHub's OpenID Connect provider (the role must
trust it); ghcr.io with the job's own token; Docker Hub with the secrets
DOCKERHUB_USERNAME and DOCKERHUB_TOKEN; any other registry with the secrets
REGISTRY_<HOST>_USERNAME and REGISTRY_<HOST>_PASSWORD (the host upper-cased,
other characters as _), named in the generated file.

Commit the file; --check (in CI) fails when it differs from what this
lambdaimg would write.`
	ciGitHubExample = `  lambdaimg ci github --registry public.ecr.aws/my-alias --aws-role arn:aws:iam::123456789012:role/lambdaimg-publish
  lambdaimg ci github --registry ghcr.io/my-org/lambda
  lambdaimg ci github --runtime python3.12 --runtime nodejs22.x --schedule weekly
  lambdaimg ci github --builder tcp://amd64-1:1234,cacert=BUILDKIT_CA,cert=BUILDKIT_CERT,key=BUILDKIT_KEY \
      --builder tcp://arm64-1:1234,cacert=BUILDKIT_CA,cert=BUILDKIT_CERT,key=BUILDKIT_KEY,platform=linux/arm64
  lambdaimg ci github --check`
)
