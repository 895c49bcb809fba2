package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// Output formats: -o means the same in every command.
const (
	formatTable    = "table"
	formatJSON     = "json"
	formatMarkdown = "markdown"
)

// checkFormat makes sure -o names one of the formats the command prints;
// "text", the old name of table, is still taken, with a note.
func checkFormat(cmd *cobra.Command, format *string, allowed ...string) error {
	if *format == "text" {
		fmt.Fprintln(cmd.ErrOrStderr(), "note: -o text is now -o table; text will be refused in a later release")
		*format = formatTable
	}
	if !slices.Contains(allowed, *format) {
		return &UsageError{fmt.Errorf("-o %q: use %s", *format, strings.Join(allowed, ", "))}
	}
	return nil
}

// writeJSON writes v as indented JSON: lambdaimg's one JSON writer.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// humanSize prints a byte count in IEC units.
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
