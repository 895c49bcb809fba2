package cli

import (
	"encoding/json"
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
func TestBuildLockedPullsByDigest(t *testing.T) {
	testenv.BuildKit(t)
	bases := testenv.Registry(t)
	tag := bases + "/library/debian:bookworm-slim"
	path := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	testenv.Push(t, tag, map[string]v1.Image{"amd64": testenv.Base{Name: "debian-bookworm", Env: path}.Image(t, "amd64")})
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
}
