package pipeline

import (
	"context"
	"fmt"
	"io"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/plan"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// Plan says which selected targets must be rebuilt and why, from what the
// store at storeDir holds, without BuildKit (see pkg/plan); opts add to
// the registry mirrors. A store restored from a damaged index is warned
// about on log.
func Plan(ctx context.Context, c *catalog.Catalog, tm *render.Templates, sel catalog.Selector, storeDir string, mirrors map[string]string, log io.Writer, opts ...plan.Option) (*plan.Plan, error) {
	targets, err := Targets(c, sel, nil)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(storeDir)
	if err != nil {
		return nil, err
	}
	if rec := st.Recovered(); rec != nil && log != nil {
		fmt.Fprintln(log, "warning:", rec)
	}
	pl, err := plan.New(st, tm, append([]plan.Option{plan.WithMirrors(mirrors)}, opts...)...)
	if err != nil {
		return nil, err
	}
	return pl.Plan(ctx, targets)
}
