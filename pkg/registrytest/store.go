package registrytest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// StoreImage is one image to put into a store, as `lambdaimg build` would.
type StoreImage struct {
	Runtime string // e.g. python3.12
	Variant string // e.g. aws, alpine
	Arch    string // x86_64 or arm64
	Image   string // the repository name, e.g. python
	Tags    []string
	Default bool
	// Spec overrides the built image; its Runtime and Arch are filled in.
	Spec ImageSpec
}

// Fill builds imgs and puts them into st, annotated like lambdaimg's own
// builds, and returns the store's entries afterwards.
func Fill(st *store.Store, imgs ...StoreImage) ([]store.Entry, error) {
	for _, si := range imgs {
		spec := si.Spec
		spec.Runtime, spec.Arch = si.Runtime, si.Arch
		if spec.Labels == nil {
			spec.Labels = map[string]string{"io.lambdaimg.runtime": si.Runtime, "io.lambdaimg.variant": si.Variant}
		}
		img, err := Image(spec)
		if err != nil {
			return nil, fmt.Errorf("building %s/%s/%s: %w", si.Runtime, si.Variant, si.Arch, err)
		}
		ann := map[string]string{
			store.AnnImage: si.Image,
			store.AnnTags:  strings.Join(si.Tags, ","),
		}
		if si.Default {
			ann[store.AnnDefault] = "true"
		}
		if _, err := st.Put(store.Ref{Runtime: si.Runtime, Variant: si.Variant, Arch: si.Arch}, img, ann); err != nil {
			return nil, err
		}
	}
	return st.List()
}

// NewStore opens a store in a temporary directory and fills it with imgs.
func NewStore(t testing.TB, imgs ...StoreImage) (*store.Store, []store.Entry) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	entries, err := Fill(st, imgs...)
	if err != nil {
		t.Fatal(err)
	}
	return st, entries
}

// Runtimes returns, for each runtime id of the form <image><version> (e.g.
// python3.12, nodejs22.x) and each arch, a default-variant "aws" image tagged
// with the version (nodejs22.x -> 22): a quick way to a realistic store.
func Runtimes(ids []string, arches ...string) []StoreImage {
	var out []StoreImage
	for _, id := range ids {
		i := strings.IndexAny(id, "0123456789")
		if i < 0 {
			i = len(id)
		}
		image, version := id[:i], strings.TrimSuffix(id[i:], ".x")
		if version == "" {
			version = "latest"
		}
		for _, a := range arches {
			out = append(out, StoreImage{Runtime: id, Variant: "aws", Arch: a, Image: image, Tags: []string{version}, Default: true})
		}
	}
	return out
}
