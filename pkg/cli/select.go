package cli

import (
	"errors"
	"fmt"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/pipeline"
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
			return sel, &UsageError{fmt.Errorf("--platform: %w", err)}
		}
		sel.Arches = append(sel.Arches, a)
	}
	return sel, nil
}

// flagOf names the flags behind each part of a pipeline request.
var flagOf = map[string]string{
	pipeline.FieldSelect:    "--runtime/--all/--os/--platform",
	pipeline.FieldPackage:   "--package",
	pipeline.FieldExtension: "--extension",
	pipeline.FieldHandler:   "--handler",
	pipeline.FieldDir:       "--dir",
}

// usage turns a pipeline's request error into a usage error naming the
// flags to change; other errors pass through.
func usage(err error) error {
	var re *pipeline.RequestError
	if !errors.As(err, &re) {
		return err
	}
	if errors.Is(err, catalog.ErrNoSelection) {
		return &UsageError{fmt.Errorf("%w: pass --runtime ID (see 'lambdaimg list') or --all", err)}
	}
	if errors.Is(err, catalog.ErrNoRuntime) {
		return &UsageError{fmt.Errorf("--runtime: %w: see 'lambdaimg list' for the runtimes it has", err)}
	}
	if errors.Is(err, pipeline.ErrNotOne) {
		return &UsageError{fmt.Errorf("this runs one image: narrow the selection with --os and --platform (%w)", err)}
	}
	return &UsageError{fmt.Errorf("%s: %w", flagOf[re.Field], err)}
}
