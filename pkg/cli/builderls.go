package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/pipeline"
	"github.com/spf13/cobra"
)

type builderLsOptions struct {
	addr, output string
	builders     []string
}

func newBuilderLsCmd(g *globalOptions) *cobra.Command {
	o := &builderLsOptions{}
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the builders a build would use: address, reachable, version, platforms, builds running",
		Long: `List the BuildKit daemons a build would use, as build picks them: --builder,
else --addr or BUILDKIT_HOST, else the user config file's builders (--config,
$LAMBDAIMG_CONFIG, ~/.config/lambdaimg/config.yaml), else the catalog's
defaults.builders, else the default socket or lambdaimg's own buildkitd (never
started by ls). SOURCE says which of them named each builder.

PLATFORMS marks those a builder emulates with "(emulated)": a builder's native
platform is the first of each worker's list, where buildkitd puts its host's,
or every platform named with platform= for it. RUNNING counts the builds the
daemon runs now from any client (its build history); "-" when it cannot say.`,
		Example: `  lambdaimg builder ls
  lambdaimg builder ls --config ~/pool.yaml
  lambdaimg builder ls --builder tcp://amd:1234 --builder tcp://arm:1234,cacert=ca.pem,cert=c.pem,key=k.pem -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(cmd, &o.output, formatTable, formatJSON); err != nil {
				return err
			}
			specs, err := o.specs(cmd, g)
			if err != nil {
				return err
			}
			infos := buildkit.List(cmd.Context(), specs, buildkit.Options{Addr: o.addr})
			if o.output == formatJSON {
				return writeJSON(cmd.OutOrStdout(), infos)
			}
			return printBuilders(cmd.OutOrStdout(), cmd.ErrOrStderr(), infos)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.builders, "builder", nil, "a builder as build takes it (repeatable)")
	f.StringVar(&o.addr, "addr", "", "BuildKit address (default as for build)")
	f.StringVarP(&o.output, "output", "o", formatTable, "output format: table or json")
	return cmd
}

// specs are the builders named by the flags, else the config file's,
// else the catalog's.
func (o *builderLsOptions) specs(cmd *cobra.Command, g *globalOptions) ([]buildkit.Spec, error) {
	var flags []buildkit.Spec
	for _, b := range o.builders {
		sp, err := buildkit.ParseSpec(b)
		if err != nil {
			return nil, &UsageError{fmt.Errorf("--builder: %w", err)}
		}
		flags = append(flags, sp)
	}
	user, err := g.configBuilders()
	if err != nil {
		return nil, err
	}
	c, _, err := g.load(cmd.Context())
	if err != nil {
		return nil, err
	}
	return pipeline.Builders(flags, o.addr, user, c)
}

// printBuilders prints the table on w and why a builder is unreachable on
// errOut.
func printBuilders(w, errOut io.Writer, infos []buildkit.Info) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tREACHABLE\tVERSION\tPLATFORMS\tRUNNING\tSOURCE")
	for _, in := range infos {
		reach, version, running := "yes", in.Version, "-"
		if !in.Reachable {
			reach = "no"
		}
		if version == "" {
			version = "-"
		}
		if in.Running >= 0 {
			running = fmt.Sprint(in.Running)
		}
		var ps []string
		for _, p := range in.Platforms {
			if !p.Native {
				p.Platform += " (emulated)"
			}
			ps = append(ps, p.Platform)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", in.Address, reach, version, strings.Join(ps, ", "), running, in.Source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, in := range infos {
		if in.Error != "" {
			fmt.Fprintf(errOut, "%s: %s\n", in.Address, in.Error)
		}
	}
	return nil
}
