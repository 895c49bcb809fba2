package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/extension"
	"github.com/lambdaimg/lambdaimg/pkg/publish"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/store"
	"github.com/moby/buildkit/client"
	"github.com/spf13/cobra"
)

type buildOptions struct {
	selectOptions
	addr        string
	storeDir    string
	jobs        int
	progress    string
	output      string
	failFast    bool
	mirrors     []string
	rie         string
	caBundle    string
	buildArgs   []string
	packages    []string
	cacheFrom   []string
	cacheTo     []string
	outputs     []string
	sourceEpoch string
	pull        bool
	noCache     bool
	contextsDir string
	extensions  []string
	single      bool // run: exactly one image
	test        bool
	testOpts    testOptions
	push        bool
	pushOpts    pushOptions
}

func newBuildCmd(g *globalOptions, env Env) *cobra.Command {
	o := &buildOptions{}
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build images with BuildKit into the local OCI image store",
		Long: `Build targets (runtime x variant) for each of their architectures with
BuildKit, one single-platform image per target and platform, into a local OCI
image layout (--store). All targets go through one BuildKit client, so stages
they share are built once. A target whose inputs and options have not changed
since it was stored is not built again (--pull rebuilds it).

BuildKit is found at --addr, else BUILDKIT_HOST, else the default socket; if
nothing answers and buildkitd is installed, lambdaimg starts its own (see
'lambdaimg builder status').`,
		Example: `  lambdaimg build --runtime python3.12
  lambdaimg build --runtime nodejs18.x --os debian --platform linux/arm64
  lambdaimg build --all --jobs 8 -o json > results.json
  lambdaimg build --runtime provided.al2023 --os debian \
      --registry-mirror docker.io=mirror.internal:5000 --ca-bundle /etc/ssl/certs/ca-certificates.crt
  lambdaimg build --runtime python3.12 --rie ./rie --output type=oci,dest=python.tar
  lambdaimg build --runtime python3.12 --test --push --registry public.ecr.aws/my-alias`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var tester testerFactory
			if o.test {
				tester = o.testOpts.factory(cmd.ErrOrStderr(), false)
			}
			return runBuild(cmd, g, env, o, tester)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.push, "push", false, "publish the built images as 'lambdaimg push' does, when every target succeeded")
	f.StringArrayVar(&o.pushOpts.registries, "registry", nil, "with --push: registry and path to publish under (repeatable; default: the catalog's defaults.registries)")
	f.StringVar(&o.pushOpts.imageRefs, "image-refs", "", "with --push: also write the published references to this file")
	f.BoolVar(&o.pushOpts.insecure, "insecure", false, "with --push: allow plain-HTTP registries")
	cmd.Flags().BoolVar(&o.test, "test", false, "smoke-test every image as 'lambdaimg test' does before storing it; an image that fails is not stored")
	o.testOpts.bind(cmd, false)
	bindBuildFlags(cmd, o)
	return cmd
}

// bindBuildFlags binds the selection and build flags that build, test and
// run share.
func bindBuildFlags(cmd *cobra.Command, o *buildOptions) {
	o.bind(cmd)
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "", "BuildKit address, e.g. unix:///run/buildkit/buildkitd.sock or tcp://builder:1234 (default $BUILDKIT_HOST, the default socket, or lambdaimg's own buildkitd)")
	f.StringVar(&o.storeDir, "store", store.DefaultDir(), "local OCI image store")
	f.IntVarP(&o.jobs, "jobs", "j", 4, "targets built at once")
	f.StringVar(&o.progress, "progress", "auto", "progress display: auto, tty, plain, rawjson or quiet")
	f.BoolVar(&o.failFast, "fail-fast", false, "stop the other targets after the first failure")
	f.StringArrayVar(&o.mirrors, "registry-mirror", nil, "pull base images of registry SRC from DST instead, SRC=DST (repeatable; adds to the catalog's registryMirrors)")
	f.StringVar(&o.rie, "rie", "", "directory with local Runtime Interface Emulator binaries (<dir>/<arch>/aws-lambda-rie or <dir>/aws-lambda-rie-<arch>) to use instead of the download")
	f.StringVar(&o.caBundle, "ca-bundle", "", "PEM file of CAs that RUN steps (apt, apk, dnf, npm, pip, gem, curl) trust; passed as a BuildKit secret, in no layer")
	f.StringArrayVar(&o.buildArgs, "build-arg", nil, "build argument KEY=VALUE (repeatable)")
	f.StringArrayVar(&o.packages, "package", nil, "extra OS package for the final image (repeatable)")
	f.StringArrayVar(&o.cacheFrom, "cache-from", nil, "cache import, e.g. type=registry,ref=REF or type=local,src=DIR (repeatable)")
	f.StringArrayVar(&o.cacheTo, "cache-to", nil, "cache export, e.g. type=registry,ref=REF,mode=max or type=local,dest=DIR (repeatable)")
	f.StringArrayVarP(&o.outputs, "output", "o", nil, "json or table: the summary format on stdout (default table); type=oci,dest=FILE or type=tar,dest=FILE: also export each image as an OCI tarball or its root filesystem (a directory dest takes one file per image; repeatable)")
	f.StringVar(&o.sourceEpoch, "source-date-epoch", os.Getenv("SOURCE_DATE_EPOCH"), "timestamp for reproducible images, in seconds (default $SOURCE_DATE_EPOCH, else the catalog's sourceDate)")
	f.BoolVar(&o.pull, "pull", false, "resolve base images again and rebuild targets even when their inputs are unchanged")
	f.BoolVar(&o.noCache, "no-cache", false, "do not use BuildKit's cache")
	f.StringVar(&o.contextsDir, "contexts", "", "keep the generated build contexts in this directory (default: a temporary one)")
	f.StringArrayVar(&o.extensions, "extension", nil, "add a Lambda extension under /opt/extensions: a directory, a zip (unpacked as a layer) or an executable (repeatable; adds to the catalog's)")
}

