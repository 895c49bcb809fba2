package cli

import (
	"errors"
	"fmt"
	"github.com/lambdaimg/lambdaimg/pkg/smoke"
	"os"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/lock"
	"github.com/lambdaimg/lambdaimg/pkg/pipeline"
	"github.com/lambdaimg/lambdaimg/pkg/store"
	"github.com/spf13/cobra"
)

// buildOptions are the flags of build, test and run.
type buildOptions struct {
	selectOptions
	addr        string
	builders    []string
	specs       []buildkit.Spec
	storeDir    string
	jobs        int
	progress    string
	outputs     []string // -o: the format; old form: exports
	format      string
	failFast    bool
	mirrors     []string
	apt         []string
	rie         string
	caBundle    string
	buildArgs   []string
	packages    []string
	cacheFrom   []string
	cacheTo     []string
	exports     []string
	sourceEpoch string
	pull        bool
	noCache     bool
	contextsDir string
	extensions  []string
	locked      bool
	lockFile    string
}

func newBuildCmd(g *globalOptions, env Env) *cobra.Command {
	o := &buildOptions{}
	t := &testOptions{}
	p := &pushOptions{}
	var test, push bool
	cmd := &cobra.Command{
		Use:     "build",
		Short:   "Build images with BuildKit into the local OCI image store",
		Long:    buildLong,
		Example: buildExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := o.request(cmd, g, env)
			if err != nil {
				return err
			}
			if test {
				if req.Test, err = t.plan(g.getenv); err != nil {
					return err
				}
				req.Test.SampleLayer = smoke.HasSampleLayer(o.extensions...)
			}
			if push {
				p.storeDir = o.storeDir
				if req.Publish, err = p.request(cmd, g, env); err != nil {
					return err
				}
			}
			rep, err := pipeline.Run(cmd.Context(), req)
			return finishRun(cmd, o.format, rep, err, push)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&push, "push", false, "publish the built images as 'lambdaimg push' does, when every target succeeded")
	p.bindTargets(cmd, "push-jobs")
	f.BoolVar(&test, "test", false, "smoke-test every image as 'lambdaimg test' does before storing it; an image that fails is not stored")
	t.bind(cmd, false)
	o.bind(cmd)
	return cmd
}

