package build

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/render"
)

// TestNewSolveSpec checks what one solve asks of BuildKit, without BuildKit.
func TestNewSolveSpec(t *testing.T) {
	dir, ext, rie := t.TempDir(), t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(rie, "aws-lambda-rie"), []byte("x"), 0o755)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, []byte("pem"), 0o644)
	j := Job{Context: &render.Context{Target: &catalog.Target{Runtime: &catalog.Runtime{ID: "provided.al2023"}, Variant: "debian"}},
		Arch: catalog.ARM64, Extensions: ext}
	p := &prepared{dir: dir, imageArgs: map[string]string{"BASE_IMAGE": "127.0.0.1:5000/library/debian:bookworm-slim"},
		rie:   map[string]string{"arm64": filepath.Join(rie, "aws-lambda-rie")},
		index: map[catalog.Arch]string{catalog.ARM64: "sha256:arm", catalog.X86_64: "sha256:amd"}}
	o := Options{SourceDateEpoch: 42, BuildArgs: map[string]string{"FOO": "bar", "BASE_IMAGE": "ignored"}, NoCache: true, Pull: true, CABundle: ca}
	spec, err := newSolveSpec(o, j, p, layoutStore(t), false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"filename": "Dockerfile", "target": "image", "platform": "linux/arm64",
		"build-arg:SOURCE_DATE_EPOCH": "42", "build-arg:BASE_IMAGE": "127.0.0.1:5000/library/debian:bookworm-slim",
		"build-arg:FOO": "bar", "build-arg:PACKAGE_INDEX": "sha256:arm", "no-cache": "", "image-resolve-mode": "pull",
		"context:rie": "local:rie", "context:extensions": "local:extensions",
	}
	if diff := cmp.Diff(want, spec.attrs); diff != "" {
		t.Errorf("frontend attrs (-want +got):\n%s", diff)
	}
	var mounts []string
	for k := range spec.opt.LocalMounts {
		mounts = append(mounts, k)
	}
	if diff := cmp.Diff([]string{"context", "dockerfile", "extensions", "rie"}, mounts, sortStrings); diff != "" {
		t.Errorf("mounts (-want +got):\n%s", diff)
	}
	if len(spec.opt.Session) != 2 {
		t.Errorf("%d session attachables, want auth and the CA secret", len(spec.opt.Session))
	}
	e := spec.opt.Exports[len(spec.opt.Exports)-1]
	if e.Type != "oci" || e.OutputStore == nil || e.Attrs["oci-mediatypes"] != "false" || e.Attrs["compression"] != "gzip" || e.Attrs["rewrite-timestamp"] != "true" {
		t.Errorf("the store export is %+v: Lambda wants Docker media types and gzip", e)
	}

	j.Extensions, p.rie, o.CABundle = "", nil, ""
	spec, err = newSolveSpec(o, j, p, layoutStore(t), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := spec.attrs["context:extensions"]; ok || len(spec.opt.Session) != 1 {
		t.Errorf("without extensions or CA: attrs %v, %d attachables", spec.attrs, len(spec.opt.Session))
	}
	o.CABundle = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := newSolveSpec(o, j, p, layoutStore(t), false); err == nil {
		t.Error("a missing CA bundle must fail")
	}
}

// layoutStore is a content store over a new OCI layout directory.
func layoutStore(t *testing.T) content.Store {
	t.Helper()
	st, err := local.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}
