package build

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/internal/blobpool"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/opencontainers/go-digest"
)

// TestBaseInventoryKept: a base image's inventory is read from its layers
// once, then from the copy kept by its manifest digest (no blob fetched);
// a damaged copy is read from the layers again.
func TestBaseInventoryKept(t *testing.T) {
	srv := registrytest.Start(t)
	status := "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\n\n"
	ref := pushBase(t, srv, "base:bookworm",
		registrytest.File{Path: "var/lib/dpkg/status", Data: []byte(status)},
		registrytest.File{Path: "etc/apt/sources.list", Data: []byte("deb http://deb.debian.org/debian bookworm main\n")})
	dir := t.TempDir()
	// read returns how many blobs reading the inventory fetched.
	read := func() int {
		t.Helper()
		before := srv.Registry.RequestKinds()[registrytest.KindGetBlob]
		inv, err := (&baseInventories{dir: dir}).get(context.Background(), ref, catalog.X86_64)
		if err != nil {
			t.Fatal(err)
		}
		if inv.Ref != ref || len(inv.Packages) != 1 || inv.Packages[0].Version != "2.36-9" || len(inv.AptSources) != 1 {
			t.Errorf("inventory %+v, want %s with libc6 2.36-9 and one APT source", inv, ref)
		}
		return srv.Registry.RequestKinds()[registrytest.KindGetBlob] - before
	}
	if n := read(); n == 0 {
		t.Error("the first read fetched no blob")
	}
	if n := read(); n != 0 {
		t.Errorf("the second read fetched %d blobs, want none: the inventory is kept", n)
	}
	kept, _ := filepath.Glob(filepath.Join(dir, "sha256", "*.json"))
	if len(kept) != 1 {
		t.Fatalf("kept %v, want one file", kept)
	}
	if err := os.WriteFile(kept[0], []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := read(); n == 0 {
		t.Error("a damaged copy was used")
	}
	// With no inventory kept, the image is read again but its layer is
	// not fetched: this process keeps the layer's scan (of the content
	// its digest names). Only the config is.
	before := srv.Registry.RequestKinds()[registrytest.KindGetBlob]
	if _, err := (&baseInventories{}).get(context.Background(), ref, catalog.X86_64); err != nil {
		t.Fatal(err)
	}
	if n := srv.Registry.RequestKinds()[registrytest.KindGetBlob] - before; n != 1 {
		t.Errorf("reading the inventory again fetched %d blobs, want 1 (the config)", n)
	}
}

// TestBaseImageReadOnce: the read-ahead of a base (warm) and its
// inventory (get) ask the registry for its manifest once between them, and
// the read-ahead's layer is in the pool afterwards.
func TestBaseImageReadOnce(t *testing.T) {
	srv := registrytest.Start(t)
	ref := pushBase(t, srv, "base:bookworm",
		registrytest.File{Path: "var/lib/dpkg/status", Data: []byte("Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n\n")})
	manifests := func() int {
		k := srv.Registry.RequestKinds()
		return k[registrytest.KindGetManifest] + k[registrytest.KindHeadManifest]
	}
	before := manifests()
	bi, pool := &baseInventories{}, blobpool.New(t.TempDir())
	ctx := context.Background()
	bi.warm(ctx, ref, catalog.X86_64, pool)
	if _, err := bi.get(ctx, ref, catalog.X86_64); err != nil {
		t.Fatal(err)
	}
	if n := manifests() - before; n != 1 {
		t.Errorf("warm and get asked for the manifest %d times, want once", n)
	}
	img, err := bi.image(ctx, ref, catalog.X86_64)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	d, _ := ls[0].Digest()
	size, _ := ls[0].Size()
	if !pool.Has(digest.Digest(d.String()), size) {
		t.Errorf("the base layer %s is not in the pool after warm", d)
	}
}

// TestBaseImageFailureNotKept: a base the read-ahead could not read (not
// pushed yet) is asked for again by the inventory, which then reads it.
func TestBaseImageFailureNotKept(t *testing.T) {
	srv := registrytest.Start(t)
	ref := srv.Host + "/base:later"
	bi, ctx := &baseInventories{}, context.Background()
	bi.warm(ctx, ref, catalog.X86_64, blobpool.New(t.TempDir()))
	pushBase(t, srv, "base:later",
		registrytest.File{Path: "var/lib/dpkg/status", Data: []byte("Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n\n")})
	if _, err := bi.get(ctx, ref, catalog.X86_64); err != nil {
		t.Errorf("the inventory after a failed read-ahead: %v", err)
	}
}

// pushBase writes a one-layer image of files to srv as repo:tag and
// returns its reference: a stand-in base image for the tests that read a
// base's inventory.
func pushBase(t *testing.T, srv *registrytest.Server, repoTag string, files ...registrytest.File) string {
	t.Helper()
	layer, err := registrytest.Layer(types.DockerLayer, files...)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	ref := srv.Host + "/" + repoTag
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	return ref
}
