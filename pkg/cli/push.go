package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/pipeline"
	"github.com/lambdaimg/lambdaimg/pkg/publish"
	"github.com/lambdaimg/lambdaimg/pkg/store"
	"github.com/spf13/cobra"
)

type pushOptions struct {
	storeDir   string
	registries []string
	runtimes   []string
	variants   []string
	platforms  []string
	tags       []string
	jobs       int
	imageRefs  string
	format     string
	noVerify   bool
	noAttach   bool
	insecure   bool
	dryRun     bool
}

func newPushCmd(g *globalOptions, env Env) *cobra.Command {
	o := &pushOptions{}
	cmd := &cobra.Command{
		Use:     "push",
		Short:   "Publish the store's images to registries, verified, with AWS-style tags",
		Long:    pushLong,
		Example: pushExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(cmd, &o.format, formatTable, formatJSON); err != nil {
				return err
			}
			req, err := o.request(cmd, g, env)
			if err != nil {
				return err
			}
			res, err := pipeline.Publish(cmd.Context(), *req)
			return errors.Join(err, closeRefs(req), o.print(cmd, res))
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.runtimes, "runtime", "r", nil, "only these runtimes, e.g. python3.12 (repeatable)")
	f.StringSliceVar(&o.variants, "os", nil, "only these variants: a variant name or an OS family, e.g. aws, alpine (which takes alpine3.20 too)")
	f.StringSliceVar(&o.platforms, "platform", nil, "only these platforms, linux/amd64 or linux/arm64 (a runtime with another architecture in the store then keeps its index tags as they are)")
	f.StringVarP(&o.format, "output", "o", formatTable, "output format: table or json")
	f.BoolVar(&o.dryRun, "dry-run", false, "print which tags would be written and which are already in place; write nothing")
	f.StringVar(&o.storeDir, "store", store.DefaultDir(), "the image store to publish from")
	o.bindTargets(cmd, "jobs")
	return cmd
}

// bindTargets binds the flags of where and how to publish, shared with
// build --push.
func (o *pushOptions) bindTargets(cmd *cobra.Command, jobsFlag string) {
	f := cmd.Flags()
	f.StringArrayVar(&o.registries, "registry", nil, "registry and path to publish under, e.g. public.ecr.aws/ALIAS (repeatable; default: the catalog's defaults.registries)")
	f.StringSliceVar(&o.tags, "tags", publish.TagKinds, "kinds of tags to write: arch, index, dated")
	if jobsFlag == "jobs" {
		f.IntVarP(&o.jobs, jobsFlag, "j", publish.DefaultJobs, "concurrent requests per registry")
	} else {
		f.IntVar(&o.jobs, jobsFlag, publish.DefaultJobs, "concurrent requests per registry")
	}
	f.StringVar(&o.imageRefs, "image-refs", "", "also write the published references to this file, one per line")
	f.BoolVar(&o.noVerify, "no-verify", false, "publish images even if they fail verification")
	f.BoolVar(&o.noAttach, "no-attach", false, "do not attach the SBOM and changelog referrers to newly tagged images")
	f.BoolVar(&o.insecure, "insecure", false, "allow plain-HTTP registries (localhost and 127.0.0.1 always are)")
}

// request turns the flags into a publish request.
func (o *pushOptions) request(cmd *cobra.Command, g *globalOptions, env Env) (*pipeline.PublishRequest, error) {
	if o.dryRun && o.imageRefs != "" {
		return nil, &UsageError{errors.New("--image-refs records what was pushed: not with --dry-run")}
	}
	if o.jobs < 1 {
		return nil, &UsageError{fmt.Errorf("%d concurrent requests: want at least 1", o.jobs)}
	}
	scheme, err := publish.ParseTagScheme(o.tags)
	if err != nil {
		return nil, &UsageError{fmt.Errorf("--tags: %w", err)}
	}
	req := &pipeline.PublishRequest{StoreDir: o.storeDir, Runtimes: o.runtimes, Variants: o.variants, Tags: scheme,
		Jobs: o.jobs, Insecure: o.insecure, DryRun: o.dryRun, NoVerify: o.noVerify, NoAttach: o.noAttach,
		UserAgent: "lambdaimg/" + Version, Log: cmd.ErrOrStderr(), Now: env.Now}
	for _, p := range o.platforms {
		a, err := catalog.ParsePlatform(p)
		if err != nil {
			return nil, &UsageError{fmt.Errorf("--platform: %w", err)}
		}
		req.Arches = append(req.Arches, string(a))
	}
	if req.Registries, req.Namespace, err = o.targets(cmd.Context(), g); err != nil {
		return nil, err
	}
	if o.imageRefs != "" {
		f, err := os.Create(o.imageRefs)
		if err != nil {
			return nil, fmt.Errorf("--image-refs: %w", err)
		}
		req.ImageRefs = f
	}
	return req, nil
}