// testerFactory makes the build's Tester once BuildKit is connected.
type testerFactory func(conn *buildkit.Conn) (build.Tester, func(), error)

// runBuild builds the selected targets and prints the summary; with a
// tester each image is smoke-tested before it is stored.
func runBuild(cmd *cobra.Command, g *globalOptions, env Env, o *buildOptions, tester testerFactory) error {
	results, all, err := buildTargets(cmd, g, env, o, tester)
	if err != nil {
		return err
	}
	if err := printResults(cmd, o.output, results); err != nil {
		return err
	}
	if err := resultsError(results, all); err != nil {
		if o.push {
			return fmt.Errorf("%w; nothing was pushed", err)
		}
		return err
	}
	if !o.push {
		return nil
	}
	po := o.pushOpts
	po.store, po.jobs, po.tags, po.output = o.storeDir, 8, publish.TagKinds, "text"
	if o.output == "json" {
		po.output = "json"
	}
	po.only = map[string]bool{}
	for _, r := range results {
		if r.OK() {
			po.only[r.Store] = true
		}
	}
	if len(po.only) == 0 {
		return errors.New("--push: no image was built")
	}
	return runPush(cmd, g, env, &po)
}

// buildTargets does the work of build, test and run: select, render, build.
func buildTargets(cmd *cobra.Command, g *globalOptions, env Env, o *buildOptions, tester testerFactory) ([]build.Result, bool, error) {
	o.output = "table"
	var exports []string
	for _, v := range o.outputs {
		if v == "json" || v == "table" {
			o.output = v
		} else {
			exports = append(exports, v)
		}
	}
	o.outputs = exports
	sel, err := o.selector()
	if err != nil {
		return nil, false, err
	}
	c, tm, err := g.load()
	if err != nil {
		return nil, false, err
	}
	opts, err := o.buildOpts(c, cmd)
	if err != nil {
		return nil, false, err
	}
	for _, p := range o.packages {
		if !catalog.ValidPackage(p) {
			return nil, false, &UsageError{fmt.Errorf("--package %q is not an OS package name (letters, digits and . _ + : = ~ -)", p)}
		}
	}
	targets, err := c.Targets(sel)
	if err != nil {
		return nil, false, &UsageError{err}
	}
	warnDeprecated(cmd, env, targets)
	extRoot, err := os.MkdirTemp("", "lambdaimg-extensions-")
	if err != nil {
		return nil, false, err
	}
	defer os.RemoveAll(extRoot)
	var jobs []build.Job
	for i := range targets {
		t := &targets[i]
		t.Spec.Packages = append(t.Spec.Packages, o.packages...)
		ctx, err := tm.Render(t, render.Options{CA: o.caBundle != ""})
		if err != nil {
			return nil, false, err
		}
		extDir := ""
		if paths := append(t.ExtensionPaths(), o.extensions...); len(paths) > 0 {
			extDir = filepath.Join(extRoot, t.Runtime.ID, t.Variant)
			if err := extension.Layout(extDir, paths); err != nil {
				return nil, false, &UsageError{fmt.Errorf("%s: %w", t.Name(), err)}
			}
		}
		for _, a := range t.Arches {
			jobs = append(jobs, build.Job{Context: ctx, Arch: a, Extensions: extDir})
		}
	}
	if o.single && len(jobs) != 1 {
		return nil, false, &UsageError{fmt.Errorf("this runs one image, and the selection has %d; narrow it with --os and --platform", len(jobs))}
	}
	st, err := store.Open(o.storeDir)
	if err != nil {
		return nil, false, err
	}
	conn, err := buildkit.Connect(cmd.Context(), buildkit.Options{
		Addr: o.addr,
		Logf: func(f string, a ...any) { fmt.Fprintf(cmd.ErrOrStderr(), "lambdaimg: "+f+"\n", a...) },
	})
	if err != nil {
		return nil, false, err
	}
	defer conn.Close()
	if tester != nil {
		t, cleanup, err := tester(conn)
		if err != nil {
			return nil, false, err
		}
		defer cleanup()
		opts.Test = t
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "lambdaimg: building %d image(s) with BuildKit %s at %s (%s) into %s\n",
		len(jobs), conn.Version, conn.Addr, conn.Source, st.Dir())
	results, err := build.New(conn, st, opts).Build(cmd.Context(), jobs)
	return results, sel.All, err
}

