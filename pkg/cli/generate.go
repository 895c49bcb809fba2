package cli

import (
	"fmt"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/pipeline"
	"github.com/spf13/cobra"
)

type generateOptions struct {
	selectOptions
	dir    string
	format string
	json   bool
}

func newGenerateCmd(g *globalOptions) *cobra.Command {
	o := &generateOptions{}
	cmd := &cobra.Command{
		Use:     "generate",
		Short:   "Render build contexts (Dockerfile, entry script, bootstrap) for targets",
		Long:    generateLong,
		Example: generateExample,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd, g) },
	}
	o.bind(cmd)
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", "contexts", "directory to write the build contexts into (DIR/<runtime>/<variant>)")
	f.StringVarP(&o.format, "output", "o", formatTable, "output format: table (one directory per line) or json")
	f.BoolVar(&o.json, "json", false, "same as -o json")
	_ = f.MarkDeprecated("json", "use -o json")
	return cmd
}

// outputFlags reads -o, which used to name the directory: a value that is
// not a format is still taken as --dir, with a note.
func (o *generateOptions) outputFlags(cmd *cobra.Command) error {
	if o.json {
		o.format = formatJSON
	}
	if o.format != formatTable && o.format != formatJSON {
		fmt.Fprintf(cmd.ErrOrStderr(), "note: -o %s is now --dir %s; -o will take only a format in a later release\n", o.format, o.format)
		o.dir, o.format = o.format, formatTable
	}
	return nil
}

const (
	generateLong = `Render one build-context directory per target (runtime x variant) into
DIR/<runtime>/<variant> (--dir): the Dockerfile, /lambda-entrypoint.sh, the
runtime bootstrap and anything else the build needs. Output is byte-identical
on every run. The Dockerfile builds for every architecture of the target; pass
--platform to select only targets that have it. The written directories go to
stdout (-o json: one object per context); the files a target's extensions
come from, what the catalog takes from this machine, are listed on stderr and
in the JSON ("extensions").`
	generateExample = `  lambdaimg generate --runtime python3.12 --dir contexts
  lambdaimg generate --runtime nodejs18.x --os debian
  lambdaimg generate --all --os alpine --platform linux/arm64 -o json`
)

func (o *generateOptions) run(cmd *cobra.Command, g *globalOptions) error {
	if err := o.outputFlags(cmd); err != nil {
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
	out, err := pipeline.Generate(c, tm, sel, o.dir)
	if err != nil {
		return usage(err)
	}
	for _, gen := range out {
		if len(gen.Extensions) > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "note: %s takes extensions from this machine: %s\n", gen.Target, strings.Join(gen.Extensions, ", "))
		}
	}
	if o.format == formatJSON {
		return writeJSON(cmd.OutOrStdout(), out)
	}
	for _, gen := range out {
		fmt.Fprintln(cmd.OutOrStdout(), gen.Dir)
	}
	return nil
}
