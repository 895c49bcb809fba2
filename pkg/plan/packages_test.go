package plan

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/osindex"
	"github.com/lambdaimg/lambdaimg/pkg/osindex/apktest"
	"github.com/lambdaimg/lambdaimg/pkg/osindex/apttest"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

var debianTarget = catalog.Selector{Runtimes: []string{"provided.al2023"}, Variants: []string{"debian"}}

// storeDebian replaces every stored image of the fixture with a Debian
// one whose dpkg database lists pkgs (name=version) and whose
// sources.list is sources, with the package record a build makes of it
// (built on the index repo serves now; nil: on an unknown one).
func storeDebian(t *testing.T, f *fixture, sources string, repo *apttest.Repo, pkgs ...string) {
	t.Helper()
	var status strings.Builder
	for _, p := range pkgs {
		n, v, _ := strings.Cut(p, "=")
		fmt.Fprintf(&status, "Package: %s\nStatus: install ok installed\nArchitecture: all\nVersion: %s\n\n", n, v)
	}
	entries, err := f.store.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		l, err := registrytest.Layer(types.DockerLayer,
			registrytest.File{Path: "etc/os-release", Data: []byte("ID=debian\n")},
			registrytest.File{Path: "etc/apt/sources.list", Data: []byte(sources)},
			registrytest.File{Path: "var/lib/dpkg/status", Data: []byte(status.String())})
		if err != nil {
			t.Fatal(err)
		}
		img, err := mutate.AppendLayers(empty.Image, l)
		if err != nil {
			t.Fatal(err)
		}
		inv, err := inventory.Read(e.Name(), img, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := osindex.NewRecord(inv, nil, catalog.Arch(e.Arch).GoArch())
		if err != nil {
			t.Fatal(err)
		}
		if repo != nil {
			rec.State = indexState(t, repo, catalog.Arch(e.Arch).GoArch())
		}
		ann := e.Descriptor.Annotations
		if ann[labels.OSPackages], err = rec.Marshal(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.Put(e.Ref, img, ann); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewerPackageInTheIndex(t *testing.T) {
	bk := noBuildKit(t)
	f := newFixture(t, debianTarget)
	repo := apttest.Start(t, "testing")
	// libc6 comes from sources the repository does not serve: not checked.
	repo.Publish(apttest.Pkg{Name: "lambdaimg-hello", Version: "1"})
	storeDebian(t, f, repo.SourcesList(), repo, "lambdaimg-hello=1", "libc6=2.36-9")
	repo.Paths()
	name := f.targets[0].Name()

	planner := f.planner(t) // one Planner for both runs, as a long-lived caller keeps it
	p, err := planner.Plan(context.Background(), f.targets)
	if err != nil {
		t.Fatal(err)
	}
	if got := summarize(p); len(got) != 0 {
		t.Errorf("the index serving the installed version: rebuild %+v, want nothing", got)
	}
	if err := p.Err(); err != nil {
		t.Errorf("Err = %v, want nil (exit 0)", err)
	}
	// The index as built: the Release says so, Packages are not read.
	for _, path := range repo.Paths() {
		if strings.Contains(path, "/Packages") {
			t.Errorf("the index did not change, yet the plan read %s", path)
		}
	}

	repo.Publish(apttest.Pkg{Name: "lambdaimg-hello", Version: "2"})
	p, err = planner.Plan(context.Background(), f.targets)
	if err != nil {
		t.Fatal(err)
	}
	reasons := []Reason{{KindPackage, "package lambdaimg-hello has newer version 2 (installed 1)"}}
	var want, got []Item
	for _, platform := range []string{"linux/amd64", "linux/arm64"} {
		want = append(want, Item{Target: name, Platform: platform, Rebuild: true, Reasons: reasons})
	}
	for _, it := range p.Rebuild() {
		got = append(got, Item{Target: it.Target, Platform: it.Platform, Rebuild: it.Rebuild, Reasons: it.Reasons})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rebuild (-want +got):\n%s", diff)
	}
	if err := p.Err(); !errors.Is(err, ErrChanged) {
		t.Errorf("Err = %v, want ErrChanged (exit 10)", err)
	}
	if n := bk.Load(); n != 0 {
		t.Errorf("%d connections to BuildKit, want none", n)
	}
}

// indexState is the state of repo's index for arch, as a build records
// it.
func indexState(t *testing.T, repo *apttest.Repo, arch string) string {
	t.Helper()
	srcs, err := osindex.ParseList(repo.SourcesList())
	if err != nil {
		t.Fatal(err)
	}
	c, err := osindex.New()
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.State(context.Background(), srcs, arch)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPackagesNotRecorded(t *testing.T) {
	f := newFixture(t, debianTarget)
	entries, err := f.store.List()
	if err != nil {
		t.Fatal(err)
	}
	e := entries[0]
	img, err := f.store.Image(e)
	if err != nil {
		t.Fatal(err)
	}
	delete(e.Descriptor.Annotations, labels.OSPackages)
	if _, err := f.store.Put(e.Ref, img, e.Descriptor.Annotations); err != nil {
		t.Fatal(err)
	}
	p, err := f.planner(t).Plan(context.Background(), f.targets)
	if err != nil {
		t.Fatal(err)
	}
	want := []summaryItem{{Target: f.targets[0].Name(), Platform: catalog.Arch(e.Arch).Platform(), Kinds: []string{KindPackage}}}
	if diff := cmp.Diff(want, summarize(p)); diff != "" {
		t.Errorf("rebuild (-want +got):\n%s", diff)
	}
}

func TestUnreachablePackageIndexIsAnError(t *testing.T) {
	f := newFixture(t, debianTarget)
	storeDebian(t, f, "deb [trusted=yes] http://127.0.0.1:1 testing main\n", nil, "lambdaimg-hello=1")
	_, err := f.planner(t).Plan(context.Background(), f.targets)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("error %v, want one naming the unreachable index", err)
	}
}

var alpineTarget = catalog.Selector{Runtimes: []string{"nodejs22.x"}, Variants: []string{"alpine"}}

// storeAlpine replaces every stored image of the fixture with an Alpine
// one whose apk database lists pkgs (name=version) and whose
// /etc/apk/repositories is repositories, with the package record a build
// makes of it.
func storeAlpine(t *testing.T, f *fixture, repositories string, pkgs ...string) {
	t.Helper()
	var installed strings.Builder
	for _, p := range pkgs {
		n, v, _ := strings.Cut(p, "=")
		fmt.Fprintf(&installed, "P:%s\nV:%s\nA:x86_64\n\n", n, v)
	}
	entries, err := f.store.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		l, err := registrytest.Layer(types.DockerLayer,
			registrytest.File{Path: "etc/os-release", Data: []byte("ID=alpine\n")},
			registrytest.File{Path: "etc/apk/repositories", Data: []byte(repositories)},
			registrytest.File{Path: "lib/apk/db/installed", Data: []byte(installed.String())})
		if err != nil {
			t.Fatal(err)
		}
		img, err := mutate.AppendLayers(empty.Image, l)
		if err != nil {
			t.Fatal(err)
		}
		inv, err := inventory.Read(e.Name(), img, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := osindex.NewRecord(inv, nil, catalog.Arch(e.Arch).GoArch())
		if err != nil {
			t.Fatal(err)
		}
		ann := e.Descriptor.Annotations
		if ann[labels.OSPackages], err = rec.Marshal(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.Put(e.Ref, img, ann); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewerApkPackageInTheIndex(t *testing.T) {
	bk := noBuildKit(t)
	f := newFixture(t, alpineTarget)
	repo := apktest.Start(t)
	// musl comes from a repository the image does not use: not checked;
	// the tagged edge repository is apk's only for pinned packages.
	repo.Publish(apktest.Pkg{Name: "lambdaimg-hello", Version: "1.0-r0"})
	storeAlpine(t, f, repo.URL+"\n@edge http://127.0.0.1:1/alpine/edge/main\n", "lambdaimg-hello=1.0-r0", "musl=1.2.5-r0")
	name := f.targets[0].Name()

	planner := f.planner(t)
	p, err := planner.Plan(context.Background(), f.targets)
	if err != nil {
		t.Fatal(err)
	}
	if got := summarize(p); len(got) != 0 {
		t.Errorf("the index serving the installed version: rebuild %+v, want nothing", got)
	}
	wantPaths := []string{"/alpine/v3.20/main/aarch64/APKINDEX.tar.gz", "/alpine/v3.20/main/x86_64/APKINDEX.tar.gz"}
	got := repo.Paths()
	sort.Strings(got)
	if diff := cmp.Diff(wantPaths, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	// r10 is newer than r9 in apk's order (not in a string's).
	repo.Publish(apktest.Pkg{Name: "lambdaimg-hello", Version: "1.0-r10"}, apktest.Pkg{Name: "musl", Version: "1.2.6-r0"})
	storeAlpine(t, f, repo.URL+"\n", "lambdaimg-hello=1.0-r9", "musl=1.2.5-r0")
	p, err = planner.Plan(context.Background(), f.targets)
	if err != nil {
		t.Fatal(err)
	}
	reasons := []Reason{
		{KindPackage, "package lambdaimg-hello has newer version 1.0-r10 (installed 1.0-r9)"},
		{KindPackage, "package musl has newer version 1.2.6-r0 (installed 1.2.5-r0)"},
	}
	var want, gotItems []Item
	for _, platform := range []string{"linux/amd64", "linux/arm64"} {
		want = append(want, Item{Target: name, Platform: platform, Rebuild: true, Reasons: reasons})
	}
	for _, it := range p.Rebuild() {
		gotItems = append(gotItems, Item{Target: it.Target, Platform: it.Platform, Rebuild: it.Rebuild, Reasons: it.Reasons})
	}
	if diff := cmp.Diff(want, gotItems); diff != "" {
		t.Errorf("rebuild (-want +got):\n%s", diff)
	}
	if err := p.Err(); !errors.Is(err, ErrChanged) {
		t.Errorf("Err = %v, want ErrChanged (exit 10)", err)
	}
	if n := bk.Load(); n != 0 {
		t.Errorf("%d connections to BuildKit, want none", n)
	}
}

func TestUnreachableApkIndexIsAnError(t *testing.T) {
	f := newFixture(t, alpineTarget)
	storeAlpine(t, f, "http://127.0.0.1:1/alpine/v3.20/main\n", "lambdaimg-hello=1.0-r0")
	_, err := f.planner(t).Plan(context.Background(), f.targets)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("error %v, want one naming the unreachable index", err)
	}
}
