package inventory

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/lambdaimg/lambdaimg/internal/layerscan"
	"github.com/lambdaimg/lambdaimg/pkg/verify"
)

// ent is one tar entry of a test layer.
type ent struct {
	name string
	typ  byte // tar.TypeReg when 0
	data string
	link string
}

// rawLayer is a gzip-compressed layer of exactly the entries given (names
// as written, "./" and whiteouts included).
func rawLayer(t testing.TB, ents ...ent) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.link}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func layersImage(t testing.TB, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// readExtract is Read as it was: the image flattened by mutate.Extract,
// the inventory taken from the flat tar. The reference of
// TestReadMatchesExtract.
func readExtract(img v1.Image) (*Inventory, error) {
	inv := &Inventory{Packages: []Package{}}
	c := &collector{inv: inv}
	defer c.rpm.remove()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(hdr.Name)
		limit, sum := layerscan.Kept(name)
		f := &wanted{tarName: name}
		switch {
		case sum:
			h := sha256.New()
			if _, err := io.Copy(h, tr); err != nil {
				return nil, err
			}
			f.sum = "sha256:" + hex.EncodeToString(h.Sum(nil))
		case limit < 0:
			if f.data, err = io.ReadAll(tr); err != nil {
				return nil, err
			}
		case limit > 0:
			if f.data, err = io.ReadAll(io.LimitReader(tr, limit)); err != nil {
				return nil, err
			}
		default:
			continue
		}
		if err := c.visit(f); err != nil {
			return nil, err
		}
	}
	return inv, c.finish()
}

// TestReadMatchesExtract: Read's own merge of the layers finds the files
// mutate.Extract's flattening does, whiteouts, opaque directories,
// replaced directories and dropped links included.
func TestReadMatchesExtract(t *testing.T) {
	dpkg := string(status("base-files=12.4", "libc6=2.36"))
	lower := []ent{
		{name: "etc/", typ: tar.TypeDir},
		{name: "etc/apt/", typ: tar.TypeDir},
		{name: "etc/apt/sources.list.d/", typ: tar.TypeDir},
		{name: "etc/apt/sources.list.d/debian.sources", data: "Types: deb\n"},
		{name: "etc/apt/sources.list.d/old.list", data: "deb http://old a main\n"},
		{name: "etc/os-release", data: "ID=debian\n"},
		{name: "usr/lib/os-release", data: "ID=other\n"},
		{name: "var/lib/dpkg/status", data: dpkg},
		{name: "usr/local/bin/aws-lambda-rie", data: "rie-1"},
	}
	tests := []struct {
		name  string
		upper []ent
	}{
		{"no upper layer", nil},
		{"a newer status file", []ent{{name: "./var/lib/dpkg/status", data: string(status("curl=7.88"))}}},
		{"a whited-out source", []ent{{name: "etc/apt/sources.list.d/.wh.old.list"}}},
		{"an opaque sources.list.d", []ent{
			{name: "etc/apt/sources.list.d/.wh..wh..opq"},
			{name: "etc/apt/sources.list.d/new.list", data: "deb http://new b main\n"},
		}},
		{"a whited-out /etc/apt", []ent{{name: "etc/.wh.apt"}}},
		{"sources.list.d replaced by a file", []ent{{name: "etc/apt/sources.list.d", data: "not a dir"}}},
		{"the status file whited out", []ent{{name: "var/lib/dpkg/.wh.status"}}},
		{"the RIE replaced by a symlink", []ent{{name: "usr/local/bin/aws-lambda-rie", typ: tar.TypeSymlink, link: "/bin/true"}}},
		{"a link out of the root is dropped", []ent{{name: "var/lib/dpkg/status", typ: tar.TypeSymlink, link: "../../../../x"}}},
		{"etc/os-release whited out", []ent{{name: "etc/.wh.os-release"}}},
		{"an apk database above", []ent{
			{name: "lib/apk/db/installed", data: "P:musl\nV:1.2.5-r0\nA:x86_64\n\n"},
			{name: "etc/apk/repositories", data: "https://dl-cdn.alpinelinux.org/alpine/v3.20/main\n"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			layers := []v1.Layer{rawLayer(t, lower...)}
			if tc.upper != nil {
				layers = append(layers, rawLayer(t, tc.upper...))
			}
			img := layersImage(t, layers...)
			want, err := readExtract(img)
			if err != nil {
				t.Fatal(err)
			}
			got := &Inventory{Packages: []Package{}}
			if err := got.scan(img); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("inventory (-mutate.Extract +Read):\n%s", diff)
			}
		})
	}
}

