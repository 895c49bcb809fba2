package verify_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/internal/hashed"
	"github.com/lambdaimg/lambdaimg/internal/layerscan"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/verify"
	"github.com/opencontainers/go-digest"
)

// layoutOf writes spec's image into a fresh OCI layout and returns the
// layout, the image's descriptor and its manifest.
func layoutOf(t *testing.T, spec registrytest.ImageSpec) (string, v1.Descriptor, *v1.Manifest) {
	t.Helper()
	img, err := registrytest.Image(spec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	plat := v1.Platform{OS: "linux", Architecture: "amd64"}
	if err := p.AppendImage(img, layout.WithPlatform(plat)); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	size, _ := img.Size()
	mt, _ := img.MediaType()
	m, _ := img.Manifest()
	return dir, v1.Descriptor{Digest: d, Size: size, MediaType: mt, Platform: &plat}, m
}

func flip(t *testing.T, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func blob(dir string, h v1.Hash) string { return filepath.Join(dir, "blobs", h.Algorithm, h.Hex) }

// TestGateMemo: an image that passed is not read again when asked about
// again, once its blobs hash to their digests; anything that could change
// the outcome (a damaged blob, other options, a damaged record) means a
// full check, and a failure is never recorded.
func TestGateMemo(t *testing.T) {
	good := registrytest.ImageSpec{Runtime: "python3.12", Arch: "x86_64", Docker: true}
	target := &catalog.Target{Runtime: &catalog.Runtime{ID: "python3.12"}, Variant: "debian"}
	cases := []struct {
		name string
		spec registrytest.ImageSpec
		// between the two checks
		change func(t *testing.T, layoutDir, memoDir string, m *v1.Manifest, d v1.Hash)
		// before the first check
		before   func(t *testing.T, layoutDir string, m *v1.Manifest)
		opts     []verify.Option // of the second check
		wantMemo bool            // the second check replayed the first
		wantFail bool            // the second check failed
	}{
		{name: "unchanged", spec: good, wantMemo: true},
		{name: "a layer corrupted, same size", spec: good, wantFail: true,
			change: func(t *testing.T, dir, _ string, m *v1.Manifest, _ v1.Hash) { flip(t, blob(dir, m.Layers[0].Digest)) }},
		{name: "a layer missing", spec: good, wantFail: true,
			change: func(t *testing.T, dir, _ string, m *v1.Manifest, _ v1.Hash) { os.Remove(blob(dir, m.Layers[0].Digest)) }},
		{name: "the config corrupted", spec: good, wantFail: true,
			change: func(t *testing.T, dir, _ string, m *v1.Manifest, _ v1.Hash) { flip(t, blob(dir, m.Config.Digest)) }},
		{name: "the record corrupted", spec: good,
			change: func(t *testing.T, _, memo string, _ *v1.Manifest, d v1.Hash) {
				os.WriteFile(filepath.Join(memo, d.Algorithm+"-"+d.Hex+".json"), []byte(`{"key":`), 0o644)
			}},
		{name: "other options", spec: good, opts: []verify.Option{verify.WithMaxSize(1 << 20)}},
		{name: "a pass on a blob that is not the layer's is not recorded", spec: good, before: recompress,
			change: func(t *testing.T, dir, _ string, m *v1.Manifest, _ v1.Hash) { // the right blob back
				if err := os.Rename(blob(dir, m.Layers[0].Digest)+".orig", blob(dir, m.Layers[0].Digest)); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "a failure is not recorded", spec: registrytest.ImageSpec{Runtime: "python3.12", Arch: "x86_64", Docker: true, Entrypoint: []string{"lambda-entrypoint.sh"}}, wantFail: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, desc, m := layoutOf(t, tc.spec)
			memoDir := filepath.Join(t.TempDir(), "verified")
			check := func(opts ...verify.Option) (verify.Report, error) {
				v, err := verify.New(opts...)
				if err != nil {
					t.Fatal(err)
				}
				rep, err := verify.NewGate(v, verify.WithMemo(verify.NewMemo(memoDir))).Check(context.Background(), dir, desc, target)
				r, _ := rep.(verify.Report)
				return r, err
			}
			if tc.before != nil {
				tc.before(t, dir, m)
			}
			first, err := check()
			if (err != nil) != (tc.wantFail && tc.change == nil) {
				t.Fatalf("first check: %v", err)
			}
			if first.Memo {
				t.Fatal("the first check replayed a record")
			}
			if tc.change != nil {
				tc.change(t, dir, memoDir, m, desc.Digest)
			}
			second, err := check(tc.opts...)
			if (err != nil) != tc.wantFail {
				t.Errorf("second check: error %v, want failure %v", err, tc.wantFail)
			}
			if second.Memo != tc.wantMemo {
				t.Errorf("second check replayed: %v, want %v", second.Memo, tc.wantMemo)
			}
			if tc.wantMemo {
				first.Memo = true
				if diff := cmp.Diff(first, second, cmpopts.IgnoreUnexported(verify.Report{})); diff != "" {
					t.Errorf("replayed report (-first +second):\n%s", diff)
				}
			}
		})
	}
}

// recompress replaces the first layer's blob with another gzip of the
// same tar (keeping the blob as .orig): the checks pass (the diff_id is
// right), but these are not the bytes the digest names.
func recompress(t *testing.T, dir string, m *v1.Manifest) {
	t.Helper()
	p := blob(dir, m.Layers[0].Digest)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tarBytes, err := io.ReadAll(zr)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Link(p, p+".orig"); err != nil {
		t.Fatal(err)
	}
	os.Remove(p)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	zw.Write(tarBytes)
	zw.Close()
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkGateUnchanged checks an image that passed before, as a build
// does for each unchanged stored image: an image with a 24 MB (tar) layer
// under a Lambda image's layers; "full" without a Memo (every layer
// decompressed and scanned), "memo" with one (every blob hashed).
func BenchmarkGateUnchanged(b *testing.B) {
	spec, err := registrytest.Image(registrytest.ImageSpec{Runtime: "python3.12", Arch: "x86_64", Docker: true})
	if err != nil {
		b.Fatal(err)
	}
	big, err := bigLayer()
	if err != nil {
		b.Fatal(err)
	}
	ls, _ := spec.Layers()
	img, err := mutate.AppendLayers(empty.Image, append([]v1.Layer{big}, ls...)...)
	if err != nil {
		b.Fatal(err)
	}
	cf, _ := spec.ConfigFile()
	got, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.RootFS, cf.History = got.RootFS, nil
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		b.Fatal(err)
	}
	img = mutate.MediaType(img, types.DockerManifestSchema2)
	img = mutate.ConfigMediaType(img, types.DockerConfigJSON)
	dir := b.TempDir()
	p, _ := layout.Write(dir, empty.Index)
	plat := v1.Platform{OS: "linux", Architecture: "amd64"}
	if err := p.AppendImage(img, layout.WithPlatform(plat)); err != nil {
		b.Fatal(err)
	}
	d, _ := img.Digest()
	size, _ := img.Size()
	desc := v1.Descriptor{Digest: d, Size: size, MediaType: types.DockerManifestSchema2, Platform: &plat}
	target := &catalog.Target{Runtime: &catalog.Runtime{ID: "python3.12"}, Variant: "debian"}
	for _, bc := range []struct {
		name string
		memo bool
	}{{"full", false}, {"memo", true}} {
		b.Run(bc.name, func(b *testing.B) {
			var opts []verify.GateOption
			if bc.memo {
				opts = append(opts, verify.WithMemo(verify.NewMemo(b.TempDir())))
			}
			check := func() verify.Report {
				v, _ := verify.New() // a Verifier per build: its layer cache is per run
				rep, err := verify.NewGate(v, opts...).Check(context.Background(), dir, desc, target)
				if err != nil {
					b.Fatal(err)
				}
				return rep.(verify.Report)
			}
			check() // the build that stored it
			b.ResetTimer()
			for range b.N {
				if rep := check(); rep.Memo != bc.memo {
					b.Fatalf("replayed %v, want %v", rep.Memo, bc.memo)
				}
			}
		})
	}
}

// bigLayer is a gzip layer of 3000 files of 8 KiB, half random, half
// text: it compresses about as a root file system does.
func bigLayer() (v1.Layer, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for i := range 3000 {
		data := make([]byte, 8<<10)
		for j := range len(data) / 2 {
			data[j] = byte(rng.IntN(256))
		}
		for j := len(data) / 2; j < len(data); j++ {
			data[j] = "abcdefgh \n"[rng.IntN(10)]
		}
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("usr/lib/f%04d", i), Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))}); err != nil {
			return nil, err
		}
		tw.Write(data)
	}
	tw.Close()
	zw.Close()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
}

