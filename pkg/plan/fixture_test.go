package plan

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// fixture is the built-in catalog's targets, built (as far as the store
// can tell) on base images served by an in-process registry on 127.0.0.1
// through registry mirrors: a store as `lambdaimg build` leaves it.
type fixture struct {
	reg     *registrytest.Server
	store   *store.Store
	tm      *render.Templates
	targets []catalog.Target
	mirrors map[string]string
	// images are the pushed bases by mirrored reference and arch.
	images map[string]map[catalog.Arch]v1.Image
}

func newFixture(t testing.TB, sel catalog.Selector) *fixture {
	t.Helper()
	c, err := catalog.Parse(lambdaimg.CatalogName, lambdaimg.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(lambdaimg.Templates, "templates")
	if err != nil {
		t.Fatal(err)
	}
	tm, err := render.Load(sub)
	if err != nil {
		t.Fatal(err)
	}
	targets, err := c.Targets(sel)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{reg: registrytest.Start(t), store: st, tm: tm, targets: targets,
		mirrors: map[string]string{}, images: map[string]map[catalog.Arch]v1.Image{}}
	for _, tg := range targets {
		for _, b := range []string{tg.Spec.Base, tg.Spec.BuildBase} {
			ref, err := name.ParseReference(b)
			if err != nil {
				t.Fatal(err)
			}
			host := ref.Context().RegistryStr()
			if host == name.DefaultRegistry {
				host = "docker.io"
			}
			f.mirrors[host] = f.reg.Host + "/" + strings.ReplaceAll(host, ".", "-")
		}
	}
	var entries []stored
	for i := range targets {
		tg := &targets[i]
		rc, err := tm.Render(tg, render.Options{Extensions: len(tg.ExtensionPaths()) > 0})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range tg.Arches {
			bases := map[string]recorded{}
			for arg, b := range map[string]string{"BASE_IMAGE": tg.Spec.Base, "BUILD_IMAGE": tg.Spec.BuildBase} {
				ref := f.mirror(t, b)
				digest := f.push(t, ref, 0)
				cfg, err := f.images[ref][a].ConfigName()
				if err != nil {
					t.Fatal(err)
				}
				bases[arg] = recorded{Ref: ref, Digest: digest, Config: cfg.String()}
			}
			ann := map[string]string{store.AnnInputs: rc.Digest}
			if tg.Spec.OS != catalog.AWS {
				ann[labels.RIC] = tg.Spec.RIC
			}
			data, err := json.Marshal(bases)
			if err != nil {
				t.Fatal(err)
			}
			ann[labels.Bases] = string(data)
			if recordOSes[tg.Spec.OS] { // built on an image without APT sources or apk repositories
				ann[labels.OSPackages] = `{"sources":[],"packages":{}}`
			}
			entries = append(entries, stored{store.Ref{Runtime: tg.Runtime.ID, Variant: tg.Variant, Arch: string(a)}, ann})
		}
	}
	img, err := registrytest.Image(registrytest.ImageSpec{Runtime: "built", Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := st.Put(e.ref, img, e.ann); err != nil {
			t.Fatal(err)
		}
	}
	f.reg.Log().Reset()
	return f
}

type stored struct {
	ref store.Ref
	ann map[string]string
}

func (f *fixture) mirror(t testing.TB, ref string) string {
	t.Helper()
	out, err := (options{mirrors: f.mirrors}).mirrorErr(ref)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// push makes ref a two-platform index (once; generation g > 0 replaces the
// arm64 image with a new one) and returns the index digest.
func (f *fixture) push(t testing.TB, ref string, g int) string {
	t.Helper()
	imgs, ok := f.images[ref]
	if !ok || g > 0 {
		if !ok {
			imgs = map[catalog.Arch]v1.Image{}
			f.images[ref] = imgs
		}
		for _, a := range []catalog.Arch{catalog.X86_64, catalog.ARM64} {
			if ok && a != catalog.ARM64 {
				continue
			}
			img, err := registrytest.Image(registrytest.ImageSpec{Runtime: ref, Arch: string(a), Size: g})
			if err != nil {
				t.Fatal(err)
			}
			imgs[a] = img
		}
	}
	idx := v1.ImageIndex(empty.Index)
	for _, a := range []catalog.Arch{catalog.X86_64, catalog.ARM64} {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: imgs[a],
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: a.GoArch()}}})
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if ok && g == 0 {
		return d.String()
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// planner is a Planner of the fixture with plain remote options (no
// keychain: the registry is anonymous).
func (f *fixture) planner(t testing.TB) *Planner {
	t.Helper()
	p, err := New(f.store, f.tm, WithMirrors(f.mirrors), WithRemoteOptions(remote.WithTransport(remote.DefaultTransport)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
