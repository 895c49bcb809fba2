package verify_test

import (
	"context"
	"errors"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/verify"
)

var _ build.Gate = (*verify.Gate)(nil)

// TestGate: the verify gate passes an image Lambda takes and stops one it
// would reject, from an OCI layout as the build leaves it.
func TestGate(t *testing.T) {
	cases := []struct {
		name string
		spec registrytest.ImageSpec
		fail bool
	}{
		{"a Lambda image", registrytest.ImageSpec{Runtime: "python3.12", Arch: "x86_64", Docker: true}, false},
		{"a relative entry point", registrytest.ImageSpec{Runtime: "python3.12", Arch: "x86_64", Docker: true, Entrypoint: []string{"lambda-entrypoint.sh"}}, true},
		{"the config says arm64, the binaries x86_64", registrytest.ImageSpec{Runtime: "python3.12", Arch: "x86_64", Docker: true, ConfigArch: "arm64"}, true},
	}
	target := &catalog.Target{Runtime: &catalog.Runtime{ID: "python3.12"}, Variant: "debian"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img, err := registrytest.Image(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			p, err := layout.Write(dir, empty.Index)
			if err != nil {
				t.Fatal(err)
			}
			arch := map[string]string{"x86_64": "amd64", "arm64": "arm64"}[tc.spec.Arch]
			if err := p.AppendImage(img, layout.WithPlatform(v1.Platform{OS: "linux", Architecture: arch})); err != nil {
				t.Fatal(err)
			}
			d, _ := img.Digest()
			size, _ := img.Size()
			mt, _ := img.MediaType()
			desc := v1.Descriptor{Digest: d, Size: size, MediaType: mt, Platform: &v1.Platform{OS: "linux", Architecture: arch}}
			v, err := verify.New()
			if err != nil {
				t.Fatal(err)
			}
			rep, err := verify.NewGate(v).Check(context.Background(), dir, desc, target)
			var failed *verify.FailedError
			if tc.fail != errors.As(err, &failed) {
				t.Fatalf("Check = %v, want failure %v", err, tc.fail)
			}
			if r, ok := rep.(verify.Report); !ok || len(r.Checks) == 0 || r.Ref != "python3.12/debian linux/amd64" {
				t.Errorf("report %#v", rep)
			}
		})
	}
}