// TestKeptScanOfADamagedLayer: with layer scans kept across processes
// (layerscan.KeepIn), a stored image whose layer is then damaged at the
// same size is read in full and fails, as without them.
func TestKeptScanOfADamagedLayer(t *testing.T) {
	t.Cleanup(func() { layerscan.KeepIn("") })
	layerscan.KeepIn(t.TempDir())
	dir, desc, m := layoutOf(t, registrytest.ImageSpec{Runtime: "python3.12", Arch: "x86_64", Docker: true})
	target := &catalog.Target{Runtime: &catalog.Runtime{ID: "python3.12"}, Variant: "debian"}
	v, err := verify.New()
	if err != nil {
		t.Fatal(err)
	}
	check := func() error {
		layerscan.Reset() // another process
		_, err := verify.NewGate(v).Check(context.Background(), dir, desc, target)
		return err
	}
	if err := check(); err != nil {
		t.Fatal(err)
	}
	before := layerscan.Decompressed()
	if err := check(); err != nil {
		t.Fatalf("again: %v", err)
	}
	if n := layerscan.Decompressed() - before; n != 0 {
		t.Errorf("the intact image again: %d layers decompressed, want 0 (kept)", n)
	}
	flip(t, blob(dir, m.Layers[0].Digest))
	before = layerscan.Decompressed()
	if err := check(); err == nil {
		t.Error("the damaged image passed")
	}
	if n := layerscan.Decompressed() - before; n == 0 {
		t.Error("the damaged layer was not read")
	}
}

