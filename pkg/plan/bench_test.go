package plan

import (
	"context"
	"testing"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

// BenchmarkPlanCatalog plans every target of the built-in catalog on every
// platform against an in-process registry on 127.0.0.1, with nothing
// changed: one HEAD per distinct base reference, no BuildKit.
func BenchmarkPlanCatalog(b *testing.B) {
	f := newFixture(b, catalog.Selector{All: true})
	p := f.planner(b)
	before := f.reg.Requests()
	b.ResetTimer()
	for b.Loop() {
		plan, err := p.Plan(context.Background(), f.targets)
		if err != nil {
			b.Fatal(err)
		}
		if err := plan.Err(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(f.reg.Requests()-before)/float64(b.N), "requests/op")
}
