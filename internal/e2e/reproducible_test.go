package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// rebuilt are the targets of the amd64 group that are built a second time
// with --no-cache: one Python and one Node.js image, the Node.js one with
// an apt-get install in its final stage (Debian's nodejs), so that the
// build-stage leftovers of both languages and the final-stage logs and
// caches of apt, dpkg and ldconfig are all covered.
var rebuilt = []string{"python3.11", "nodejs18.x"}

// checkRebuild builds the rebuilt targets again with --no-cache, with the
// same build flags as the group's `lambdaimg test` (whose store, first, is
// the first build), and wants the same digests. It then pushes the first
// store and the second to an in-process registry: the second push must
// upload no blob.
func checkRebuild(t *testing.T, first string, buildFlags []string) {
	t.Helper()
	second := t.TempDir()
	args := append([]string{"build", "--no-cache", "--store", second, "-o", "json"}, buildFlags...)
	for _, r := range rebuilt {
		args = append(args, "--runtime", r)
	}
	began := time.Now()
	out, errOut, err := run(t, args)
	t.Logf("lambdaimg %s: %s", strings.Join(args, " "), time.Since(began).Round(time.Second))
	if err != nil {
		t.Fatalf("the --no-cache rebuild: %v\nstdout:\n%s\nstderr (last 100 lines):\n%s", err, out, tail(errOut, 100))
	}
	a, b := openStore(t, first), openStore(t, second)
	for _, r := range rebuilt {
		ref := store.Ref{Runtime: r, Variant: "debian", Arch: "x86_64"}
		ea, ia := storeImage(t, a, ref)
		eb, ib := storeImage(t, b, ref)
		if ea.Descriptor.Digest != eb.Descriptor.Digest {
			t.Errorf("%s: the --no-cache rebuild of the same inputs is %s, the first build %s; what differs:\n%s",
				ref.Name(), eb.Descriptor.Digest, ea.Descriptor.Digest, strings.Join(imageDiff(t, ia, ib), "\n"))
		}
		// BuildKit may hand back a step's earlier result for a step it
		// ran again (a layer of a --no-cache build held a dpkg.log dated
		// hours before), so equal digests alone can miss a file that
		// differs between builds: the files known to are looked for too.
		for _, f := range unreproducibleFiles(t, ib) {
			t.Errorf("%s: %s", ref.Name(), f)
		}
	}

	reg := registrytest.Start(t)
	push := func(dir string) {
		t.Helper()
		args := []string{"push", "--store", dir, "--registry", reg.Host + "/repro", "--platform", "linux/amd64"}
		for _, r := range rebuilt {
			args = append(args, "--runtime", r)
		}
		if out, errOut, err := run(t, args); err != nil {
			t.Fatalf("lambdaimg %s: %v\n%s\n%s", strings.Join(args, " "), err, out, tail(errOut, 50))
		}
	}
	push(first)
	if len(reg.Log().BlobUploads()) == 0 {
		t.Fatal("the first push uploaded no blob: the registry's log does not see uploads")
	}
	reg.Log().Reset()
	push(second)
	if up := reg.Log().BlobUploads(); len(up) > 0 || reg.Log().BytesUploaded() > 0 {
		t.Errorf("pushing the rebuild after the first build uploaded %d blobs, %d bytes; want none: %v",
			len(up), reg.Log().BytesUploaded(), up)
	}
	for _, e := range reg.Log().ManifestPuts() {
		t.Errorf("pushing the rebuild after the first build put manifest %s:%s", e.Repo, e.Ref)
	}
	checkStillCurrent(t, first, buildFlags)
}

// checkStillCurrent builds the rebuilt targets again into the first
// store, whose images now record the packages they installed: the
// package state a build keys its install steps on (PACKAGE_INDEX) takes
// those in, and must come out as before the record existed, so every
// target is unchanged. (Were a recorded package missing from what lambdaimg
// works out an apt-get install brings in, the state would differ and the
// image would be built again with another digest.)
func checkStillCurrent(t *testing.T, first string, buildFlags []string) {
	t.Helper()
	args := append([]string{"build", "--store", first, "-o", "json"}, buildFlags...)
	for _, r := range rebuilt {
		args = append(args, "--runtime", r)
	}
	out, errOut, err := run(t, args)
	if err != nil {
		t.Fatalf("lambdaimg %s: %v\n%s\n%s", strings.Join(args, " "), err, out, tail(errOut, 50))
	}
	results := buildTimes(out)
	if len(results) != len(rebuilt) {
		t.Fatalf("building %v again: %d results, want %d:\n%s", rebuilt, len(results), len(rebuilt), out)
	}
	for _, r := range results {
		if !strings.Contains(r, ": unchanged in ") {
			t.Errorf("building again with the images' package records in the store: %s, want unchanged\n%s", r, tail(errOut, 30))
		}
	}
}

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func storeImage(t *testing.T, st *store.Store, ref store.Ref) (store.Entry, v1.Image) {
	t.Helper()
	e, ok, err := st.Get(ref)
	if err != nil || !ok {
		t.Fatalf("%s is not in the store: %v", ref.Name(), err)
	}
	img, err := st.Image(e)
	if err != nil {
		t.Fatal(err)
	}
	return e, img
}

