package build

import (
	"context"
	"testing"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/osindex"
	"github.com/lambdaimg/lambdaimg/pkg/osindex/apktest"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// TestAlpinePackageState: on Alpine, PACKAGE_INDEX is worked out from the
// base image's apk repositories (a first build) and moves when a package
// the Dockerfile's apk add brings in moves, not when another does.
func TestAlpinePackageState(t *testing.T) {
	repo := apktest.Start(t)
	srv := registrytest.Start(t)
	ref := pushBase(t, srv, "alpine:3.20",
		registrytest.File{Path: "lib/apk/db/installed", Data: []byte("P:musl\nV:1.2.5-r0\nA:x86_64\n\n")},
		registrytest.File{Path: "etc/apk/repositories", Data: []byte(repo.URL + "\n")})
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tg := &catalog.Target{Runtime: &catalog.Runtime{ID: "provided.al2023"}, Variant: "alpine", Spec: catalog.Variant{OS: catalog.Alpine}}
	j := Job{Context: &render.Context{Target: tg}, Arch: catalog.X86_64}
	state := func(curl, other string) string {
		t.Helper()
		repo.Publish(
			apktest.Pkg{Name: "curl", Version: curl, Depends: "so:libc.musl-x86_64.so.1"},
			apktest.Pkg{Name: "musl", Version: "1.2.5-r0", Provides: "so:libc.musl-x86_64.so.1=1"},
			apktest.Pkg{Name: "other", Version: other},
		)
		idx, err := osindex.New()
		if err != nil {
			t.Fatal(err)
		}
		b := &Builder{store: st, index: idx, bases: &baseInventories{}}
		p := &prepared{imageArgs: map[string]string{"BASE_IMAGE": ref}, installs: []string{"curl"},
			index: map[catalog.Arch]string{}, indexErr: map[catalog.Arch]error{}}
		b.packageIndexes(context.Background(), []Job{j}, map[*render.Context]*prepared{j.Context: p})
		if err := p.indexErr[catalog.X86_64]; err != nil {
			t.Fatal(err)
		}
		return p.index[catalog.X86_64]
	}
	first := state("8.9.1-r0", "1-r0")
	want := osindex.InstallState(map[string]string{"curl": "8.9.1-r0"})
	if first != want {
		t.Errorf("PACKAGE_INDEX %q, want the state of curl 8.9.1-r0 alone (musl is in the base), %q", first, want)
	}
	if got := state("8.9.1-r0", "2-r0"); got != first {
		t.Errorf("another package moved: PACKAGE_INDEX %s -> %s", first, got)
	}
	if got := state("8.9.1-r1", "2-r0"); got == first {
		t.Errorf("curl moved and PACKAGE_INDEX did not: %s", got)
	}
}
