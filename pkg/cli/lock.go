package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/lambdaimg/lambdaimg/pkg/lock"
	"github.com/lambdaimg/lambdaimg/pkg/pipeline"
	"github.com/lambdaimg/lambdaimg/pkg/store"
	"github.com/spf13/cobra"
)

// LockOutdated is the exit status of lock without --update when the lock
// would change (the same as plan's "something to rebuild").
const LockOutdated = PlanChanged

type lockOptions struct {
	selectOptions
	file     string
	update   bool
	storeDir string
	mirrors  []string
	format   string
}

func newLockCmd(g *globalOptions) *cobra.Command {
	o := &lockOptions{}
	cmd := &cobra.Command{
		Use:     "lock",
		Short:   "Resolve every input of the selected targets, without building, into lambdaimg.lock",
		Long:    lockLong,
		Example: lockExample,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd, g) },
	}
	o.bind(cmd)
	f := cmd.Flags()
	f.StringVar(&o.file, "lock", lock.DefaultFile, "the lock file to write")
	f.BoolVar(&o.update, "update", false, "move the values the lock already holds forward (without it, a change to them is refused with exit status 10)")
	f.StringVar(&o.storeDir, "store", store.DefaultDir(), "the image store whose built images give the OS packages")
	f.StringArrayVar(&o.mirrors, "registry-mirror", nil, "look base images of registry SRC up in DST instead, SRC=DST (repeatable; adds to the catalog's registryMirrors); use the build's")
	f.StringVarP(&o.format, "output", "o", formatTable, "output format: table or json")
	return cmd
}

func (o *lockOptions) run(cmd *cobra.Command, g *globalOptions) error {
	if err := checkFormat(cmd, &o.format, formatTable, formatJSON); err != nil {
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
	res, err := pipeline.Lock(cmd.Context(), pipeline.LockRequest{Catalog: c, Templates: tm, Select: sel, File: o.file,
		Update: o.update, StoreDir: o.storeDir, Mirrors: mirrors, Log: cmd.ErrOrStderr()})
	if res != nil {
		if perr := o.print(cmd.OutOrStdout(), res); perr != nil {
			return perr
		}
	}
	if errors.Is(err, lock.ErrOutdated) {
		return &ExitError{Code: LockOutdated, Err: err}
	}
	return usage(err)
}

func (o *lockOptions) print(out io.Writer, res *lock.Result) error {
	if o.format == formatJSON {
		return writeJSON(out, res)
	}
	for _, c := range res.Changes {
		fmt.Fprintln(out, c)
	}
	what := "unchanged"
	switch {
	case res.Written:
		what = "written"
	case len(res.Changes) > 0:
		what = "not written"
	}
	_, err := fmt.Fprintf(out, "%s: %s (%d targets resolved, %d changes)\n", res.File, what, len(res.Targets), len(res.Changes))
	return err
}

const (
	lockLong = `Resolve every input of the selected targets without building and write them
to lambdaimg.lock (or --lock FILE), a YAML file meant to be committed and
reviewed in pull requests. For each target ("runtime/variant") it holds:

  inputs    the digest of the catalog entry and the templates
  images    every image the Dockerfile pulls (BASE_IMAGE, BUILD_IMAGE, ...):
            the digest the reference resolves to and each platform's
            manifest digest (a HEAD request per reference; the manifest is
            fetched only when the digest is new); mirrors and credentials
            are used as by build
  packages  the Runtime Interface Client and other pinned language packages,
            with the checksums npm (integrity), PyPI (sha256 of the sdist
            and of each wheel that fits the runtime's Python and
            architectures) and Maven Central publish; RubyGems, NuGet and
            language source tarballs are recorded by version only
  rie       the emulator release and its sha256 per architecture
  os        the OS packages (dpkg) of each platform's image in the store,
            when it was built from the same inputs on the locked bases

Keys are sorted: the same resolution writes the same bytes. A lock of some
targets keeps the file's other targets.

Without --update, lock adds what is new (targets, platforms, the OS packages
of a newly built image) but refuses to change a value the file holds: it
prints what would change and exits with status 10, leaving the file as it is
(a scheduled job can run it as a check). With --update it writes the changes.

Exit status: 0 when the file holds the resolution, 10 when it is out of
date, 1 when the inputs could not be resolved, 2 for a usage error.

'lambdaimg build --locked' builds exactly what the lock holds.`
	lockExample = `  lambdaimg lock --all
  lambdaimg lock --runtime python3.12 --os debian --lock locks/python.lock
  lambdaimg lock --all --update && git diff lambdaimg.lock
  lambdaimg lock --all -o json | jq '.changes'`
)
