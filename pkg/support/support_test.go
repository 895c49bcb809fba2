package support

import (
	"testing"

	"github.com/lambdaimg/lambdaimg"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

// TestInvokedCellsExist: every cell CI claims is one the built-in catalog
// has, on an architecture it builds.
func TestInvokedCellsExist(t *testing.T) {
	c, err := catalog.Parse(lambdaimg.CatalogName, lambdaimg.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[Cell]bool{}
	for _, cell := range Invoked() {
		if seen[cell] {
			t.Errorf("%v is listed twice", cell)
		}
		seen[cell] = true
		ts, err := c.Targets(catalog.Selector{Runtimes: []string{cell.Runtime}, Variants: []string{cell.Variant}, Arches: []catalog.Arch{cell.Arch}})
		if err != nil || len(ts) != 1 || ts[0].Variant != cell.Variant {
			t.Errorf("%v is not a cell of the catalog: %v", cell, err)
		}
		if Of(cell) != LevelInvoked {
			t.Errorf("Of(%v) = %s", cell, Of(cell))
		}
	}
	if Of(Cell{"python3.12", "alpine", catalog.ARM64}) != LevelRendered {
		t.Error("a cell not listed must be rendered only")
	}
}
