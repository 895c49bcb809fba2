package build

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/osindex"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// TestPackageIndexUnreachable: a stored image whose APT source does not
// answer fails its job with an error that names the source and the way
// out, without BuildKit; with --no-cache the job goes on with an empty
// PACKAGE_INDEX.
func TestPackageIndexUnreachable(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tg := &catalog.Target{Runtime: &catalog.Runtime{ID: "provided.al2023"}, Variant: "debian", Spec: catalog.Variant{OS: catalog.Debian}}
	ref := store.Ref{Runtime: "provided.al2023", Variant: "debian", Arch: "x86_64"}
	rec := `{"sources":["deb http://127.0.0.1:1/debian bookworm main"],"packages":{"curl":"7.88"},"state":"sha256:old"}`
	if _, err := st.Put(ref, empty.Image, map[string]string{labels.OSPackages: rec}); err != nil {
		t.Fatal(err)
	}
	j := Job{Context: &render.Context{Target: tg}, Arch: catalog.X86_64}
	for _, noCache := range []bool{false, true} {
		idx, err := osindex.New()
		if err != nil {
			t.Fatal(err)
		}
		b := &Builder{store: st, opts: Options{NoCache: noCache}, index: idx, bases: newBaseInventories()}
		p := &prepared{index: map[catalog.Arch]string{}, indexErr: map[catalog.Arch]error{}}
		b.packageIndexes(context.Background(), []Job{j}, map[*render.Context]*prepared{j.Context: p})
		err = p.indexErr[catalog.X86_64]
		switch {
		case noCache && (err != nil || p.index[catalog.X86_64] != ""):
			t.Errorf("--no-cache: error %v, PACKAGE_INDEX %q; want neither", err, p.index[catalog.X86_64])
		case !noCache && (err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") || !strings.Contains(err.Error(), "--no-cache")):
			t.Errorf("error %v, want one naming the source and --no-cache", err)
		}
	}
}

func TestPackagesCurrent(t *testing.T) {
	debian := Job{Context: &render.Context{Target: &catalog.Target{Spec: catalog.Variant{OS: catalog.Debian}}}}
	al := Job{Context: &render.Context{Target: &catalog.Target{Spec: catalog.Variant{OS: catalog.AL2023}}}}
	alpine := Job{Context: &render.Context{Target: &catalog.Target{Spec: catalog.Variant{OS: catalog.Alpine}}}}
	entry := func(rec string) store.Entry {
		e := store.Entry{}
		e.Descriptor.Annotations = map[string]string{}
		if rec != "" {
			e.Descriptor.Annotations[labels.OSPackages] = rec
		}
		return e
	}
	for _, tc := range []struct {
		name  string
		j     Job
		e     store.Entry
		state string
		want  bool
	}{
		{"no APT", al, entry(""), "", true},
		{"no record", debian, entry(""), "", false},
		{"same state", debian, entry(`{"sources":[],"packages":{},"state":"sha256:i","installs":"sha256:a"}`), "sha256:a", true},
		{"moved", debian, entry(`{"sources":[],"packages":{},"state":"sha256:i","installs":"sha256:a"}`), "sha256:b", false},
		{"an older record: the index's state", debian, entry(`{"sources":[],"packages":{},"state":"sha256:a"}`), "sha256:a", false},
		{"nothing installed", debian, entry(`{"sources":["deb http://deb.debian.org/debian bookworm main"],"packages":{},"state":"sha256:i"}`), "", true},
		{"no sources", debian, entry(`{"sources":[],"packages":{}}`), "", true},
		{"alpine without a record: build to record it", alpine, entry(""), "", false},
		{"alpine with a record", alpine, entry(`{"database":"apk","sources":[],"repositories":["https://dl-cdn.alpinelinux.org/alpine/v3.20/main"],"packages":{"curl":"8.9.1-r0"}}`), "", true},
	} {
		if got := packagesCurrent(tc.j, tc.e, tc.state); got != tc.want {
			t.Errorf("%s: packagesCurrent = %v, want %v", tc.name, got, tc.want)
		}
	}
}
