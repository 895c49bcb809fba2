package lock

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/pins"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// fixture is two Debian targets of the built-in catalog whose base images
// an in-process registry serves through registry mirrors, npm and PyPI
// answered by a fake, and a store holding one built image.
type fixture struct {
	reg     *registrytest.Server
	tm      *render.Templates
	targets []catalog.Target
	mirrors map[string]string
	store   *store.Store
	checker *pins.Checker
	gen     map[string]int // generation of each mirrored base
}

var debianTargets = catalog.Selector{Runtimes: []string{"python3.12", "nodejs22.x"}, Variants: []string{"debian"}}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOf(t, debianTargets)
}

func newFixtureOf(t *testing.T, sel catalog.Selector) *fixture {
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
	f := &fixture{reg: registrytest.Start(t), tm: tm, targets: targets, mirrors: map[string]string{}, store: st, gen: map[string]int{}}
	for i := range targets {
		rc, err := renderTarget(tm, &targets[i])
		if err != nil {
			t.Fatal(err)
		}
		args, err := build.ImageArgs(dockerfile(rc))
		if err != nil {
			t.Fatal(err)
		}
		for _, ref := range args {
			r, err := name.ParseReference(ref)
			if err != nil {
				t.Fatal(err)
			}
			host := r.Context().RegistryStr()
			if host == name.DefaultRegistry {
				host = "docker.io"
			}
			f.mirrors[host] = f.reg.Host + "/" + strings.ReplaceAll(host, ".", "-")
		}
		for _, ref := range args {
			f.push(t, ref, 0, 0)
		}
	}
	f.checker = fakeLanguageRegistries(t)
	return f
}

// push makes ref (as the catalog names it) a two-platform index in the
// registry; amd64 and arm64 are generations of each platform's image.
func (f *fixture) push(t *testing.T, ref string, amd64, arm64 int) {
	t.Helper()
	m, err := build.Mirror(ref, f.mirrors)
	if err != nil {
		t.Fatal(err)
	}
	idx := v1.ImageIndex(empty.Index)
	for arch, g := range map[string]int{"x86_64": amd64, "arm64": arm64} {
		img, err := registrytest.Image(registrytest.ImageSpec{Runtime: ref, Arch: arch, Size: g})
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: registrytest.GoArch(arch)}}})
	}
	r, err := name.ParseReference(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
}

