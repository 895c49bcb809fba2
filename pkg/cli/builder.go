package cli

import (
	"fmt"
	"io"

	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/spf13/cobra"
)

func newBuilderCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "builder",
		Short: "List, show, stop or prune the BuildKit daemons lambdaimg builds with",
		Example: `  lambdaimg builder ls
  lambdaimg builder status
  lambdaimg builder status -o json
  lambdaimg builder stop
  lambdaimg builder prune --keep-storage 10GB`,
	}
	cmd.AddCommand(newBuilderLsCmd(g), newBuilderStatusCmd(), newBuilderStopCmd(), newBuilderPruneCmd())
	return cmd
}

type builderStatus struct {
	Address   string   `json:"address"`
	Source    string   `json:"source"`
	Version   string   `json:"version"`
	Platforms []string `json:"platforms"`
	Embedded  bool     `json:"embedded"`
	PID       int      `json:"pid,omitempty"`
	Orphan    bool     `json:"orphan,omitempty"`
	StateDir  string   `json:"stateDir,omitempty"`
}

func newBuilderStatusCmd() *cobra.Command {
	var addr, output string
	var start bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show which BuildKit daemon lambdaimg would use, its version and platforms",
		Example: `  lambdaimg builder status
  lambdaimg builder status --addr tcp://builder:1234 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(cmd, &output, formatTable, formatJSON); err != nil {
				return err
			}
			conn, err := buildkit.Connect(cmd.Context(), buildkit.Options{Addr: addr, NoStart: !start})
			if err != nil {
				return err
			}
			defer conn.Close()
			st := builderStatus{Address: conn.Addr, Source: conn.Source, Version: conn.Version, Platforms: conn.Platforms,
				Embedded: conn.Source == buildkit.SourceEmbedded}
			if st.Embedded {
				st.StateDir = buildkit.DefaultStateDir()
				d, _ := buildkit.FindEmbedded(st.StateDir)
				st.PID, st.Orphan = d.PID, d.Orphan
			}
			return st.print(cmd.OutOrStdout(), output)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "BuildKit address to check (default as for build)")
	cmd.Flags().BoolVar(&start, "start", false, "start lambdaimg's own buildkitd if nothing answers")
	cmd.Flags().StringVarP(&output, "output", "o", formatTable, "output format: table or json")
	return cmd
}

func newBuilderStopCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "stop",
		Short:   "Stop the buildkitd that lambdaimg started",
		Example: "  lambdaimg builder stop",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := buildkit.DefaultStateDir()
			err := buildkit.Stop(cmd.Context(), dir)
			if buildkit.IsNotRunning(err) {
				fmt.Fprintln(cmd.ErrOrStderr(), "lambdaimg's own buildkitd is not running")
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stopped lambdaimg's buildkitd (state kept in %s)\n", dir)
			return nil
		},
	}
}

func (st builderStatus) print(w io.Writer, format string) error {
	if format == formatJSON {
		return writeJSON(w, st)
	}
	fmt.Fprintf(w, "address:   %s (%s)\nversion:   %s\nplatforms: %v\n", st.Address, st.Source, st.Version, st.Platforms)
	if st.Embedded {
		fmt.Fprintf(w, "pid:       %d\nstate:     %s\n", st.PID, st.StateDir)
		if st.Orphan {
			fmt.Fprintln(w, "note:      the pid file does not name this daemon; `lambdaimg builder stop` ends it")
		}
	}
	return nil
}
