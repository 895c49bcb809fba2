package layerscan

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// layer is a gzip layer of name=contents files.
func layer(t *testing.T, files ...[2]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f[0], Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(f[1]))}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, f[1])
	}
	tw.Close()
	zw.Close()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// swapped claims one layer's digest and size and holds another's bytes.
type swapped struct {
	v1.Layer
	claims v1.Layer
}

func (s swapped) Digest() (v1.Hash, error) { return s.claims.Digest() }
func (s swapped) Size() (int64, error)     { return s.claims.Size() }

// TestReadGivesTheBytesOfTheLayer: whatever was read before, a scan is
// the scan of the bytes the layer holds: a damaged copy read first is not
// kept, and a damaged copy read after the intact layer does not get the
// intact layer's scan.
func TestReadGivesTheBytesOfTheLayer(t *testing.T) {
	Reset()
	good := layer(t, [2]string{"var/lib/dpkg/status", "good"})
	bad := layer(t, [2]string{"var/lib/dpkg/status", "baad"}) // same size
	data := func(l v1.Layer) string {
		s, err := Read(context.Background(), l)
		if err != nil {
			t.Fatal(err)
		}
		return string(s.Entries[0].Data)
	}
	for i, tc := range []struct {
		l    v1.Layer
		want string
	}{
		{swapped{Layer: bad, claims: good}, "baad"},
		{good, "good"},
		{good, "good"}, // kept
		{swapped{Layer: bad, claims: good}, "baad"},
	} {
		if got := data(tc.l); got != tc.want {
			t.Errorf("read %d: %q, want %q", i+1, got, tc.want)
		}
	}
}

// TestReadKeeps: heads of executables, the contents of the inventory's
// files (apt sources up to 1 MiB), the RIE's sha256, sizes and digests.
func TestReadKeeps(t *testing.T) {
	Reset()
	big := string(bytes.Repeat([]byte("d"), 1<<20+10))
	rie := "\x7fELF" + string(make([]byte, 30))
	rieSum := sha256.Sum256([]byte(rie))
	l := layer(t,
		[2]string{"./etc/apt/sources.list", big},
		[2]string{"var/lib/dpkg/status", "Package: a\n"},
		[2]string{"usr/local/bin/aws-lambda-rie", rie},
		[2]string{"bootstrap", "#!/bin/sh\necho\n"},
		[2]string{"etc/other", "x"},
		[2]string{"etc/empty.list", ""},
		[2]string{"etc/apt/sources.list.d/e.list", ""},
	)
	s, err := Read(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	type kept struct {
		Name       string
		Head, Data []byte
		Sum        string
	}
	var got []kept
	for _, e := range s.Entries {
		got = append(got, kept{e.Name, e.Head, e.Data, e.Sum})
	}
	// the first MiB of sources.list (compared here: cmp is slow on a MiB)
	if d := got[0].Data; !bytes.Equal(d, []byte(big[:1<<20])) {
		t.Errorf("sources.list: %d bytes kept, want the first %d", len(d), 1<<20)
	}
	got[0].Data = nil
	want := []kept{
		{Name: "./etc/apt/sources.list"},
		{Name: "var/lib/dpkg/status", Data: []byte("Package: a\n")},
		{Name: "usr/local/bin/aws-lambda-rie", Head: []byte("\x7fELF" + string(make([]byte, 16))),
			Sum: "sha256:" + hex.EncodeToString(rieSum[:])},
		{Name: "bootstrap", Head: []byte("#!/bin/sh")},
		{Name: "etc/other"},
		{Name: "etc/empty.list"},
		{Name: "etc/apt/sources.list.d/e.list", Data: []byte{}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	d, _ := l.Digest()
	size, _ := l.Size()
	if !s.Intact(d, size) || s.Format != "gzip" || s.Size%512 != 0 {
		t.Errorf("blob %s (%d bytes), format %s, size %d; want %s (%d bytes), gzip, tar blocks", s.Blob, s.BlobSize, s.Format, s.Size, d, size)
	}
}

// TestConcurrentReadsReadOnce: jobs reading one layer at the same time
// (two images on one base) decompress it once; a damaged copy among them
// still gets its own bytes' scan.
func TestConcurrentReadsReadOnce(t *testing.T) {
	Reset()
	good := layer(t, [2]string{"var/lib/dpkg/status", "good"})
	bad := layer(t, [2]string{"var/lib/dpkg/status", "baad"})
	before := Decompressed()
	var wg sync.WaitGroup
	got := make([]string, 9)
	for i := range got {
		l := good
		if i == 4 {
			l = swapped{Layer: bad, claims: good}
		}
		wg.Go(func() {
			s, err := Read(context.Background(), l)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = string(s.Entries[0].Data)
		})
	}
	wg.Wait()
	for i, g := range got {
		want := "good"
		if i == 4 {
			want = "baad"
		}
		if g != want {
			t.Errorf("reader %d: %q, want %q", i, g, want)
		}
	}
	// the intact layer once and the damaged copy once, in either order
	if n := Decompressed() - before; n != 2 {
		t.Errorf("%d layers read in full, want 2", n)
	}
}

// TestWarm: a warmed layer is not decompressed again when a copy with its
// digest is read (the copy's bytes are still hashed: a damaged copy gets
// its own scan), and a layer whose scan is kept is not read to warm it.
func TestWarm(t *testing.T) {
	Reset()
	good := layer(t, [2]string{"var/lib/dpkg/status", "good"})
	bad := layer(t, [2]string{"var/lib/dpkg/status", "baad"})
	before := Decompressed()
	opened := &counted{Layer: good}
	for range 2 {
		if err := Warm(context.Background(), opened); err != nil {
			t.Fatal(err)
		}
	}
	if n := Decompressed() - before; n != 1 || opened.n.Load() != 1 {
		t.Errorf("warming twice read the layer %d times and opened it %d times, want once", n, opened.n.Load())
	}
	s, err := Read(context.Background(), good)
	if err != nil {
		t.Fatal(err)
	}
	if n := Decompressed() - before; n != 1 || string(s.Entries[0].Data) != "good" {
		t.Errorf("after warming, a read decompressed %d layers in all (want 1) and gave %q", n, s.Entries[0].Data)
	}
	s, err = Read(context.Background(), swapped{Layer: bad, claims: good})
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Entries[0].Data) != "baad" {
		t.Errorf("a damaged copy of a warmed layer got %q, want its own bytes' scan", s.Entries[0].Data)
	}
}

// counted counts how often its bytes are opened.
type counted struct {
	v1.Layer
	n atomic.Int32
}

func (c *counted) Compressed() (io.ReadCloser, error) {
	c.n.Add(1)
	return c.Layer.Compressed()
}
