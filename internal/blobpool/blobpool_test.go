package blobpool

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/errdefs"
	"github.com/lambdaimg/lambdaimg/internal/hashed"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func blob(s string) (ocispec.Descriptor, []byte) {
	b := []byte(s)
	return ocispec.Descriptor{Digest: digest.FromBytes(b), Size: int64(len(b))}, b
}

// send writes b through st as BuildKit's exporter does (content.WriteBlob
// skips a blob the store says it has); it reports whether b was sent.
func send(t *testing.T, st content.Store, d ocispec.Descriptor, b []byte) bool {
	t.Helper()
	w, err := content.OpenWriter(context.Background(), st, content.WithRef("r-"+d.Digest.Encoded()), content.WithDescriptor(d))
	if errors.Is(err, errdefs.ErrAlreadyExists) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := content.Copy(context.Background(), w, bytes.NewReader(b), d.Size, d.Digest); err != nil {
		t.Fatal(err)
	}
	return true
}

func read(t *testing.T, layout string, d ocispec.Descriptor) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", d.Digest.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWriter: bytes that hash to the blob's digest enter the pool; others,
// or too few, do not, and leave nothing behind.
func TestWriter(t *testing.T) {
	p := New(t.TempDir())
	d, b := blob("layer")
	for _, tc := range []struct {
		name  string
		write string
		ok    bool
	}{
		{"other bytes", "LAYER", false},
		{"too few", "lay", false},
		{"intact", "layer", true},
	} {
		w, err := p.Writer(d.Digest, d.Size)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(tc.write))
		if err := w.Commit(); (err == nil) != tc.ok {
			t.Errorf("%s: commit error %v, want success %v", tc.name, err, tc.ok)
		}
		if p.Has(d.Digest, d.Size) != tc.ok {
			t.Errorf("%s: in the pool: %v, want %v", tc.name, !tc.ok, tc.ok)
		}
	}
	if !p.Has(d.Digest, 0) || p.Has(d.Digest, d.Size+1) {
		t.Error("Has: any size (0) must match, another size must not")
	}
	es, _ := os.ReadDir(filepath.Join(p.dir, "sha256"))
	if len(es) != 1 {
		t.Errorf("the pool's directory holds %d files, want the blob alone", len(es))
	}
	rc, err := p.Open(d.Digest, d.Size)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var got bytes.Buffer
	got.ReadFrom(rc)
	if !bytes.Equal(got.Bytes(), b) {
		t.Errorf("Open read %q", got.Bytes())
	}
}

// TestExport: an export skips the blobs the pool holds (its own, another
// directory's, those an earlier export sent) and its layout holds every
// blob either way.
func TestExport(t *testing.T) {
	store := t.TempDir() // a store's blobs directory, read only
	base, baseBytes := blob("base layer")
	os.MkdirAll(filepath.Join(store, "sha256"), 0o755)
	os.WriteFile(filepath.Join(store, "sha256", base.Digest.Encoded()), baseBytes, 0o444)
	p := New(t.TempDir(), store)
	warmed, warmedBytes := blob("warmed layer")
	w, _ := p.Writer(warmed.Digest, warmed.Size)
	w.Write(warmedBytes)
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	top, topBytes := blob("top layer")

	first := t.TempDir()
	st, err := p.Export(first)
	if err != nil {
		t.Fatal(err)
	}
	if send(t, st, base, baseBytes) || send(t, st, warmed, warmedBytes) {
		t.Error("a blob the pool holds was sent")
	}
	if !send(t, st, top, topBytes) {
		t.Error("a blob the pool lacks was not sent")
	}
	if got, want := st.Stats(), (Stats{Received: top.Size, Local: base.Size + warmed.Size, LocalBlobs: 2}); got != want {
		t.Errorf("the first export's stats: %+v, want %+v", got, want)
	}
	for _, d := range []ocispec.Descriptor{base, warmed, top} {
		if read(t, first, d) == "" {
			t.Errorf("the layout lacks %s", d.Digest)
		}
		// each was hashed once: checked (the store's), written (the
		// pool's) or committed (sent); readers of the layout need not
		if !hashed.Known(filepath.Join(first, "blobs", "sha256", d.Digest.Encoded()), d.Digest) {
			t.Errorf("the layout's %s is not recorded as hashed", d.Digest)
		}
	}
	second := t.TempDir()
	st, _ = p.Export(second)
	if send(t, st, top, topBytes) {
		t.Error("a blob an earlier export sent was sent again")
	}
	if read(t, second, top) != "top layer" {
		t.Error("the second layout lacks the blob taken from the pool")
	}
	if got, want := st.Stats(), (Stats{Received: 0, Local: top.Size, LocalBlobs: 1}); got != want {
		t.Errorf("the second export's stats: %+v, want %+v", got, want)
	}
	// a store's blob damaged on disk (its size kept) is not taken: the
	// builder sends it, and the layout gets the intact bytes
	good, goodBytes := blob("good")
	os.WriteFile(filepath.Join(store, "sha256", good.Digest.Encoded()), []byte("baad"), 0o444)
	fourth := t.TempDir()
	st, _ = p.Export(fourth)
	if !send(t, st, good, goodBytes) {
		t.Error("a damaged blob of the store was taken instead of sent")
	}
	if got := read(t, fourth, good); got != "good" {
		t.Errorf("the layout holds %q, want the intact bytes", got)
	}
	if rc, err := p.Open(good.Digest, good.Size); err == nil {
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "good" {
			t.Errorf("the pool offers %q, want the intact bytes", b)
		}
	}
	// a blob of another size under the same name is not taken
	other := ocispec.Descriptor{Digest: top.Digest, Size: top.Size + 1}
	third := t.TempDir()
	st, _ = p.Export(third)
	w2, err := st.Writer(context.Background(), content.WithRef("x"), content.WithDescriptor(other))
	if err != nil {
		t.Fatalf("a blob of another size: %v; want a writer", err)
	}
	w2.Close()
}
