package build_test

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/osindex"
	"github.com/lambdaimg/lambdaimg/pkg/osindex/apttest"
	"github.com/lambdaimg/lambdaimg/pkg/pipeline"
	"github.com/lambdaimg/lambdaimg/pkg/plan"
	pub "github.com/lambdaimg/lambdaimg/pkg/publish"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// TestNewPackageVersionIsBuilt builds an image whose base's only APT
// source is a repository on 127.0.0.1 serving lambdaimg-hello 1, and
// pushes it; then the repository serves 2: plan names the target and the
// package, the rebuild installs 2 (BuildKit's cached install step did not
// hide it), and its push adds a dated tag and the SBOM and changelog
// referrers (lambdaimg-hello 1 → 2); after it, plan and build see nothing
// to do. A first build into a fresh store, BuildKit's cache warm, installs
// the newest version too.
func TestNewPackageVersionIsBuilt(t *testing.T) {
	e := setup(t)
	repo := apttest.Start(t, "lambdaimg")
	repo.Publish(apttest.Pkg{Name: "lambdaimg-hello", Version: "1"})
	base, err := mutate.AppendLayers(debian.Image(t, "amd64"), aptLayer(t, repo.SourcesList()))
	if err != nil {
		t.Fatal(err)
	}
	publish(t, e, base, "lambdaimg-test/debian-apt:bookworm")
	c, tm := load(t, `
extends: builtin
runtimes:
  - id: provided.al2023
    variants:
      debian:
        base: docker.io/lambdaimg-test/debian-apt:bookworm
        packages: [lambdaimg-hello]
`)
	sel := catalog.Selector{Runtimes: []string{"provided.al2023"}, Variants: []string{"debian"}, Arches: []catalog.Arch{catalog.X86_64}}
	targets, err := c.Targets(sel)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := tm.Render(&targets[0], render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	js := []build.Job{{Context: rc, Arch: catalog.X86_64}}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	opts := options(t, e, c)
	b := build.New(e.conn, st, opts)
	ref := store.Ref{Runtime: "provided.al2023", Variant: "debian", Arch: "x86_64"}
	planner, err := plan.New(st, tm, plan.WithMirrors(opts.Mirrors), plan.WithRemoteOptions(remote.WithTransport(remote.DefaultTransport)))
	if err != nil {
		t.Fatal(err)
	}
	planFor := func() *plan.Plan {
		t.Helper()
		p, err := planner.Plan(context.Background(), targets)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	mustBuild(t, b, js)
	if got := installed(t, st, ref); got != "1" {
		t.Fatalf("first build: lambdaimg-hello %q installed, want 1", got)
	}
	pushStore(t, st)
	v1Digest := mustHead(t, pushedRepo()+":al2023-debian-x86_64")
	if want := storedDigest(t, st, ref); v1Digest != want {
		t.Errorf("first push: al2023-debian-x86_64 names %s, want the stored %s", v1Digest, want)
	}
	if err := planFor().Err(); err != nil {
		t.Errorf("nothing changed: plan says %v", err)
	}
	if r := mustBuild(t, b, js)[0]; r.Status != build.Unchanged {
		t.Errorf("nothing changed: build %s (%s), want unchanged", r.Status, r.Reason)
	}
	// A package the image does not install moves in the index: still
	// nothing to rebuild (the install steps are keyed on what they
	// install, not on the whole index).
	repo.Publish(apttest.Pkg{Name: "lambdaimg-hello", Version: "1"}, apttest.Pkg{Name: "lambdaimg-other", Version: "2"})
	if err := planFor().Err(); err != nil {
		t.Errorf("another package moved: plan says %v", err)
	}
	if r := mustBuild(t, b, js)[0]; r.Status != build.Unchanged {
		t.Errorf("another package moved: build %s (%s), want unchanged", r.Status, r.Reason)
	}

	before := inventoryOf(t, st, ref)
	repo.Publish(apttest.Pkg{Name: "lambdaimg-hello", Version: "2"})
	p := planFor()
	if err := p.Err(); !errors.Is(err, plan.ErrChanged) {
		t.Errorf("version 2 in the index: plan says %v, want ErrChanged", err)
	}
	want := "package lambdaimg-hello has newer version 2 (installed 1)"
	if rb := p.Rebuild(); len(rb) != 1 || rb[0].Target != "provided.al2023/debian" || len(rb[0].Reasons) != 1 || rb[0].Reasons[0].Detail != want {
		t.Errorf("plan: %+v, want provided.al2023/debian rebuilt because %s", rb, want)
	}
	if r := mustBuild(t, b, js)[0]; r.Status != build.Built {
		t.Errorf("version 2 in the index: build %s (%s), want built", r.Status, r.Reason)
	}
	if got := installed(t, st, ref); got != "2" {
		t.Errorf("rebuild: lambdaimg-hello %q installed, want 2 (BuildKit's cache hid the new version)", got)
	}
	// The changelog push attaches says the same.
	changed := inventory.Diff(before, inventoryOf(t, st, ref)).Changed
	wantChanged := []inventory.PackageChange{{Name: "lambdaimg-hello", Arch: "all", Old: "1", New: "2"}}
	if diff := cmp.Diff(wantChanged, changed); diff != "" {
		t.Errorf("changelog packages (-want +got):\n%s", diff)
	}
	// The push: a new dated tag for the new digest (the day's first names
	// the old one still: dated tags never move), the floating tags moved,
	// and the SBOM and changelog attached to the new image.
	pushStore(t, st)
	v2Digest := storedDigest(t, st, ref)
	if v2Digest == v1Digest {
		t.Fatalf("the rebuild stored the digest pushed first, %s", v1Digest)
	}
	for _, c := range []struct{ tag, want string }{
		{"al2023.2026.11.24-debian-x86_64", v1Digest},
		{"al2023.2026.11.24-debian", v1Digest},
		{"al2023.2026.11.24.2-debian-x86_64", v2Digest},
		{"al2023.2026.11.24.2-debian", v2Digest},
		{"al2023-debian-x86_64", v2Digest},
		{"al2023-debian", v2Digest},
	} {
		d, err := remote.Head(mustParse(t, pushedRepo()+":"+c.tag))
		if err != nil {
			t.Errorf("second push: %s: %v", c.tag, err)
		} else if got := d.Digest.String(); got != c.want {
			t.Errorf("second push: %s names %s, want %s", c.tag, got, c.want)
		}
	}
	cl, md := pushedChangelog(t, pushedRepo()+"@"+v2Digest)
	if diff := cmp.Diff(wantChanged, cl.Changed); diff != "" {
		t.Errorf("pushed changelog packages (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(cl.Old, "@"+v1Digest) {
		t.Errorf("pushed changelog is against %s, want the image pushed first (%s)", cl.Old, v1Digest)
	}
	if row := "| upgraded | `lambdaimg-hello` | `1` | `2` |"; !strings.Contains(md, row) {
		t.Errorf("pushed changelog's Markdown lacks %q:\n%s", row, md)
	}
	if err := planFor().Err(); err != nil {
		t.Errorf("after the rebuild: plan says %v, want nothing to rebuild", err)
	}
	if r := mustBuild(t, b, js)[0]; r.Status != build.Unchanged {
		t.Errorf("after the rebuild: build %s (%s), want unchanged", r.Status, r.Reason)
	}
	// The record holds what the build installed, not the base's packages
	// (a rebuild cannot move those; a new base does).
	stored, _ := storedImage(t, st, ref)
	rec, err := osindex.ParseRecord(stored.Descriptor.Annotations[labels.OSPackages])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"lambdaimg-hello": "2"}, rec.Packages); diff != "" {
		t.Errorf("recorded packages (-want +got):\n%s", diff)
	}

	// A fresh store (a CI job) with BuildKit's cache warm: the base's
	// sources key the install step, so version 3 is not hidden either.
	repo.Publish(apttest.Pkg{Name: "lambdaimg-hello", Version: "3"})
	fresh, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mustBuild(t, build.New(e.conn, fresh, opts), js)
	if got := installed(t, fresh, ref); got != "3" {
		t.Errorf("first build into a fresh store: lambdaimg-hello %q installed, want 3", got)
	}
}

// pushedRepo is where pushStore publishes provided.al2023's images.
func pushedRepo() string { return registryHost + "/aptpush/provided" }

// pushDay is the clock of pushStore: both pushes are on one day.
var pushDay = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// pushStore publishes the store the way `lambdaimg push` does: verified,
// with the SBOM and changelog attached.
func pushStore(t *testing.T, st *store.Store) {
	t.Helper()
	_, err := pipeline.Publish(context.Background(), pipeline.PublishRequest{
		StoreDir:   st.Dir(),
		Registries: []string{registryHost + "/aptpush"},
		Log:        testWriter{t},
		Now:        func() time.Time { return pushDay },
	})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
}

func storedDigest(t *testing.T, st *store.Store, ref store.Ref) string {
	t.Helper()
	e, _ := storedImage(t, st, ref)
	return e.Descriptor.Digest.String()
}

// mustHead returns the digest a tag names in the registry.
func mustHead(t *testing.T, s string) string {
	t.Helper()
	d, err := remote.Head(mustParse(t, s))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return d.Digest.String()
}

func mustParse(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// pushedChangelog returns the changelog attached to the image s
// (repo@digest), JSON and Markdown, found as ggcr finds referrers: by the
// referrers API, else the sha256-<digest> tag. The image must have an SBOM
// attached too.
func pushedChangelog(t *testing.T, s string) (inventory.Changelog, string) {
	t.Helper()
	d, ok := mustParse(t, s).(name.Digest)
	if !ok {
		t.Fatalf("%s names no digest", s)
	}
	idx, err := remote.Referrers(d)
	if err != nil {
		t.Fatalf("referrers of %s: %v", s, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	var changelog *v1.Descriptor
	for i, m := range im.Manifests {
		kinds = append(kinds, m.ArtifactType)
		if m.ArtifactType == pub.ChangelogArtifactType {
			changelog = &im.Manifests[i]
		}
	}
	slices.Sort(kinds)
	if diff := cmp.Diff([]string{pub.SBOMArtifactType, pub.ChangelogArtifactType}, kinds); diff != "" {
		t.Errorf("referrers of %s (-want +got):\n%s", s, diff)
	}
	if changelog == nil {
		t.Fatalf("no changelog refers to %s", s)
	}
	art, err := remote.Image(d.Context().Digest(changelog.Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	layers, err := art.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var cl inventory.Changelog
	var md string
	for _, l := range layers {
		mt, err := l.MediaType()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Compressed() // the blob as pushed: these layers are not compressed
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		switch mt {
		case pub.ChangelogArtifactType:
			if err := json.Unmarshal(data, &cl); err != nil {
				t.Fatalf("changelog JSON: %v\n%s", err, data)
			}
		case "text/markdown":
			md = string(data)
		}
	}
	if cl.New == "" || md == "" {
		t.Fatalf("the changelog artifact of %s lacks its JSON or Markdown", s)
	}
	return cl, md
}

// aptLayer makes sources.list the image's only APT source.
func aptLayer(t *testing.T, sources string) v1.Layer {
	t.Helper()
	l, err := registrytest.Layer(types.DockerLayer,
		registrytest.File{Path: "etc/apt/sources.list", Data: []byte(sources)},
		registrytest.File{Path: "etc/apt/sources.list.d/.wh.debian.sources"})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func inventoryOf(t *testing.T, st *store.Store, ref store.Ref) *inventory.Inventory {
	t.Helper()
	e, img := storedImage(t, st, ref)
	inv, err := inventory.Read(ref.Name(), img, e.Descriptor.Annotations)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// installed is the version of lambdaimg-hello in the stored image: its
// dpkg database's, checked against the file the package installs.
func installed(t *testing.T, st *store.Store, ref store.Ref) string {
	t.Helper()
	inv := inventoryOf(t, st, ref)
	_, img := storedImage(t, st, ref)
	version := ""
	for _, p := range inv.Packages {
		if p.Name == "lambdaimg-hello" {
			version = p.Version
		}
	}
	if file := readFile(t, img, "usr/share/lambdaimg-test/lambdaimg-hello/version"); strings.TrimSpace(file) != version {
		t.Errorf("dpkg says lambdaimg-hello %s, its file says %q", version, file)
	}
	return version
}

func readFile(t *testing.T, img v1.Image, name string) string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}