// bind binds the selection and build flags that build, test and run share.
func (o *buildOptions) bind(cmd *cobra.Command) {
	o.selectOptions.bind(cmd)
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "", "BuildKit address, e.g. unix:///run/buildkit/buildkitd.sock or tcp://builder:1234 (default $BUILDKIT_HOST, the default socket, or lambdaimg's own buildkitd)")
	f.StringArrayVar(&o.builders, "builder", nil, "build with this BuildKit daemon, in a pool with the other --builder ones (repeatable; replaces --addr, BUILDKIT_HOST and the config file's and catalog's builders): ADDR[,cacert=FILE,cert=FILE,key=FILE,servername=NAME][,platform=P]...[,jobs=N]; ADDR is any address BuildKit takes (unix://, tcp://, docker-container://, kube-pod://, ssh://, ...)")
	f.StringVar(&o.storeDir, "store", store.DefaultDir(), "local OCI image store")
	f.IntVarP(&o.jobs, "jobs", "j", 4, "targets built at once")
	f.StringVar(&o.progress, "progress", "auto", "progress display: auto, tty, plain, rawjson or quiet")
	f.StringArrayVarP(&o.outputs, "output", "o", nil, "output format on stdout: table or json (default table)")
	f.BoolVar(&o.failFast, "fail-fast", false, "stop the other targets after the first failure")
	f.StringArrayVar(&o.mirrors, "registry-mirror", nil, "pull base images of registry SRC from DST instead, SRC=DST (repeatable; adds to the catalog's registryMirrors)")
	f.StringArrayVar(&o.apt, "apt-mirror", nil, aptMirrorUsage)
	f.StringVar(&o.rie, "rie", "", "directory with local Runtime Interface Emulator binaries (<dir>/<arch>/aws-lambda-rie or <dir>/aws-lambda-rie-<arch>) to use instead of the download")
	f.StringVar(&o.caBundle, "ca-bundle", "", "PEM file of CAs that RUN steps (apt, apk, dnf, npm, pip, gem, curl) trust; passed as a BuildKit secret, in no layer")
	f.StringArrayVar(&o.buildArgs, "build-arg", nil, "build argument KEY=VALUE (repeatable)")
	f.StringArrayVar(&o.packages, "package", nil, "extra OS package for the final image (repeatable)")
	f.StringArrayVar(&o.cacheFrom, "cache-from", nil, "cache import, e.g. type=registry,ref=REF or type=local,src=DIR; {job} in REF or DIR becomes runtime-variant-arch (repeatable)")
	f.StringArrayVar(&o.cacheTo, "cache-to", nil, "cache export, e.g. type=registry,ref=REF,mode=max or type=local,dest=DIR; {job} in REF or DIR becomes runtime-variant-arch, so jobs do not overwrite each other's cache (repeatable)")
	f.StringArrayVar(&o.exports, "export", nil, "also export each image: type=oci,dest=FILE (an OCI tarball) or type=tar,dest=FILE (its root filesystem); a directory dest takes one file per image (repeatable)")
	f.StringVar(&o.sourceEpoch, "source-date-epoch", os.Getenv("SOURCE_DATE_EPOCH"), "timestamp for reproducible images, in seconds (default $SOURCE_DATE_EPOCH, else the catalog's sourceDate)")
	f.BoolVar(&o.pull, "pull", false, "resolve base images again and rebuild targets even when their inputs are unchanged")
	f.BoolVar(&o.noCache, "no-cache", false, "do not use BuildKit's cache (and rebuild targets even when their inputs are unchanged)")
	f.StringVar(&o.contextsDir, "contexts", "", "keep the generated build contexts in this directory (default: a temporary one)")
	f.BoolVar(&o.locked, "locked", false, "build exactly what the lock holds: base images by digest, and an image whose OS packages or RIC differ from the lock's fails; refused when the lock lacks a selected target or was made from another catalog entry or templates (see 'lambdaimg lock')")
	f.StringVar(&o.lockFile, "lock", lock.DefaultFile, "the lock file --locked builds")
	f.StringArrayVar(&o.extensions, "extension", nil, "add a Lambda extension under /opt/extensions: a directory, a zip (unpacked as a layer) or an executable (repeatable; adds to the catalog's)")
}

// request turns the flags into a pipeline request.
func (o *buildOptions) request(cmd *cobra.Command, g *globalOptions, env Env) (pipeline.Request, error) {
	if err := o.splitOutputs(cmd); err != nil {
		return pipeline.Request{}, err
	}
	if err := o.checkRun(); err != nil {
		return pipeline.Request{}, err
	}
	sel, err := o.selector()
	if err != nil {
		return pipeline.Request{}, err
	}
	c, tm, err := g.load(cmd.Context())
	if err != nil {
		return pipeline.Request{}, err
	}
	opts, err := o.buildOpts(c)
	if err != nil {
		return pipeline.Request{}, err
	}
	lim, err := g.limits()
	if err != nil {
		return pipeline.Request{}, err
	}
	user, err := g.configBuilders()
	if err != nil {
		return pipeline.Request{}, err
	}
	opts.ProgressOut = cmd.ErrOrStderr()
	lk, err := o.readLock(cmd)
	if err != nil {
		return pipeline.Request{}, err
	}
	logf := func(f string, a ...any) { fmt.Fprintf(cmd.ErrOrStderr(), "lambdaimg: "+f+"\n", a...) }
	return pipeline.Request{
		Catalog: c, Templates: tm, Select: sel, Packages: o.packages, Extensions: o.extensions, ExtensionLimits: lim.extension,
		Build: opts, StoreDir: o.storeDir, BuildKit: buildkit.Options{Addr: o.addr, Logf: logf}, Builders: o.specs,
		ConfigBuilders: user, Log: cmd.ErrOrStderr(), Now: env.Now, Lock: lk, LockFile: o.lockFile,
	}, nil
}

// readLock reads the lock of --locked (nil without it) and refuses the
// flags that would build something else than it holds.
func (o *buildOptions) readLock(cmd *cobra.Command) (*lock.File, error) {
	if !o.locked {
		if cmd.Flags().Changed("lock") {
			return nil, &UsageError{fmt.Errorf("--lock names the lock of --locked: add --locked")}
		}
		return nil, nil
	}
	if len(o.packages) > 0 {
		return nil, &UsageError{fmt.Errorf("--package: extra OS packages are not in the lock; build them without --locked")}
	}
	for _, a := range o.buildArgs {
		if k, _, _ := strings.Cut(a, "="); strings.HasSuffix(k, "_IMAGE") {
			return nil, &UsageError{fmt.Errorf("--build-arg %s: --locked takes the images from the lock; leave it out", k)}
		}
	}
	return lock.Read(o.lockFile)
}