func (o *buildOptions) buildOpts(c *catalog.Catalog, cmd *cobra.Command) (build.Options, error) {
	opts := build.Options{
		Jobs: o.jobs, FailFast: o.failFast, Progress: o.progress, ProgressOut: cmd.ErrOrStderr(),
		RIEDir: o.rie, CABundle: o.caBundle, Pull: o.pull, NoCache: o.noCache, WorkDir: o.contextsDir,
		Mirrors: map[string]string{}, BuildArgs: map[string]string{},
	}
	for k, v := range c.Defaults.RegistryMirrors {
		opts.Mirrors[k] = v
	}
	for _, m := range o.mirrors {
		src, dst, err := build.ParseMirror(m)
		if err != nil {
			return opts, &UsageError{err}
		}
		opts.Mirrors[src] = dst
	}
	for _, a := range o.buildArgs {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return opts, &UsageError{fmt.Errorf("--build-arg %q: want KEY=VALUE", a)}
		}
		opts.BuildArgs[k] = v
	}
	for _, f := range []struct {
		flag string
		vals []string
		dst  *[]client.CacheOptionsEntry
	}{{"--cache-from", o.cacheFrom, &opts.CacheImports}, {"--cache-to", o.cacheTo, &opts.CacheExports}} {
		for _, v := range f.vals {
			e, err := parseCache(v)
			if err != nil {
				return opts, &UsageError{fmt.Errorf("%s: %w", f.flag, err)}
			}
			*f.dst = append(*f.dst, e)
		}
	}
	for _, v := range o.outputs {
		out, err := build.ParseOutput(v)
		if err != nil {
			return opts, &UsageError{err}
		}
		opts.Outputs = append(opts.Outputs, out)
	}
	if o.rie != "" {
		if st, err := os.Stat(o.rie); err != nil || !st.IsDir() {
			return opts, &UsageError{fmt.Errorf("--rie %s: not a directory", o.rie)}
		}
	}
	if o.caBundle != "" {
		if _, err := os.Stat(o.caBundle); err != nil {
			return opts, &UsageError{fmt.Errorf("--ca-bundle: %w", err)}
		}
	}
	switch {
	case o.sourceEpoch != "":
		n, err := strconv.ParseInt(o.sourceEpoch, 10, 64)
		if err != nil || n < 0 {
			return opts, &UsageError{fmt.Errorf("--source-date-epoch %q: want seconds since 1970", o.sourceEpoch)}
		}
		opts.SourceDateEpoch = n
	case c.Defaults.SourceDate != "":
		d, err := catalog.ParseDate(c.Defaults.SourceDate)
		if err != nil {
			return opts, err
		}
		opts.SourceDateEpoch = d.Unix()
	}
	return opts, nil
}

// parseCache parses "type=registry,ref=REF,mode=max".
func parseCache(s string) (client.CacheOptionsEntry, error) {
	e := client.CacheOptionsEntry{Attrs: map[string]string{}}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return e, fmt.Errorf("%q: want type=TYPE,key=value,...", s)
		}
		if k == "type" {
			e.Type = v
		} else {
			e.Attrs[k] = v
		}
	}
	if e.Type == "" {
		return e, fmt.Errorf("%q: type is required (registry, local, inline, gha, s3)", s)
	}
	return e, nil
}

func printResults(cmd *cobra.Command, format string, results []build.Result) error {
	out := cmd.OutOrStdout()
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tPLATFORM\tDIGEST\tSIZE\tDURATION\tSTATUS")
	for _, r := range results {
		digest := r.Digest
		if digest == "" {
			digest = "-"
		}
		size := "-"
		if r.Size > 0 {
			size = humanSize(r.Size)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1fs\t%s\n", r.Target, r.Platform, digest, size, r.Seconds, r.Status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if r.Status == build.Failed || r.Status == build.Skipped {
			fmt.Fprintf(out, "\n%s %s %s: %s\n", r.Target, r.Platform, r.Status, r.Reason)
			for _, l := range r.FailedLines {
				fmt.Fprintln(out, "  "+l)
			}
		}
	}
	return nil
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// resultsError turns failed (and, unless building --all, skipped) targets
// into a non-zero exit.
func resultsError(results []build.Result, all bool) error {
	var failed, skipped int
	for _, r := range results {
		switch r.Status {
		case build.Failed, build.Canceled:
			failed++
		case build.Skipped:
			skipped++
		}
	}
	switch {
	case failed > 0:
		return fmt.Errorf("%d of %d image(s) failed", failed, len(results))
	case skipped > 0 && !all:
		return errors.New("some images could not be built on this machine (see above)")
	}
	return nil
}