// TestKeptFiles: layerscan keeps the contents of every file Read reads.
func TestKeptFiles(t *testing.T) {
	names := []string{DpkgStatus, ApkInstalled, ApkRepositoriesPath, RIEPath, "etc/os-release", "usr/lib/os-release", "etc/apt/sources.list"}
	for f := range rpmFiles {
		names = append(names, f)
	}
	for _, n := range names {
		if limit, sum := layerscan.Kept(n); limit == 0 && !sum {
			t.Errorf("layerscan does not keep /%s", n)
		}
	}
}

// TestReadUnsafePath: a path out of the root fails the read, as with
// mutate.Extract.
func TestReadUnsafePath(t *testing.T) {
	img := layersImage(t, rawLayer(t, ent{name: "../etc/passwd", data: "x"}))
	if _, err := Read("test", img, nil); err == nil {
		t.Error("Read passed a layer with ../etc/passwd")
	}
}

// damaged is a layer that claims the digest of one layer and holds the
// bytes of another.
type damaged struct {
	v1.Layer
	claims v1.Layer
}

func (d damaged) Digest() (v1.Hash, error) { return d.claims.Digest() }

// TestReadCachesIntactLayersOnly: a damaged blob read under an intact
// layer's name neither stands in for it later nor is stood in for.
func TestReadCachesIntactLayersOnly(t *testing.T) {
	good := rawLayer(t, ent{name: "var/lib/dpkg/status", data: string(status("good=1"))})
	bad := rawLayer(t, ent{name: "var/lib/dpkg/status", data: string(status("bad=1"))})
	names := func(l v1.Layer) string {
		inv, err := Read("test", layersImage(t, l), nil)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(inv.Packages)
	}
	if got := names(damaged{Layer: bad, claims: good}); got != "[{bad 1 amd64  deb}]" {
		t.Fatalf("the damaged layer reads as %s", got)
	}
	if got := names(good); got != "[{good 1 amd64  deb}]" {
		t.Errorf("after a damaged copy, the intact layer reads as %s", got)
	}
	// The intact layer's scan is kept now, but a damaged copy still reads
	// as what it holds.
	if got := names(damaged{Layer: bad, claims: good}); got != "[{bad 1 amd64  deb}]" {
		t.Errorf("after the intact layer, the damaged layer reads as %s", got)
	}
}

// sharedBase is a base image (a layer of about 24 MB of tar) and two
// images built on it.
func sharedBase(b *testing.B) []v1.Image {
	rng := rand.New(rand.NewPCG(1, 2))
	var ents []ent
	for i := range 3000 {
		// half random bytes, half text: compresses about as a root
		// file system does
		buf := make([]byte, 8<<10)
		for j := range len(buf) / 2 {
			buf[j] = byte(rng.IntN(256))
		}
		for j := len(buf) / 2; j < len(buf); j++ {
			buf[j] = "abcdefgh \n"[rng.IntN(10)]
		}
		ents = append(ents, ent{name: fmt.Sprintf("usr/lib/f%04d", i), data: string(buf)})
	}
	ents = append(ents, ent{name: "var/lib/dpkg/status", data: string(status("base-files=12.4"))})
	base := rawLayer(b, ents...)
	tops := []v1.Layer{
		rawLayer(b, ent{name: "var/lib/dpkg/status", data: string(status("base-files=12.4", "curl=1"))}),
		rawLayer(b, ent{name: "var/lib/dpkg/status", data: string(status("base-files=12.4", "wget=1"))}),
	}
	size, _ := base.Size()
	b.SetBytes(size * 3)
	return []v1.Image{layersImage(b, base), layersImage(b, base, tops[0]), layersImage(b, base, tops[1])}
}

// BenchmarkReadSharedBase reads the inventories a build of two images on
// one base reads: the base image's, then each built image's.
func BenchmarkReadSharedBase(b *testing.B) {
	imgs := sharedBase(b)
	b.ResetTimer()
	for range b.N {
		layerscan.Reset()
		for _, img := range imgs {
			if _, err := Read("bench", img, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkBuildReads is what a cold build of two images on one base
// reads of their layers: the base image's inventory, then each built
// image through the verify gate and for its inventory.
func BenchmarkBuildReads(b *testing.B) {
	imgs := sharedBase(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		layerscan.Reset()
		v, err := verify.New()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Read("base", imgs[0], nil); err != nil {
			b.Fatal(err)
		}
		for _, img := range imgs[1:] {
			v.Image(ctx, "built", img, nil)
			if _, err := Read("built", img, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}