// checkRun checks --jobs and parses --builder.
func (o *buildOptions) checkRun() error {
	if o.jobs < 1 {
		return &UsageError{fmt.Errorf("--jobs %d: want at least 1", o.jobs)}
	}
	if o.addr != "" && len(o.builders) > 0 {
		return &UsageError{fmt.Errorf("--addr and --builder: name every daemon with --builder")}
	}
	for _, b := range o.builders {
		sp, err := buildkit.ParseSpec(b)
		if err != nil {
			return &UsageError{fmt.Errorf("--builder: %w", err)}
		}
		o.specs = append(o.specs, sp)
	}
	return nil
}

// splitOutputs reads -o: a format, or (the old form, now --export) an
// export, which is still taken with a note.
func (o *buildOptions) splitOutputs(cmd *cobra.Command) error {
	o.format = formatTable
	for _, v := range o.outputs {
		if strings.Contains(v, "=") {
			fmt.Fprintf(cmd.ErrOrStderr(), "note: -o %s is now --export %s; -o will take only a format in a later release\n", v, v)
			o.exports = append(o.exports, v)
			continue
		}
		o.format = v
	}
	return checkFormat(cmd, &o.format, formatTable, formatJSON)
}

// finishRun prints a run's report (one document with -o json) and returns
// the run's error: its own, or that of the images that failed.
func finishRun(cmd *cobra.Command, format string, rep *pipeline.Report, err error, push bool) error {
	if rep == nil {
		return usage(err)
	}
	var perr error
	if format == formatJSON {
		perr = writeJSON(cmd.OutOrStdout(), rep)
	} else {
		perr = printReport(cmd, rep)
	}
	if err == nil {
		if err = rep.Err(); err != nil && push {
			err = fmt.Errorf("%w; the runtime variants they belong to were held back (no tag of theirs moved)", err)
		}
	}
	return errors.Join(err, perr)
}

const (
	buildLong = `Build targets (runtime x variant) for each of their architectures with
BuildKit, one single-platform image per target and platform, into a local OCI
image layout (--store). All targets go through one BuildKit client, so stages
they share are built once. Every image passes 'lambdaimg verify' before it is
stored (and, with --test, the smoke test of 'lambdaimg test'; with --locked,
the lock's OS packages and RIC): one that fails is not stored. A target whose inputs and options have not changed since it was
stored is not built again (--pull or --no-cache rebuilds it).

BuildKit is found at --addr, else BUILDKIT_HOST, else the default socket; if
nothing answers and buildkitd is installed, lambdaimg starts its own (see
'lambdaimg builder status').

With several daemons (--builder, repeatable; when neither --addr nor
BUILDKIT_HOST is set, the builders of the user config file, --config or
~/.config/lambdaimg/config.yaml, else the catalog's defaults.builders), each target
and platform goes to a builder that builds that platform natively when one
does (else one that emulates it), the one running the fewest jobs, preferring
the builder that already built the same target. A builder that does not
answer at the start is skipped with a warning (an error when no other builds
the platforms named for it); one that dies during a build has its job run
once more on another, and the summary says so. Images do not depend on the
builder: builds are reproducible. See 'lambdaimg builder ls'.`
	buildExample = `  lambdaimg build --runtime python3.12
  lambdaimg build --runtime nodejs18.x --os debian --platform linux/arm64
  lambdaimg build --all --jobs 8 -o json > results.json
  lambdaimg build --runtime provided.al2023 --os debian \
      --registry-mirror docker.io=mirror.internal:5000 --ca-bundle /etc/ssl/certs/ca-certificates.crt
  lambdaimg build --runtime python3.12 --rie ./rie --export type=oci,dest=python.tar
  lambdaimg build --runtime python3.12 --test --push --registry public.ecr.aws/my-alias
  lambdaimg lock --all && lambdaimg build --all --locked      # base images by the lock's digests`
)
