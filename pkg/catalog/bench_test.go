package catalog

import (
	"fmt"
	"testing"
)

// overlayInput is a base of n runtimes and an overlay that adds variants
// to half of them and n/2 new runtimes: the shape of a large user catalog.
func overlayInput(n int) (base, over *Catalog) {
	base, over = &Catalog{}, &Catalog{}
	for i := 0; i < n; i++ {
		base.Runtimes = append(base.Runtimes, Runtime{ID: fmt.Sprintf("rt%d", i), Language: Python})
	}
	for i := 0; i < n; i += 2 {
		over.Runtimes = append(over.Runtimes, Runtime{ID: fmt.Sprintf("rt%d", i), Variants: map[string]Variant{"extra": {}}})
		over.Runtimes = append(over.Runtimes, Runtime{ID: fmt.Sprintf("new%d", i), Language: Python})
	}
	return base, over
}

// BenchmarkOverlay: go test -bench Overlay ./pkg/catalog. The overlay is
// linear in the runtimes; it was quadratic (16k runtimes took seconds).
func BenchmarkOverlay(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 14, 1 << 16} {
		base, over := overlayInput(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				Overlay(base, over)
			}
		})
	}
}