// TestGateKnownBlobs: a layout's layer file that this process hashed as
// it wrote it (package hashed: an export through the blob pool) is not
// hashed again by the gate, nor by its memo; one it did not is. Shown with
// a layer changed behind its file's metadata (size and time restored)
// after a first check: only a hash sees that.
func TestGateKnownBlobs(t *testing.T) {
	target := &catalog.Target{Runtime: &catalog.Runtime{ID: "python3.12"}, Variant: "debian"}
	v, err := verify.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hashed.Reset)
	for _, memo := range []bool{false, true} {
		for _, known := range []bool{false, true} {
			t.Run(fmt.Sprintf("memo=%v,known=%v", memo, known), func(t *testing.T) {
				layerscan.Reset()
				hashed.Reset()
				dir, desc, m := layoutOf(t, registrytest.ImageSpec{Runtime: "python3.12", Arch: "x86_64", Docker: true})
				if known {
					for _, l := range m.Layers {
						hashed.Record(blob(dir, l.Digest), digest.Digest(l.Digest.String()))
					}
				}
				var opts []verify.GateOption
				if memo {
					opts = append(opts, verify.WithMemo(verify.NewMemo(t.TempDir())))
				}
				g := verify.NewGate(v, opts...)
				if _, err := g.Check(context.Background(), dir, desc, target); err != nil {
					t.Fatal(err)
				}
				p := blob(dir, m.Layers[0].Digest)
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				flip(t, p)
				if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
					t.Fatal(err)
				}
				rep, err := g.Check(context.Background(), dir, desc, target)
				if known && err != nil {
					t.Errorf("a layer hashed as it was written was hashed again: %v", err)
				}
				if !known && err == nil {
					t.Error("a layer changed since the first check, not known as hashed, passed")
				}
				if r, ok := rep.(verify.Report); known && memo && (!ok || !r.Memo) {
					t.Errorf("the memo was not replayed for known blobs: %+v", rep)
				}
			})
		}
	}
}
