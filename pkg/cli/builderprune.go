package cli

import (
	"fmt"
	"io"

	units "github.com/docker/go-units"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/spf13/cobra"
)

const builderPruneLong = `Remove build cache from a BuildKit daemon: by default lambdaimg's own
buildkitd, which keeps every layer of every build until its garbage
collector decides the disk is full. With --keep-storage the most recently
used cache up to that size stays, so the next build is still fast.
Images already in lambdaimg's store are not touched.`

type pruneReport struct {
	Address string `json:"address"`
	buildkit.PruneResult
}

func newBuilderPruneCmd() *cobra.Command {
	var addr, output, keep string
	var all bool
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove BuildKit's build cache (all of it, or beyond a size)",
		Long:  builderPruneLong,
		Example: `  lambdaimg builder prune --keep-storage 10GB
  lambdaimg builder prune --all
  lambdaimg builder prune --addr tcp://builder:1234 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(cmd, &output, formatTable, formatJSON); err != nil {
				return err
			}
			size, err := parseKeepStorage(keep)
			if err != nil {
				return err
			}
			conn, err := buildkit.Connect(cmd.Context(), buildkit.Options{Addr: addr, NoStart: true})
			if err != nil {
				return err
			}
			defer conn.Close()
			res, err := buildkit.Prune(cmd.Context(), conn.Client, size, all)
			if err != nil {
				return fmt.Errorf("pruning %s: %w", conn.Addr, err)
			}
			return pruneReport{Address: conn.Addr, PruneResult: res}.print(cmd.OutOrStdout(), output)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "BuildKit address (default as for build)")
	cmd.Flags().StringVar(&keep, "keep-storage", "", "keep at most this much cache, e.g. 10GB (default: keep none)")
	cmd.Flags().BoolVar(&all, "all", false, "also remove cache that images or cache mounts still refer to")
	cmd.Flags().StringVarP(&output, "output", "o", formatTable, "output format: table or json")
	return cmd
}

func parseKeepStorage(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := units.RAMInBytes(s)
	if err != nil || n < 0 {
		return 0, &UsageError{fmt.Errorf("--keep-storage %q: want a size such as 500MB or 10GB", s)}
	}
	return n, nil
}

func (r pruneReport) print(w io.Writer, format string) error {
	if format == formatJSON {
		return writeJSON(w, r)
	}
	_, err := fmt.Fprintf(w, "removed %d cache records, %s, from %s\n", r.Records, units.HumanSize(float64(r.Bytes)), r.Address)
	return err
}
