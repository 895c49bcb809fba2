// Package testenv gives end-to-end tests the real things they run against:
// a BuildKit daemon (lambdaimg's own, started if needed), an in-process OCI
// registry that BuildKit pulls from, and base images made on this machine
// from the rootfs tarballs of scripts/make-test-bases.sh. Nothing is mocked.
//
// Without BuildKit or the tarballs a test is skipped, except under CI=true,
// where it fails: CI must run every end-to-end test.
package testenv

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/helper"
)

// Unavailable skips the test, or fails it under CI=true.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and %s (make test installs and starts everything)", msg)
	}
	t.Skipf("%s; run `make test` to install BuildKit and the test bases", msg)
}

// Root is the repository root (where go.mod is).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// CacheDir is where scripts put downloaded and built test inputs.
func CacheDir(t testing.TB) string {
	if d := os.Getenv("LAMBDAIMG_TEST_CACHE"); d != "" {
		return d
	}
	return filepath.Join(Root(t), ".cache")
}

// BuildKit connects to the daemon the tests use: $LAMBDAIMG_TEST_BUILDKIT
// if set, else as lambdaimg itself would (starting its own buildkitd).
func BuildKit(t testing.TB) *buildkit.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	conn, err := buildkit.Connect(ctx, buildkit.Options{Addr: os.Getenv("LAMBDAIMG_TEST_BUILDKIT"), Logf: t.Logf})
	if err != nil {
		Unavailable(t, "no BuildKit: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Registry starts an in-process registry on 127.0.0.1 and returns its host.
// BuildKit pulls from it over plain HTTP.
func Registry(t testing.TB) string {
	t.Helper()
	host, stop := StartRegistry()
	t.Cleanup(stop)
	return host
}

// StartRegistry is Registry for TestMain: it returns the host and a stop
// function.
func StartRegistry() (string, func()) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	return strings.TrimPrefix(srv.URL, "http://"), srv.Close
}

// Base is a base image made from a rootfs tarball in CacheDir/bases.
type Base struct {
	Name string // tarball name without -<arch>.tar.gz, e.g. debian-bookworm
	Env  []string
}

var layerCache sync.Map // tarball path -> v1.Layer

// Image builds the base for arch (amd64 or arm64) from its tarball.
func (b Base) Image(t testing.TB, arch string) v1.Image {
	t.Helper()
	p := filepath.Join(CacheDir(t), "bases", b.Name+"-"+arch+".tar.gz")
	if _, err := os.Stat(p); err != nil {
		Unavailable(t, "no base tarball %s", p)
	}
	l, ok := layerCache.Load(p)
	if !ok {
		layer, err := tarball.LayerFromFile(p, tarball.WithMediaType(types.DockerLayer))
		if err != nil {
			t.Fatal(err)
		}
		l, _ = layerCache.LoadOrStore(p, layer)
	}
	env := b.Env
	if env == nil {
		env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		OS: "linux", Architecture: arch, RootFS: v1.RootFS{Type: "layers"},
		Config: v1.Config{Env: env, Cmd: []string{"/bin/sh"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.AppendLayers(img, l.(v1.Layer))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Push writes img to ref; with several archs it pushes an index.
func Push(t testing.TB, ref string, imgs map[string]v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) == 1 {
		for _, img := range imgs {
			if err := remote.Write(r, img); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	idx := mutate.IndexMediaType(empty.Index, types.DockerManifestList)
	for arch, img := range imgs {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
}

// RIEDir returns the directory of emulator binaries built by
// scripts/install-rie.sh (<dir>/<arch>/aws-lambda-rie).
func RIEDir(t testing.TB) string {
	d := filepath.Join(CacheDir(t), "rie")
	for _, a := range []string{"x86_64", "arm64"} {
		if _, err := os.Stat(filepath.Join(d, a, "aws-lambda-rie")); err != nil {
			Unavailable(t, "no emulator binary in %s", d)
		}
	}
	return d
}

// GoBuild cross-compiles the main package in dir for linux/goarch into out.
func GoBuild(t testing.TB, dir, goarch, out string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-tags", "lambda.norpc", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s for %s: %v\n%s", dir, goarch, err, b)
	}
}

var (
	helperOnce sync.Once
	helperDir  string
	helperErr  error
)

// Helper builds lambdaimg-helper for linux/amd64 and linux/arm64 once per
// test binary, as `make helper` does, and returns the directory holding
// them: what smoke tests pass as --helper (smoke.Options.Helper).
func Helper(t testing.TB) string {
	t.Helper()
	root := Root(t)
	helperOnce.Do(func() {
		helperDir, helperErr = os.MkdirTemp("", "lambdaimg-test-helper-")
		for _, arch := range []string{"amd64", "arm64"} {
			if helperErr != nil {
				return
			}
			out := filepath.Join(helperDir, helper.FileName(arch))
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/lambdaimg-helper")
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
			if b, err := cmd.CombinedOutput(); err != nil {
				helperErr = fmt.Errorf("building lambdaimg-helper for %s: %v\n%s", arch, err, b)
			}
		}
	})
	if helperErr != nil {
		t.Fatal(helperErr)
	}
	return helperDir
}