// imageDiff says how two images differ: the config, and for each layer
// that differs the files whose header or content differ (at most 30 per
// layer), so that a failure names what made the build unreproducible.
func imageDiff(t *testing.T, a, b v1.Image) []string {
	t.Helper()
	var out []string
	ca, errA := a.RawConfigFile()
	cb, errB := b.RawConfigFile()
	if err := errors.Join(errA, errB); err != nil {
		t.Fatal(err)
	}
	if string(ca) != string(cb) {
		out = append(out, fmt.Sprintf("config:\n  %s\n  %s", ca, cb))
	}
	la, errA := a.Layers()
	lb, errB := b.Layers()
	if err := errors.Join(errA, errB); err != nil {
		t.Fatal(err)
	}
	if len(la) != len(lb) {
		return append(out, fmt.Sprintf("%d layers, then %d", len(la), len(lb)))
	}
	for i := range la {
		da, errA := la[i].DiffID()
		db, errB := lb[i].DiffID()
		if err := errors.Join(errA, errB); err != nil {
			t.Fatal(err)
		}
		if da == db {
			continue
		}
		out = append(out, fmt.Sprintf("layer %d: %s, then %s", i, da, db))
		fa, fb := layerFiles(t, la[i]), layerFiles(t, lb[i])
		names := sortedKeys(fa)
		for _, n := range sortedKeys(fb) {
			if _, ok := fa[n]; !ok {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		shown := 0
		for _, n := range names {
			if fa[n] == fb[n] {
				continue
			}
			if shown++; shown > 30 {
				out = append(out, "  ...")
				break
			}
			out = append(out, fmt.Sprintf("  %s\n    %s\n    %s", n, orNone(fa[n]), orNone(fb[n])))
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(absent)"
	}
	return s
}

// layerFiles maps each entry of a layer to its header fields and the
// SHA-256 of its content.
func layerFiles(t *testing.T, l v1.Layer) map[string]string {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.New()
		if _, err := io.Copy(sum, tr); err != nil {
			t.Fatal(err)
		}
		out[h.Name] = fmt.Sprintf("mode %o, %d:%d, %d bytes, mtime %d, link %q, sha256 %x",
			h.Mode, h.Uid, h.Gid, h.Size, h.ModTime.Unix(), h.Linkname, sum.Sum(nil)[:8])
	}
}

// unreproducible are files that differ between two builds of the same
// inputs, by path prefix or suffix, and why.
var unreproducible = []struct{ prefix, suffix, why string }{
	{"var/log/apt/", "", "APT's log (dates)"},
	{"var/log/dpkg.log", "", "dpkg's log (dates)"},
	{"var/log/alternatives.log", "", "update-alternatives' log (dates)"},
	{"var/cache/ldconfig/aux-cache", "", "ldconfig's cache of inode numbers and change times"},
	{"var/cache/apt/", ".bin", "APT's binary cache (the index's times)"},
	{"var/cache/apt/archives/", ".deb", "a downloaded package"},
	{"var/cache/debconf/", "-old", "debconf's backup"},
	{"", "-debug-0.log", "npm's log (named by its time)"},
	{"root/.npm/", "", "npm's cache"},
}

// unreproducibleFiles lists the files of the image's own layers (all but
// the stand-in base's first) that are known to differ between builds, and
// the .pyc files under /var/runtime that record a time rather than their
// source's hash.
func unreproducibleFiles(t *testing.T, img v1.Image) []string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range layers[1:] {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rc.Close()
				t.Fatal(err)
			}
			name := strings.TrimPrefix(h.Name, "./")
			if strings.Contains(name, ".wh.") || h.Typeflag == tar.TypeDir {
				continue
			}
			for _, u := range unreproducible {
				if strings.HasPrefix(name, u.prefix) && strings.HasSuffix(name, u.suffix) {
					out = append(out, fmt.Sprintf("%s: %s", name, u.why))
				}
			}
			if strings.HasPrefix(name, "var/runtime/") && strings.HasSuffix(name, ".pyc") {
				// PEP 552: flags 0 is a timestamp pyc; bit 0 a hash-based one.
				data, err := io.ReadAll(tr)
				if err != nil || len(data) < 8 || data[4]&1 == 0 {
					out = append(out, fmt.Sprintf("%s: a timestamp .pyc (the build's time, stale once file times are clamped)", name))
				}
				// pip install --target compiles in /tmp/pip-target-<random>.
				if bytes.Contains(data, []byte("/tmp/pip-")) {
					out = append(out, fmt.Sprintf("%s: a .pyc compiled under a temporary directory (its random name)", name))
				}
			}
		}
		rc.Close()
	}
	return out
}
