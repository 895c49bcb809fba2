package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/pipeline"
	"github.com/lambdaimg/lambdaimg/pkg/smoke"
	"github.com/spf13/cobra"
)

// printReport prints a run as tables and check lists on stdout; what
// failed, with the lines and logs that say why, goes to stderr.
func printReport(cmd *cobra.Command, rep *pipeline.Report) error {
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := printImages(out, rep.Images); err != nil {
		return err
	}
	for _, r := range rep.Images {
		if s := smokeReport(r); s != nil {
			printChecks(out, errOut, r, s)
		}
		if r.Note != "" {
			fmt.Fprintf(errOut, "%s %s: note: %s\n", r.Target, r.Platform, r.Note)
		}
		if r.Status == build.Failed || r.Status == build.Skipped || r.Status == build.Canceled {
			fmt.Fprintf(errOut, "%s %s %s: %s\n", r.Target, r.Platform, r.Status, r.Reason)
			for _, l := range r.FailedLines {
				fmt.Fprintln(errOut, "  "+l)
			}
		}
	}
	if rep.Published != nil {
		for _, ref := range rep.Published.Refs {
			fmt.Fprintln(out, ref)
		}
		for _, n := range rep.Published.Notes {
			fmt.Fprintln(errOut, "note:", n)
		}
	}
	return nil
}

func printImages(w io.Writer, results []build.Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tPLATFORM\tDIGEST\tSIZE\tDURATION\tSTATUS\tBUILDER")
	for _, r := range results {
		digest, size, builder := "-", "-", "-"
		if r.Digest != "" {
			digest = r.Digest
		}
		if r.Size > 0 {
			size = humanSize(r.Size)
		}
		if r.Builder != "" {
			builder = r.Builder
		}
		if r.Retried {
			builder += " (retried)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1fs\t%s\t%s\n", r.Target, r.Platform, digest, size, r.Seconds, r.Status, builder)
	}
	return tw.Flush()
}

// smokeReport returns the smoke test's report of an image, if it had one.
func smokeReport(r build.Result) *smoke.Report {
	for _, g := range r.Gates {
		if s, ok := g.Report.(*smoke.Report); ok {
			return s
		}
	}
	return nil
}

// printChecks lists an image's smoke checks on out; a failed test's
// emulator and function log goes to errOut.
func printChecks(out, errOut io.Writer, r build.Result, s *smoke.Report) {
	fmt.Fprintf(out, "%s %s\n", r.Target, r.Platform)
	for _, c := range s.Checks {
		verdict := "PASS"
		if !c.OK {
			verdict = "FAIL"
		}
		line := fmt.Sprintf("  %s  %s", verdict, c.Name)
		if c.Detail != "" {
			line += ": " + c.Detail
		}
		fmt.Fprintln(out, line)
	}
	if s.Failed() && s.Log != "" {
		fmt.Fprintf(errOut, "--- %s %s: the emulator's and the function's log\n", r.Target, r.Platform)
		for _, l := range strings.Split(strings.TrimRight(s.Log, "\n"), "\n") {
			fmt.Fprintln(errOut, "  | "+l)
		}
	}
}