// targets returns the registries and, for bare registry hosts, the
// catalog's namespace (the catalog is read only when needed).
func (o *pushOptions) targets(ctx context.Context, g *globalOptions) ([]string, string, error) {
	bare := len(o.registries) == 0
	for _, r := range o.registries {
		bare = bare || !strings.Contains(strings.TrimSuffix(r, "/"), "/")
	}
	if !bare {
		return o.registries, "", nil
	}
	c, _, err := g.load(ctx)
	if err != nil {
		return nil, "", err
	}
	regs, ns, err := pipeline.Registries(c, o.registries)
	if errors.Is(err, pipeline.ErrNoRegistry) {
		return nil, "", &UsageError{fmt.Errorf("%w: give --registry (e.g. public.ecr.aws/ALIAS)", err)}
	}
	return regs, ns, err
}

func closeRefs(req *pipeline.PublishRequest) error {
	if f, ok := req.ImageRefs.(*os.File); ok {
		return f.Close()
	}
	return nil
}

// print writes the published references (with -o json, the result).
func (o *pushOptions) print(cmd *cobra.Command, res publish.Result) error {
	w := cmd.OutOrStdout()
	if o.format == formatJSON {
		if res.Refs == nil {
			res.Refs = []publish.Ref{}
		}
		return writeJSON(w, res)
	}
	for _, ref := range res.Refs {
		if o.dryRun {
			fmt.Fprintf(w, "%-10s %s\n", ref.Status, ref)
		} else {
			fmt.Fprintln(w, ref)
		}
	}
	for _, n := range res.Notes {
		fmt.Fprintln(cmd.ErrOrStderr(), "note:", n)
	}
	return nil
}

const (
	pushLong = `Publish images from the local store to one or more registries, as
<registry>/<image> (public.ecr.aws/ALIAS/python, docker.io/USER/nodejs, ...).

Each runtime gets, for every catalog tag (3.12 below):
  3.12-x86_64, 3.12-arm64            single-platform images: what Lambda deploys
  3.12                               an index of the architectures present (the
                                     image itself for a single-architecture runtime)
  3.12.2026.11.24[-x86_64|-arm64]    immutable dated tags of the first catalog tag
                                     (never moved: a second build that day gets
                                     3.12.2026.11.24.2)
A non-default variant carries its name: 3.12-alpine, 3.12-alpine-arm64.

Each image is verified first (see 'lambdaimg verify'); a runtime variant with
an image that fails is not published, and push exits non-zero. Blobs already in
a registry are not sent again, a blob shared by several images is uploaded once
per registry (and mounted into the other repositories), unchanged tags are left
alone, and tags are written last, so an interrupted push never leaves a tag on
anything incomplete: run it again to finish.

Only what is new moves: a dated tag is written only for a digest not yet
published, and a runtime variant with an architecture missing from the run or
failing verification is held back whole (a note says so). Each newly tagged
image gets an SPDX SBOM and a changelog against the image its tag named before,
attached as OCI referrers (the sha256-<digest> tag where the registry has no
referrers API); the tag keeps naming the image (--no-attach leaves them out).

Credentials come from the docker config (docker login, credential helpers) and,
for Amazon ECR and ECR Public, from the AWS credential chain.

Pushed references (repository:tag@digest) go to stdout, progress to stderr.`
	pushExample = `  lambdaimg push --registry public.ecr.aws/my-alias
  lambdaimg push --registry public.ecr.aws/my-alias --registry docker.io/me --runtime python3.12
  lambdaimg push --dry-run --os alpine --platform linux/arm64
  lambdaimg push -o json --image-refs pushed.txt   # registries from the catalog's defaults.registries
  lambdaimg push --registry localhost:5000/test --tags arch --jobs 16`
)
