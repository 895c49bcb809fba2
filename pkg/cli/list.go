package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/support"
	"github.com/spf13/cobra"
)

type listOptions struct {
	output string
}

// runtimeInfo is one row of `lambdaimg list`, also its JSON form.
type runtimeInfo struct {
	ID             string   `json:"id"`
	Language       string   `json:"language"`
	Version        string   `json:"version"`
	OS             string   `json:"os"`
	Architectures  []string `json:"architectures"`
	Tags           []string `json:"tags"`
	Variants       []string `json:"variants"`
	DefaultVariant string   `json:"defaultVariant"`
	Deprecated     string   `json:"deprecated,omitempty"`
	BlockCreate    string   `json:"blockCreate,omitempty"`
	BlockUpdate    string   `json:"blockUpdate,omitempty"`
	IsDeprecated   bool     `json:"isDeprecated"`
	// Missing gives, for each OS family a custom image could be built on
	// where the runtime has no variant, the catalog's reason.
	Missing map[string]string `json:"missing,omitempty"`
}

func newListCmd(g *globalOptions, env Env) *cobra.Command {
	o := &listOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the catalog's runtimes, variants and architectures",
		Long:    listLong,
		Example: listExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(cmd, &o.output, formatTable, formatJSON, formatMarkdown); err != nil {
				return err
			}
			c, _, err := g.load(cmd.Context())
			if err != nil {
				return err
			}
			rows := listRuntimes(c, env)
			out := cmd.OutOrStdout()
			if o.output == "markdown" {
				return writeMatrix(out, c, rows)
			}
			if o.output == "json" {
				return writeJSON(out, rows)
			}
			if err := writeList(out, rows); err != nil {
				return err
			}
			return writeMissing(out, rows, "\nNot built (runtime, OS: why):\n", "  %s, %s: %s\n")
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output format: table, json, or markdown (the support matrix in README.md)")
	return cmd
}

func writeList(out io.Writer, rows []runtimeInfo) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUNTIME\tLANGUAGE\tVERSION\tOS\tARCHITECTURES\tVARIANTS\tDEPRECATED")
	for _, r := range rows {
		vs := make([]string, len(r.Variants))
		for i, v := range r.Variants {
			if v == r.DefaultVariant {
				v += "*"
			}
			vs[i] = v
		}
		dep := r.Deprecated
		if r.IsDeprecated {
			dep += " (deprecated)"
		}
		if dep == "" {
			dep = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Language, r.Version, r.OS,
			strings.Join(r.Architectures, ","), strings.Join(vs, ","), dep)
	}
	return tw.Flush()
}

func listRuntimes(c *catalog.Catalog, env Env) []runtimeInfo {
	now := env.Now()
	rows := make([]runtimeInfo, 0, len(c.Runtimes))
	for i := range c.Runtimes {
		r := &c.Runtimes[i]
		_, past := r.Deprecation(now)
		info := runtimeInfo{
			ID: r.ID, Language: string(r.Language), Version: r.Version, OS: string(r.OS),
			Tags: r.Tags, DefaultVariant: r.DefaultVariant(),
			Deprecated: r.Deprecated, BlockCreate: r.BlockCreate, BlockUpdate: r.BlockUpdate,
			IsDeprecated: past,
		}
		for _, a := range r.Architectures {
			info.Architectures = append(info.Architectures, string(a))
		}
		for v := range r.Variants {
			info.Variants = append(info.Variants, v)
		}
		sort.Strings(info.Variants)
		for o, why := range c.Missing(r) {
			if info.Missing == nil {
				info.Missing = map[string]string{}
			}
			if why == "" {
				why = noReason
			}
			info.Missing[string(o)] = why
		}
		rows = append(rows, info)
	}
	return rows
}

// noReason stands for a missing cell the catalog gives no reason for.
const noReason = "no reason given in the catalog"

// writeMissing writes, after the list or the matrix, the OS families each
// runtime is not built on and why: head once, then line per cell
// (runtime, OS, reason). Runtimes missing everywhere for one reason take
// one line, with OS "any".
func writeMissing(w io.Writer, rows []runtimeInfo, head, line string) error {
	if _, err := io.WriteString(w, head); err != nil {
		return err
	}
	for _, r := range rows {
		oses := make([]string, 0, len(r.Missing))
		same := true
		for o, why := range r.Missing {
			oses = append(oses, o)
			same = same && why == r.Missing[oses[0]]
		}
		sort.Strings(oses)
		if same && len(oses) == len(catalog.RICOSes) {
			oses = []string{"any"}
		}
		for _, o := range oses {
			why := r.Missing[o]
			if o == "any" {
				why = r.Missing[string(catalog.RICOSes[0])]
			}
			if _, err := fmt.Fprintf(w, line, r.ID, o, why); err != nil {
				return err
			}
		}
	}
	return nil
}

// supportMark is how the matrix shows how far CI takes a cell.
var supportMark = map[support.Level]string{support.LevelInvoked: "●", support.LevelRendered: "○"}

// writeMatrix writes the support matrix: one row per runtime and variant,
// with the architectures it is built for, then the OS families each runtime
// is not built on and why. README.md embeds it.
func writeMatrix(w io.Writer, c *catalog.Catalog, rows []runtimeInfo) error {
	ts, err := c.Targets(catalog.Selector{All: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: %s; %s: %s.\n\n", supportMark[support.LevelInvoked], support.LevelInvoked, supportMark[support.LevelRendered], support.LevelRendered)
	fmt.Fprintln(w, "| Runtime | Variant | Built on | x86_64 | arm64 | AWS OS | Deprecated |")
	fmt.Fprintln(w, "|---|---|---|:-:|:-:|---|---|")
	for _, t := range ts {
		variant := t.Variant
		if t.Default {
			variant = "**" + variant + "** (default)"
		}
		built := t.Spec.Base
		mark := func(a catalog.Arch) string {
			for _, x := range t.Arches {
				if x == a {
					return supportMark[support.Of(support.Cell{Runtime: t.Runtime.ID, Variant: t.Variant, Arch: a})]
				}
			}
			return ""
		}
		dep := t.Runtime.Deprecated
		if dep == "" {
			dep = "-"
		}
		if _, err := fmt.Fprintf(w, "| %s | %s | `%s` | %s | %s | %s | %s |\n", t.Runtime.ID, variant, built,
			mark(catalog.X86_64), mark(catalog.ARM64), t.Runtime.OS, dep); err != nil {
			return err
		}
	}
	return writeMissing(w, rows, "\nNot built, and why:\n\n| Runtime | OS | Why not |\n|---|---|---|\n", "| %s | %s | %s |\n")
}

const (
	listLong = `List every runtime of the catalog with its language version, the OS AWS
builds it on, its architectures, its variants (the default one marked *) and
its deprecation date. Runtimes past their deprecation date are marked. Then
the OS families a runtime has no custom image on, with the catalog's
reason ("missing" in the JSON).`
	listExample = `  lambdaimg list
  lambdaimg list -o json | jq '.[] | select(.isDeprecated | not) | .id'
  lambdaimg list --catalog my-runtimes.yaml
  lambdaimg list -o markdown`
)
