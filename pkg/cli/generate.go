package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/spf13/cobra"
)

// selectOptions are the flags that pick targets, shared by the commands
// that work on targets.
type selectOptions struct {
	runtimes  []string
	all       bool
	variants  []string
	platforms []string
}

func (s *selectOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVarP(&s.runtimes, "runtime", "r", nil, "runtime id, e.g. python3.12 (repeatable; see 'lambdaimg list')")
	f.BoolVar(&s.all, "all", false, "every runtime of the catalog (with every variant unless --os is given)")
	f.StringSliceVar(&s.variants, "os", nil, "variant name or OS family, e.g. alpine, debian, aws (default: the runtime's default variant)")
	f.StringSliceVar(&s.platforms, "platform", nil, "linux/amd64 or linux/arm64 (default: every architecture the runtime has)")
}

func (s *selectOptions) selector() (catalog.Selector, error) {
	if s.all && len(s.runtimes) > 0 {
		return catalog.Selector{}, &UsageError{fmt.Errorf("--all and --runtime exclude each other")}
	}
	sel := catalog.Selector{Runtimes: s.runtimes, All: s.all, Variants: s.variants}
	for _, p := range s.platforms {
		a, err := catalog.ParsePlatform(p)
		if err != nil {
			return sel, &UsageError{err}
		}
		sel.Arches = append(sel.Arches, a)
	}
	return sel, nil
}

// warnDeprecated writes one line to stderr per deprecated runtime among targets.
func warnDeprecated(cmd *cobra.Command, env Env, targets []catalog.Target) {
	seen := map[string]bool{}
	for _, t := range targets {
		r := t.Runtime
		if seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		if d, past := r.Deprecation(env.Now()); past {
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s was deprecated by AWS on %s; Lambda blocks creating functions on it from %s and updating them from %s\n",
				r.ID, d.Format("2006-01-02"), orUnknown(r.BlockCreate), orUnknown(r.BlockUpdate))
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "an unannounced date"
	}
	return s
}

type generateOptions struct {
	selectOptions
	dir  string
	json bool
}

// generated is one written context, the JSON form of generate's output.
type generated struct {
	Target    string   `json:"target"`
	Runtime   string   `json:"runtime"`
	Variant   string   `json:"variant"`
	Dir       string   `json:"dir"`
	Platforms []string `json:"platforms"`
	Digest    string   `json:"inputsDigest"`
}

func newGenerateCmd(g *globalOptions, env Env) *cobra.Command {
	o := &generateOptions{}
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Render build contexts (Dockerfile, entry script, bootstrap) for targets",
		Long: `Render one build-context directory per target (runtime x variant) into
DIR/<runtime>/<variant>: the Dockerfile, /lambda-entrypoint.sh, the runtime
bootstrap and anything else the build needs. Output is byte-identical on every
run. The Dockerfile builds for every architecture of the target; pass
--platform to select only targets that have it.`,
		Example: `  lambdaimg generate --runtime python3.12 -o contexts
  lambdaimg generate --runtime nodejs18.x --os debian
  lambdaimg generate --all --os alpine --platform linux/arm64 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sel, err := o.selector()
			if err != nil {
				return err
			}
			c, tm, err := g.load()
			if err != nil {
				return err
			}
			targets, err := c.Targets(sel)
			if err != nil {
				return &UsageError{err}
			}
			warnDeprecated(cmd, env, targets)
			var out []generated
			for i := range targets {
				t := &targets[i]
				ctx, err := tm.Render(t, render.Options{})
				if err != nil {
					return err
				}
				dir := filepath.Join(o.dir, t.Runtime.ID, t.Variant)
				if err := ctx.Write(dir); err != nil {
					return fmt.Errorf("writing %s: %w", dir, err)
				}
				gen := generated{Target: t.Name(), Runtime: t.Runtime.ID, Variant: t.Variant, Dir: dir, Digest: ctx.Digest}
				for _, a := range t.Arches {
					gen.Platforms = append(gen.Platforms, a.Platform())
				}
				out = append(out, gen)
			}
			if o.json {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			for _, gen := range out {
				fmt.Fprintln(cmd.OutOrStdout(), gen.Dir)
			}
			return nil
		},
	}
	o.bind(cmd)
	cmd.Flags().StringVarP(&o.dir, "output", "o", "contexts", "directory to write the build contexts into (DIR/<runtime>/<variant>)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the written contexts as JSON instead of one directory per line")
	return cmd
}

func sortStrings(s []string) { sort.Strings(s) }
