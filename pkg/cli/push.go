package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/lambdaimg/lambdaimg/pkg/registry"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/publish"
	"github.com/lambdaimg/lambdaimg/pkg/store"
	"github.com/lambdaimg/lambdaimg/pkg/verify"
	"github.com/spf13/cobra"
)

type pushOptions struct {
	store      string
	registries []string
	runtimes   []string
	variants   []string
	platforms  []string
	tags       []string
	jobs       int
	imageRefs  string
	output     string
	noVerify   bool
	insecure   bool
	dryRun     bool
	// only, when set, limits the push to these store refs (build --push).
	only map[string]bool
}

func newPushCmd(g *globalOptions, env Env) *cobra.Command {
	o := &pushOptions{}
	cmd := &cobra.Command{
		Use:   "push",
		Short: "Publish the store's images to registries, verified, with AWS-style tags",
		Long: `Publish images from the local store to one or more registries, as
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

Credentials come from the docker config (docker login, credential helpers) and,
for Amazon ECR and ECR Public, from the AWS credential chain.

Pushed references (repository:tag@digest) go to stdout, progress to stderr.`,
		Example: `  lambdaimg push --registry public.ecr.aws/my-alias
  lambdaimg push --registry public.ecr.aws/my-alias --registry docker.io/me --runtime python3.12
  lambdaimg push --dry-run --os alpine --platform linux/arm64
  lambdaimg push -o json --image-refs pushed.txt   # registries from the catalog's defaults.registries
  lambdaimg push --registry localhost:5000/test --tags arch --jobs 16`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPush(cmd, g, env, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.store, "store", store.DefaultDir(), "the image store to publish from")
	f.StringArrayVar(&o.registries, "registry", nil, "registry and path to publish under, e.g. public.ecr.aws/ALIAS (repeatable; default: the catalog's defaults.registries)")
	f.StringSliceVarP(&o.runtimes, "runtime", "r", nil, "only these runtimes, e.g. python3.12 (repeatable)")
	f.StringSliceVar(&o.variants, "os", nil, "only these variants: a variant name or an OS family, e.g. aws, alpine (which takes alpine3.20 too)")
	f.StringSliceVar(&o.platforms, "platform", nil, "only these platforms, linux/amd64 or linux/arm64 (a runtime with another architecture in the store then keeps its index tags as they are)")
	f.StringSliceVar(&o.tags, "tags", publish.TagKinds, "kinds of tags to write: arch, index, dated")
	f.IntVarP(&o.jobs, "jobs", "j", 8, "concurrent requests per registry")
	f.StringVar(&o.imageRefs, "image-refs", "", "also write the published references to this file, one per line")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	f.BoolVar(&o.noVerify, "no-verify", false, "publish images even if they fail verification")
	f.BoolVar(&o.insecure, "insecure", false, "allow plain-HTTP registries (localhost and 127.0.0.1 always are)")
	f.BoolVar(&o.dryRun, "dry-run", false, "print which tags would be written and which are already in place; write nothing")
	return cmd
}

func runPush(cmd *cobra.Command, g *globalOptions, env Env, o *pushOptions) error {
	if o.output != "text" && o.output != "json" {
		return &UsageError{fmt.Errorf("-o %q: use text or json", o.output)}
	}
	if o.jobs < 1 {
		return &UsageError{fmt.Errorf("--jobs %d: want at least 1", o.jobs)}
	}
	if o.dryRun && o.imageRefs != "" {
		return &UsageError{errors.New("--image-refs records what was pushed: not with --dry-run")}
	}
	scheme, err := publish.ParseTagScheme(o.tags)
	if err != nil {
		return &UsageError{fmt.Errorf("--tags: %w", err)}
	}
	var arches []string
	for _, p := range o.platforms {
		a, err := catalog.ParsePlatform(p)
		if err != nil {
			return &UsageError{fmt.Errorf("--platform: %w", err)}
		}
		arches = append(arches, string(a))
	}
	registries, namespace, err := o.targets(g)
	if err != nil {
		return err
	}
	entries, err := o.entries()
	if err != nil {
		return err
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	popts := []publish.PlanOption{publish.WithClock(now), publish.WithTagScheme(scheme), publish.WithNamespace(namespace)}
	if len(arches) > 0 {
		popts = append(popts, publish.WithArches(arches...))
	}
	plan, err := publish.Plan(entries, registries, popts...)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	for _, a := range plan {
		for _, n := range a.Notes {
			fmt.Fprintf(stderr, "note: %s: %s\n", a.Repository, n)
		}
	}
	p, closeRefs, err := o.publisher(stderr)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	res, err := p.Publish(ctx, plan)
	if cerr := closeRefs(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if werr := writePushResult(cmd.OutOrStdout(), o, res); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

// targets returns the registries to publish to and the namespace for bare
// registry hosts, from the flags or else the catalog.
func (o *pushOptions) targets(g *globalOptions) ([]string, string, error) {
	bare := len(o.registries) == 0
	for _, r := range o.registries {
		if !strings.Contains(strings.TrimSuffix(r, "/"), "/") {
			bare = true
		}
	}
	if !bare {
		return o.registries, "", nil
	}
	c, _, err := g.load()
	if err != nil {
		return nil, "", err
	}
	regs := o.registries
	if len(regs) == 0 {
		regs = c.Defaults.Registries
	}
	if len(regs) == 0 {
		return nil, "", &UsageError{errors.New("no registry: give --registry (e.g. public.ecr.aws/ALIAS) or set defaults.registries in the catalog")}
	}
	return regs, c.Defaults.Namespace, nil
}

// entries returns the store's images that the filters select.
func (o *pushOptions) entries() ([]store.Entry, error) {
	if st, err := os.Stat(o.store); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("no image store at %s: build images first, or give --store", o.store)
	}
	st, err := store.Open(o.store)
	if err != nil {
		return nil, err
	}
	all, err := st.List()
	if err != nil {
		return nil, err
	}
	var out []store.Entry
	for _, e := range all {
		if o.only != nil && !o.only[e.Name()] {
			continue
		}
		if matches(o.runtimes, e.Runtime, false) && matches(o.variants, e.Variant, true) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no image in the store at %s matches --runtime %v --os %v (it holds %d)", o.store, o.runtimes, o.variants, len(all))
	}
	return out, nil
}

// matches reports whether v is in filter (an empty filter takes all).
// With family, a filter entry also takes the variants of its OS family:
// alpine takes alpine3.20, but al2 does not take al2023.
func matches(filter []string, v string, family bool) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		if v == f {
			return true
		}
		if rest, ok := strings.CutPrefix(v, f); family && ok && f != "al2" && rest != "" && strings.ContainsRune("0123456789-._", rune(rest[0])) {
			return true
		}
	}
	return false
}

// publisher wires the publisher: remote (or dry run), recorder, verifier.
func (o *pushOptions) publisher(stderr io.Writer) (publish.Publisher, func() error, error) {
	st, err := store.Open(o.store)
	if err != nil {
		return nil, nil, err
	}
	progress := &lockedWriter{w: stderr}
	rt, err := registry.NewRetryTransport(remote.DefaultTransport, registry.WithRetryLog(func(f string, a ...any) {
		fmt.Fprintf(progress, f+"\n", a...)
	}))
	if err != nil {
		return nil, nil, err
	}
	r, err := publish.New(st, publish.WithJobs(o.jobs), publish.WithInsecure(o.insecure),
		publish.WithProgress(progress), publish.WithTransport(rt), publish.WithUserAgent("lambdaimg/"+Version))
	if err != nil {
		return nil, nil, err
	}
	var p publish.Publisher = r
	closeRefs := func() error { return nil }
	if o.dryRun {
		p = publish.DryRun(r)
	} else if o.imageRefs != "" {
		f, err := os.Create(o.imageRefs)
		if err != nil {
			return nil, nil, fmt.Errorf("--image-refs: %w", err)
		}
		p, closeRefs = publish.Recorder(p, f), f.Close
	}
	if !o.noVerify {
		v, err := verify.New()
		if err != nil {
			return nil, nil, err
		}
		p = publish.Verified(p, st, v)
	}
	return p, closeRefs, nil
}

func writePushResult(w io.Writer, o *pushOptions, res publish.Result) error {
	if o.output == "json" {
		if res.Refs == nil {
			res.Refs = []publish.Ref{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	for _, ref := range res.Refs {
		var err error
		if o.dryRun {
			_, err = fmt.Fprintf(w, "%-10s %s\n", ref.Status, ref)
		} else {
			_, err = fmt.Fprintln(w, ref)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// lockedWriter serialises writes from concurrent goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
