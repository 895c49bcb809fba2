package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/lock"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// TestBuildLockedPullsByDigest locks provided.al2023 on Debian, moves the
// base's tag to another image, and builds with --locked through real
// BuildKit: the image is built FROM the locked digest (the build records
// REPOSITORY@DIGEST, and the moved image's environment is not in it).
// Then the lock gate on that image (see checkLockGate).
func TestBuildLockedPullsByDigest(t *testing.T) {
	testenv.BuildKit(t)
	bases := testenv.Registry(t)
	tag := bases + "/library/debian:bookworm-slim"
	path := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	original := map[string]v1.Image{"amd64": testenv.Base{Name: "debian-bookworm", Env: path}.Image(t, "amd64")}
	testenv.Push(t, tag, original)
	dir := t.TempDir()
	file, storeDir := filepath.Join(dir, "lambdaimg.lock"), filepath.Join(dir, "store")
	sel := []string{"--runtime", "provided.al2023", "--os", "debian", "--platform", "linux/amd64",
		"--registry-mirror", "docker.io=" + bases, "--lock", file, "--store", storeDir}
	if out, err := runCLI(t, append([]string{"lock"}, sel...)...); err != nil {
		t.Fatalf("lock: %v\n%s", err, out)
	}
	f, err := lock.Read(file)
	if err != nil {
		t.Fatal(err)
	}
	locked := f.Targets["provided.al2023/debian"].Images["BASE_IMAGE"].Digest

	testenv.Push(t, tag, map[string]v1.Image{"amd64": testenv.Base{Name: "debian-bookworm", Env: append(path, "LAMBDAIMG_MOVED=1")}.Image(t, "amd64")})
	r, err := name.ParseReference(tag)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := remote.Head(r); err != nil || d.Digest.String() == locked {
		t.Fatalf("the tag did not move (%v, %v): the test would prove nothing", d, err)
	}

	out, err := runCLI(t, append([]string{"build", "--locked", "--rie", testenv.RIEDir(t), "--progress", "quiet"}, sel...)...)
	if err != nil {
		t.Fatalf("build --locked: %v\n%s", err, out)
	}
	st, err := store.Open(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	e, ok, err := st.Get(store.Ref{Runtime: "provided.al2023", Variant: "debian", Arch: "x86_64"})
	if err != nil || !ok {
		t.Fatalf("no stored image: %v", err)
	}
	var rec map[string]struct{ Ref, Digest string }
	if err := json.Unmarshal([]byte(e.Descriptor.Annotations[labels.Bases]), &rec); err != nil {
		t.Fatal(err)
	}
	if b := rec["BASE_IMAGE"]; !strings.HasSuffix(b.Ref, "@"+locked) || b.Digest != locked {
		t.Errorf("BASE_IMAGE recorded as %+v, want the locked digest %s", b, locked)
	}
	img, err := st.Image(e)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(cf.Config.Env, "LAMBDAIMG_MOVED=1") {
		t.Error("the image was built on the moved tag, not the locked digest")
	}

	testenv.Push(t, tag, original) // the tag back on the locked digest: lock adds, moves nothing
	checkLockGate(t, sel, file, e.Descriptor.Digest.String())
}

// checkLockGate locks again, now that the store holds the image built
// from the lock (the lock records its OS packages), and builds --locked
// twice without building anything (the stored image is unchanged): as
// locked, the "locked" gate passes it; with one package's version changed
// in the lock, the gate fails it and names the package.
func checkLockGate(t *testing.T, sel []string, file, stored string) {
	t.Helper()
	if out, err := runCLI(t, append([]string{"lock"}, sel...)...); err != nil {
		t.Fatalf("lock after the build: %v\n%s", err, out)
	}
	f, err := lock.Read(file)
	if err != nil {
		t.Fatal(err)
	}
	osp := f.Targets["provided.al2023/debian"].OS["linux/amd64"]
	if osp == nil || len(osp.Packages) == 0 || osp.Image != stored {
		t.Fatalf("the lock's OS packages are %+v, want those of the stored image %s", osp, stored)
	}
	build := append([]string{"build", "--locked", "--rie", testenv.RIEDir(t), "--progress", "quiet", "-o", "json"}, sel...)
	gate, reason := lockGate(t, build)
	if gate == nil || !gate.OK || gate.Report == nil || gate.Report.OS != fmt.Sprintf("%d dpkg packages as locked", len(osp.Packages)) {
		t.Fatalf("the locked gate of a build of the locked image: %+v (%s), want it passed with %d packages", gate, reason, len(osp.Packages))
	}

	pkg, _, _ := strings.Cut(osp.Packages[0], "=")
	locked := osp.Packages[0]
	osp.Packages[0] = pkg + "=0-not-built"
	if err := f.Write(file); err != nil {
		t.Fatal(err)
	}
	gate, reason = lockGate(t, build)
	if gate == nil || gate.OK || !strings.Contains(reason, pkg+" 0-not-built -> ") || !strings.Contains(reason, "lambdaimg lock --update") {
		t.Fatalf("the locked gate with %s's version changed in the lock: %+v, reason %q: want it failed naming the package", pkg, gate, reason)
	}
	// The image is not broken, only not the lock's: it stays in the store,
	// and with the lock as it was it passes again without a rebuild.
	if strings.Contains(reason, "removed from the store") {
		t.Errorf("a lock that differs removed the stored image: %s", reason)
	}
	osp.Packages[0] = locked
	if err := f.Write(file); err != nil {
		t.Fatal(err)
	}
	if gate, reason = lockGate(t, build); gate == nil || !gate.OK {
		t.Errorf("the lock restored: the locked gate %+v (%s), want it passed on the stored image", gate, reason)
	}
}

// lockGate runs a build of one image with -o json and returns its
// "locked" gate (nil if it did not run) and the image's failure reason.
func lockGate(t *testing.T, args []string) (*lockGateResult, string) {
	t.Helper()
	out, err := runCLI(t, args...)
	var rep struct {
		Images []struct {
			Status string           `json:"status"`
			Reason string           `json:"reason"`
			Gates  []lockGateResult `json:"gates"`
		} `json:"images"`
	}
	if jerr := json.Unmarshal([]byte(out), &rep); jerr != nil || len(rep.Images) != 1 {
		t.Fatalf("build: %v, report %v:\n%s", err, jerr, out)
	}
	im := rep.Images[0]
	if im.Status == "built" {
		t.Errorf("the image was built again (%s): the test means to gate the stored one", im.Reason)
	}
	for _, g := range im.Gates {
		if g.Gate == "locked" {
			return &g, im.Reason
		}
	}
	return nil, im.Reason
}

// lockGateResult is a build.GateResult with the lock gate's report.
type lockGateResult struct {
	Gate   string           `json:"gate"`
	OK     bool             `json:"ok"`
	Report *lock.GateReport `json:"report"`
}
