package publish

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

// BenchmarkPublish pushes 8 runtimes x 2 architectures to a fresh registry
// with 2ms per request, without and with the referrers Attach adds, and
// reports the requests per push, in all and by kind (HEAD-manifest/op,
// POST-mount/op, ...): go test -run '^$' -bench Publish ./pkg/publish.
// scripts/bench-push.sh compares the CLI with crane.
func BenchmarkPublish(b *testing.B) {
	imgs := registrytest.Runtimes([]string{"python3.11", "python3.12", "python3.13", "nodejs20.x", "nodejs22.x", "java21", "ruby3.3", "provided2023"}, "x86_64", "arm64")
	for i := range imgs {
		imgs[i].Spec.BaseSize, imgs[i].Spec.Size = 1<<20, 256<<10
	}
	st, entries := registrytest.NewStore(b, imgs...)
	l, err := inventory.NewLoader(false)
	if err != nil {
		b.Fatal(err)
	}
	for _, attach := range []bool{false, true} {
		name := "push"
		if attach {
			name = "push+attach"
		}
		b.Run(name, func(b *testing.B) {
			var bytes, requests int64
			kinds := map[string]int{}
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				reg := registrytest.Start(b, registrytest.WithLatency(2*time.Millisecond))
				plan, err := Plan(entries, []string{reg.Host + "/bench"})
				if err != nil {
					b.Fatal(err)
				}
				r, err := New(st, WithJobs(8))
				if err != nil {
					b.Fatal(err)
				}
				var p Publisher = r
				if attach {
					p = Attach(r, l)
				}
				b.StartTimer()
				if _, err := p.Publish(context.Background(), plan); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				bytes += reg.Log().BytesUploaded()
				requests += reg.Requests()
				for k, n := range reg.RequestKinds() {
					kinds[k] += n
				}
				for h, n := range reg.Log().BlobUploads() {
					if n != 1 {
						b.Fatalf("blob %s uploaded %d times", h, n)
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(bytes)/float64(b.N)/(1<<20), "MiB-uploaded/op")
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
			for k, n := range kinds {
				b.ReportMetric(float64(n)/float64(b.N), strings.ReplaceAll(k, " ", "-")+"/op")
			}
		})
	}
}
