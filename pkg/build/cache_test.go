package build

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/moby/buildkit/client"
)

func TestJobCaches(t *testing.T) {
	ctx := &render.Context{Target: &catalog.Target{Runtime: &catalog.Runtime{ID: "provided.al2023"}, Variant: "debian"}}
	in := []client.CacheOptionsEntry{
		{Type: "registry", Attrs: map[string]string{"ref": "reg/cache:{job}", "mode": "max"}},
		{Type: "local", Attrs: map[string]string{"dest": "/c/{job}", "compression": "{job}"}},
	}
	want := []client.CacheOptionsEntry{
		{Type: "registry", Attrs: map[string]string{"ref": "reg/cache:provided.al2023-debian-arm64", "mode": "max"}},
		{Type: "local", Attrs: map[string]string{"dest": "/c/provided.al2023-debian-arm64", "compression": "{job}"}},
	}
	if diff := cmp.Diff(want, jobCaches(in, Job{Context: ctx, Arch: catalog.ARM64})); diff != "" {
		t.Errorf("jobCaches (-want +got):\n%s", diff)
	}
	if in[0].Attrs["ref"] != "reg/cache:{job}" {
		t.Error("jobCaches changed its input")
	}
}
