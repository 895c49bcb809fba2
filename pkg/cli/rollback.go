package cli

import (
	"errors"
	"fmt"

	"github.com/lambdaimg/lambdaimg/pkg/pipeline"
	"github.com/lambdaimg/lambdaimg/pkg/publish"
	"github.com/spf13/cobra"
)

type rollbackOptions struct {
	date       string
	variant    string
	registries []string
	tags       []string
	format     string
	insecure   bool
}

func newRollbackCmd(g *globalOptions) *cobra.Command {
	o := &rollbackOptions{}
	cmd := &cobra.Command{
		Use:     "rollback RUNTIME --to DATE",
		Short:   "Point a runtime's floating tags back at the digests of a day's dated tags",
		Long:    rollbackLong,
		Example: rollbackExample,
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd, g, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.date, "to", "", "the day to go back to, as dated tags spell it: YYYY.MM.DD, or YYYY.MM.DD.N for one build of that day (default: its last)")
	f.StringVar(&o.variant, "os", "", "the variant, by name or OS family (default: the runtime's default variant)")
	f.StringArrayVar(&o.registries, "registry", nil, "registry and path the runtime is published under (repeatable; default: the catalog's defaults.registries)")
	f.StringSliceVar(&o.tags, "tags", []string{"arch", "index"}, "kinds of floating tags to move: arch, index")
	f.StringVarP(&o.format, "output", "o", formatTable, "output format: table or json")
	f.BoolVar(&o.insecure, "insecure", false, "allow plain-HTTP registries (localhost and 127.0.0.1 always are)")
	return cmd
}

func (o *rollbackOptions) run(cmd *cobra.Command, g *globalOptions, runtime string) error {
	if err := checkFormat(cmd, &o.format, formatTable, formatJSON); err != nil {
		return err
	}
	if o.date == "" {
		return &UsageError{errors.New("--to DATE is required: the day of the dated tags to go back to")}
	}
	scheme, err := publish.ParseTagScheme(o.tags)
	if err != nil {
		return &UsageError{fmt.Errorf("--tags: %w", err)}
	}
	c, _, err := g.load(cmd.Context())
	if err != nil {
		return err
	}
	regs, ns, err := pipeline.Registries(c, o.registries)
	if errors.Is(err, pipeline.ErrNoRegistry) {
		return &UsageError{fmt.Errorf("%w: give --registry", err)}
	}
	if err != nil {
		return err
	}
	req := pipeline.RollbackRequest{Catalog: c, Runtime: runtime, Variant: o.variant, Date: o.date, Registries: regs,
		Namespace: ns, Tags: scheme, Insecure: o.insecure, UserAgent: "lambdaimg/" + Version, Log: cmd.ErrOrStderr()}
	refs, err := pipeline.Rollback(cmd.Context(), req)
	return errors.Join(usage(err), o.print(cmd, refs))
}

func (o *rollbackOptions) print(cmd *cobra.Command, refs []publish.Ref) error {
	w := cmd.OutOrStdout()
	if o.format == formatJSON {
		if refs == nil {
			refs = []publish.Ref{}
		}
		return writeJSON(w, refs)
	}
	for _, r := range refs {
		fmt.Fprintf(w, "%-10s %s\n", r.Status, r)
	}
	return nil
}

const (
	rollbackLong = `Point the floating tags of one runtime variant (3.12-x86_64, 3.12-arm64 and
the index 3.12, for each of its catalog tags) back at the digests of the dated
tags of a day (3.12.2026.11.24-x86_64, ...-arm64 and 3.12.2026.11.24), in every
registry. Every dated tag is looked up first: if one is missing, no tag moves.
Dated tags themselves never move.`
	rollbackExample = `  lambdaimg rollback python3.12 --to 2026.11.24 --registry public.ecr.aws/my-alias
  lambdaimg rollback nodejs22.x --os alpine --to 2026.11.24.2 --registry localhost:5000/test`
)