// fakeLanguageRegistries answers npm's and PyPI's documents for any
// package and version with one file each.
func fakeLanguageRegistries(t *testing.T) *pins.Checker {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/npm/"):
			pkg := strings.TrimPrefix(r.URL.Path, "/npm/")
			fmt.Fprintf(w, `{"versions":{%s}}`, versions(func(v string) string {
				return fmt.Sprintf(`{"dist":{"tarball":"https://registry.npmjs.org/%s/-/%s-%s.tgz","integrity":"sha512-%s"}}`, pkg, pkg, v, v)
			}))
		case strings.HasPrefix(r.URL.Path, "/pypi/simple/"):
			fmt.Fprint(w, `{"files":[`)
			for i, v := range allVersions {
				if i > 0 {
					fmt.Fprint(w, ",")
				}
				fmt.Fprintf(w, `{"filename":"awslambdaric-%s.tar.gz","hashes":{"sha256":"sum%s"}},`+
					`{"filename":"awslambdaric-%s-py3-none-any.whl","hashes":{"sha256":"wheel%s"}}`, v, v, v, v)
			}
			fmt.Fprint(w, `]}`)
		case strings.HasPrefix(r.URL.Path, "/maven/") && strings.HasSuffix(r.URL.Path, ".jar.sha1"):
			fmt.Fprint(w, "da39a3ee5e6b4b0d3255bfef95601890afd80709  "+path.Base(strings.TrimSuffix(r.URL.Path, ".sha1"))+"\n")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := pins.NewChecker(srv.Client(), pins.WithEndpoint(pins.NPM, srv.URL+"/npm"), pins.WithEndpoint(pins.PyPI, srv.URL+"/pypi"),
		pins.WithEndpoint(pins.MavenCentral, srv.URL+"/maven"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// allVersions are the versions the fake registries serve: every version
// the built-in catalog pins.
var allVersions = func() []string {
	c, err := catalog.Parse(lambdaimg.CatalogName, lambdaimg.Catalog)
	if err != nil {
		panic(err)
	}
	ps, err := pins.Collect(c)
	if err != nil {
		panic(err)
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range ps {
		if !seen[p.Version] {
			seen[p.Version] = true
			out = append(out, p.Version)
		}
	}
	return out
}()

func versions(doc func(string) string) string {
	var parts []string
	for _, v := range allVersions {
		parts = append(parts, fmt.Sprintf("%q:%s", v, doc(v)))
	}
	return strings.Join(parts, ",")
}

func (f *fixture) locker(t *testing.T) *Locker {
	t.Helper()
	l, err := NewLocker(f.tm, WithMirrors(f.mirrors), WithStore(f.store), WithChecker(f.checker),
		WithRemoteOptions(remote.WithTransport(remote.DefaultTransport)))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (f *fixture) lock(t *testing.T, prev *File) *File {
	t.Helper()
	got, err := f.locker(t).Lock(context.Background(), f.targets, prev)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// requests counts the registry's requests by method and kind since the
// last call.
func (f *fixture) requests() map[string]int {
	out := map[string]int{}
	for _, e := range f.reg.Log().Entries() {
		if e.Kind != "" {
			out[e.Method+" "+e.Kind]++
		}
	}
	f.reg.Log().Reset()
	return out
}

// TestLockThenBaseMoves: locking twice with nothing moved gives the same
// bytes and only HEAD requests; a base that moves for arm64 changes
// exactly that base's digest and arm64 entry.
func TestLockThenBaseMoves(t *testing.T) {
	f := newFixture(t)
	f.reg.Log().Reset()
	first := f.lock(t, nil)
	if got := f.requests(); got["GET manifests"] == 0 || got["HEAD manifests"] == 0 {
		t.Errorf("first lock requests = %v, want HEADs and GETs of manifests", got)
	}
	py := first.Targets["python3.12/debian"]
	if py == nil || py.Images["BASE_IMAGE"] == nil || len(py.Images["BASE_IMAGE"].Platforms) != 2 {
		t.Fatalf("python3.12/debian entry = %+v, want BASE_IMAGE for two platforms", py)
	}
	if diff := cmp.Diff([]Package{{Registry: "pypi", Name: "awslambdaric", Version: py.Packages[0].Version, Files: []Artifact{
		{Name: "awslambdaric-" + py.Packages[0].Version + "-py3-none-any.whl", Checksum: "sha256:wheel" + py.Packages[0].Version},
		{Name: "awslambdaric-" + py.Packages[0].Version + ".tar.gz", Checksum: "sha256:sum" + py.Packages[0].Version},
	}}}, py.Packages); diff != "" {
		t.Errorf("python packages (-want +got):\n%s", diff)
	}
	node := first.Targets["nodejs22.x/debian"]
	if len(node.Packages) != 1 || node.Packages[0].Files[0].Checksum != "sha512-"+node.Packages[0].Version {
		t.Errorf("nodejs packages = %+v, want aws-lambda-ric with its integrity", node.Packages)
	}
	if py.RIE == nil || py.RIE.SHA256["x86_64"] == "" || py.RIE.SHA256["arm64"] == "" {
		t.Errorf("RIE = %+v, want the catalog's release with both checksums", py.RIE)
	}
	a, err := first.Marshal()
	if err != nil {
		t.Fatal(err)
	}

	second := f.lock(t, first)
	if got, want := f.requests(), map[string]int{"HEAD manifests": countImages(first)}; !cmp.Equal(want, got) {
		t.Errorf("second lock requests = %v, want %v (HEAD only)", got, want)
	}
	b, err := second.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(a), string(b)); diff != "" {
		t.Fatalf("nothing moved, but the lock changed (-first +second):\n%s", diff)
	}

	base := py.Images["BASE_IMAGE"]
	f.push(t, base.Ref, 0, 1)
	third := f.lock(t, second)
	var changes []string
	for _, c := range Changes(second, third) {
		changes = append(changes, c.String())
	}
	var want []string
	for _, n := range []string{"nodejs22.x/debian", "python3.12/debian"} {
		for arg, img := range second.Targets[n].Images {
			if img.Ref != base.Ref {
				continue
			}
			now := third.Targets[n].Images[arg]
			want = append(want,
				fmt.Sprintf("%s images.%s.digest: %s -> %s", n, arg, img.Digest, now.Digest),
				fmt.Sprintf("%s images.%s.platforms.linux/arm64: %s -> %s", n, arg, img.Platforms["linux/arm64"], now.Platforms["linux/arm64"]))
		}
	}
	sort.Strings(want)
	if len(want) == 0 {
		t.Fatal("no target uses the moved base: the test checks nothing")
	}
	if diff := cmp.Diff(want, changes); diff != "" {
		t.Errorf("changes after %s moved for arm64 (-want +got):\n%s", base.Ref, diff)
	}
	if third.Targets["python3.12/debian"].Images["BASE_IMAGE"].Platforms["linux/amd64"] != base.Platforms["linux/amd64"] {
		t.Error("the amd64 digest changed, but only arm64 moved")
	}
}

func countImages(f *File) int {
	refs := map[string]bool{}
	for _, t := range f.Targets {
		for _, img := range t.Images {
			refs[img.Ref] = true
		}
	}
	return len(refs)
}

// TestLockReadsStoredPackages: a stored image built from the same inputs
// on the locked bases gives the lock its dpkg packages; one built on
// another base does not.
func TestLockReadsStoredPackages(t *testing.T) {
	f := newFixture(t)
	var tg *catalog.Target
	for i := range f.targets {
		if f.targets[i].Name() == "python3.12/debian" {
			tg = &f.targets[i]
		}
	}
	if tg == nil {
		t.Fatal("no python3.12/debian target")
	}
	inputs, err := Inputs(f.tm, tg)
	if err != nil {
		t.Fatal(err)
	}
	status := "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9+deb12u9\n\n" +
		"Package: tzdata\nStatus: install ok installed\nArchitecture: all\nVersion: 2024a-0+deb12u1\n\n" +
		"Package: libc6\nStatus: install ok installed\nArchitecture: i386\nVersion: 2.36-9+deb12u9\n"
	layer, err := registrytest.Layer(types.OCILayer, registrytest.File{Path: "var/lib/dpkg/status", Data: []byte(status)})
	if err != nil {
		t.Fatal(err)
	}
	img, err := registrytest.Image(registrytest.ImageSpec{Runtime: "python3.12", Arch: "x86_64", ExtraLayers: []v1.Layer{layer}})
	if err != nil {
		t.Fatal(err)
	}
	locked := f.lock(t, nil).Targets["python3.12/debian"]
	bases := func(digest string) string {
		m := map[string]map[string]string{}
		for arg, im := range locked.Images {
			m[arg] = map[string]string{"ref": "mirror/" + im.Ref, "digest": im.Digest}
			if digest != "" {
				m[arg]["digest"] = digest
			}
		}
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	for arch, ann := range map[string]map[string]string{
		"x86_64": {store.AnnInputs: inputs, labels.Bases: bases("")},
		"arm64":  {store.AnnInputs: inputs, labels.Bases: bases("sha256:built-on-another-base")},
	} {
		if _, err := f.store.Put(store.Ref{Runtime: "python3.12", Variant: "debian", Arch: arch}, img, ann); err != nil {
			t.Fatal(err)
		}
	}
	got := f.lock(t, nil).Targets["python3.12/debian"].OS
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*OSPackages{"linux/amd64": {Image: d.String(), Database: "dpkg",
		Packages: []string{"libc6:i386=2.36-9+deb12u9", "libc6=2.36-9+deb12u9", "tzdata=2024a-0+deb12u1"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("os packages (-want +got):\n%s", diff)
	}
}

// TestNarrowedLockKeepsOtherPlatforms: locking one platform of targets
// locked for two changes nothing (the other platform's entries stay).
func TestNarrowedLockKeepsOtherPlatforms(t *testing.T) {
	f := newFixture(t)
	full := f.lock(t, nil)
	for _, e := range full.Targets {
		e.OS = map[string]*OSPackages{"linux/arm64": {Image: "sha256:stored", Database: "dpkg", Packages: []string{"bash=5"}}}
	}
	for i := range f.targets {
		f.targets[i].Arches = []catalog.Arch{catalog.X86_64}
	}
	narrowed := f.lock(t, full)
	if c := Changes(full, narrowed); len(c) != 0 {
		t.Errorf("locking amd64 only changed %v, want nothing", c)
	}
}

// TestLockWholeCatalog locks every target of the built-in catalog: each
// renders, each image argument resolves for each platform, and the lock
// reads back as written.
func TestLockWholeCatalog(t *testing.T) {
	f := newFixtureOf(t, catalog.Selector{All: true})
	got := f.lock(t, nil)
	if len(got.Targets) != len(f.targets) {
		t.Errorf("%d targets locked, want %d", len(got.Targets), len(f.targets))
	}
	registries := map[string]bool{}
	for n, e := range got.Targets {
		if len(e.Images) == 0 {
			t.Errorf("%s locks no image", n)
		}
		for _, p := range e.Packages {
			registries[p.Registry] = true
			if (p.Registry == "npm" || p.Registry == "pypi" || p.Registry == "maven-central") && len(p.Files) == 0 {
				t.Errorf("%s: %s %s@%s has no checksum", n, p.Registry, p.Name, p.Version)
			}
		}
	}
	for _, r := range []string{"npm", "pypi", "maven-central"} {
		if !registries[r] {
			t.Errorf("no target locks a package from %s", r)
		}
	}
	data, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("all.lock", data)
	if err != nil {
		t.Fatal(err)
	}
	if c := Changes(got, back); len(c) != 0 {
		t.Errorf("read back, the lock differs: %v", c)
	}
	t.Logf("%d targets, %d bytes", len(got.Targets), len(data))
}

// TestInputsCoverLanguagePins: the inputs digest a locked build compares
// changes with the RIC version, so a lock cannot build other language
// package versions than it records.
func TestInputsCoverLanguagePins(t *testing.T) {
	f := newFixture(t)
	tg := f.targets[0]
	before, err := Inputs(f.tm, &tg)
	if err != nil {
		t.Fatal(err)
	}
	tg.Spec.RIC = tg.Spec.RIC + ".1"
	after, err := Inputs(f.tm, &tg)
	if err != nil {
		t.Fatal(err)
	}
	if before == after {
		t.Errorf("%s: the inputs digest did not change with the RIC version", tg.Name())
	}
}

// TestOSEntryOfEachDatabase: noarch packages (rpm, apk) are not a foreign
// architecture, nor do they outvote the native one.
func TestOSEntryOfEachDatabase(t *testing.T) {
	tests := []struct {
		name string
		inv  *inventory.Inventory
		want []string
	}{
		{
			name: "rpm",
			inv: &inventory.Inventory{Database: "rpm", Packages: []inventory.Package{
				{Name: "glibc", Version: "2.34-52.amzn2023", Arch: "x86_64", Type: "rpm"},
				{Name: "glibc", Version: "2.34-52.amzn2023", Arch: "i686", Type: "rpm"},
				{Name: "tzdata", Version: "2024a-1.amzn2023", Arch: "noarch", Type: "rpm"},
				{Name: "ca-certificates", Version: "2023.2.68-1.amzn2023", Arch: "noarch", Type: "rpm"},
				{Name: "python3-pip", Version: "21.3.1-2.amzn2023", Arch: "noarch", Type: "rpm"},
				{Name: "fixture", Version: "2:1.0.1-3.amzn2023", Arch: "x86_64", Type: "rpm"},
			}},
			want: []string{"ca-certificates=2023.2.68-1.amzn2023", "fixture=2:1.0.1-3.amzn2023", "glibc:i686=2.34-52.amzn2023",
				"glibc=2.34-52.amzn2023", "python3-pip=21.3.1-2.amzn2023", "tzdata=2024a-1.amzn2023"},
		},
		{
			name: "apk",
			inv: &inventory.Inventory{Database: "apk", Packages: []inventory.Package{
				{Name: "musl", Version: "1.2.4-r2", Arch: "aarch64", Type: "apk"},
				{Name: "alpine-keys", Version: "2.4-r1", Arch: "noarch", Type: "apk"},
				{Name: "ca-certificates-bundle", Version: "20230506-r0", Arch: "noarch", Type: "apk"},
			}},
			want: []string{"alpine-keys=2.4-r1", "ca-certificates-bundle=20230506-r0", "musl=1.2.4-r2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := osEntry(tc.inv)
			if diff := cmp.Diff(tc.want, got.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if got.Database != tc.inv.Database {
				t.Errorf("database = %q, want %q", got.Database, tc.inv.Database)
			}
		})
	}
}
