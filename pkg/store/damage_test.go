package store

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/opencontainers/go-digest"

	"github.com/lambdaimg/lambdaimg/internal/fileutil"
	"github.com/lambdaimg/lambdaimg/internal/hashed"
)

func blobPath(dir string, h v1.Hash) string { return filepath.Join(dir, "blobs", h.Algorithm, h.Hex) }

// flipByte corrupts a blob without changing its size.
func flipByte(t *testing.T, p string) {
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

// TestUnchangedChecksBlobs: "unchanged" needs the manifest, the config and
// every layer blob, each the size recorded in the manifest; a damaged
// entry is reported changed, so it is rebuilt.
func TestUnchangedChecksBlobs(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string, m *v1.Manifest, digest v1.Hash)
		want   bool
	}{
		{"intact", func(*testing.T, string, *v1.Manifest, v1.Hash) {}, true},
		{"layer blob missing", func(t *testing.T, dir string, m *v1.Manifest, _ v1.Hash) {
			os.Remove(blobPath(dir, m.Layers[1].Digest))
		}, false},
		{"layer blob truncated", func(t *testing.T, dir string, m *v1.Manifest, _ v1.Hash) {
			os.Truncate(blobPath(dir, m.Layers[0].Digest), 10)
		}, false},
		{"config blob corrupt, same size", func(t *testing.T, dir string, m *v1.Manifest, _ v1.Hash) {
			flipByte(t, blobPath(dir, m.Config.Digest))
		}, false},
		{"manifest blob corrupt", func(t *testing.T, dir string, _ *v1.Manifest, d v1.Hash) {
			flipByte(t, blobPath(dir, d))
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			img, _ := random.Image(512, 2)
			ref := Ref{Runtime: "python3.12", Variant: "debian", Arch: "x86_64"}
			if _, err := s.Put(ref, img, map[string]string{AnnBuildKey: "k1"}); err != nil {
				t.Fatal(err)
			}
			m, _ := img.Manifest()
			d, _ := img.Digest()
			tc.damage(t, dir, m, d)
			if _, _, got := s.Unchanged(ref, "k1"); got != tc.want {
				t.Errorf("Unchanged = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCheckBlobsFull: a layer corrupted without a size change passes the
// cheap check and fails the full one.
func TestCheckBlobsFull(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	img, _ := random.Image(512, 1)
	if _, err := s.Put(Ref{Runtime: "a", Variant: "b", Arch: "x86_64"}, img, nil); err != nil {
		t.Fatal(err)
	}
	m, _ := img.Manifest()
	flipByte(t, blobPath(dir, m.Layers[0].Digest))
	if err := s.CheckBlobs(img, false); err != nil {
		t.Errorf("cheap check = %v, want nil (sizes match)", err)
	}
	if err := s.CheckBlobs(img, true); err == nil {
		t.Error("full check passed a corrupt layer")
	}
}

// TestRecoveredIndexIsReported: Open still restores a truncated index.json
// from its copy, but says so and keeps the damaged file.
func TestRecoveredIndexIsReported(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	img, _ := random.Image(64, 1)
	s.Put(Ref{Runtime: "a", Variant: "b", Arch: "x86_64"}, img, nil)
	s.Put(Ref{Runtime: "c", Variant: "d", Arch: "x86_64"}, img, nil)
	if s.Recovered() != nil {
		t.Fatalf("Recovered on a good store: %v", s.Recovered())
	}
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"schemaVersion": 2, "manif`), 0o644)
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec := s2.Recovered()
	if rec == nil {
		t.Fatal("a restored index was not reported")
	}
	if diff := cmp.Diff([]string{"a/b/x86_64"}, rec.Restored); diff != "" {
		t.Errorf("Restored (-want +got):\n%s", diff)
	}
	if !strings.Contains(rec.Error(), "lost") {
		t.Errorf("message does not say something was lost: %v", rec)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json.damaged")); err != nil {
		t.Errorf("the damaged index was not kept: %v", err)
	}
}

// TestLinkBlobsReplacesDamage: a store blob of the wrong size is replaced
// by the build's; with verify (--pull) one of the right size but wrong
// content is too; a damaged blob in the build's layout is refused and
// leaves nothing under its name.
func TestLinkBlobsReplacesDamage(t *testing.T) {
	img, _ := random.Image(512, 1)
	m, _ := img.Manifest()
	layer := m.Layers[0].Digest
	newLayout := func(t *testing.T) string {
		src := t.TempDir()
		p, err := layout.Write(src, empty.Index)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AppendImage(img); err != nil {
			t.Fatal(err)
		}
		return src
	}
	tests := []struct {
		name    string
		damage  func(t *testing.T, p string)
		verify  bool
		wantErr bool
	}{
		{"truncated, no verify", func(t *testing.T, p string) { os.Truncate(p, 3) }, false, false},
		{"corrupt same size, verify", flipByte, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, _ := Open(dir)
			if _, err := s.Put(Ref{Runtime: "a", Variant: "b", Arch: "x86_64"}, img, nil); err != nil {
				t.Fatal(err)
			}
			tc.damage(t, blobPath(dir, layer))
			if err := s.LinkBlobs(newLayout(t), tc.verify); err != nil {
				t.Fatal(err)
			}
			if err := fileutil.Verify(blobPath(dir, layer), digest.Digest(layer.String())); err != nil {
				t.Errorf("the damaged blob is still there: %v", err)
			}
		})
	}
	t.Run("damaged source", func(t *testing.T) {
		dir := t.TempDir()
		s, _ := Open(dir)
		src := newLayout(t)
		flipByte(t, blobPath(src, layer))
		if err := s.LinkBlobs(src, false); err == nil {
			t.Error("LinkBlobs took a blob whose content does not match its name")
		}
		if _, err := os.Stat(blobPath(dir, layer)); err == nil {
			t.Error("the damaged blob was stored")
		}
		left, _ := filepath.Glob(filepath.Join(dir, "blobs", "sha256", "*.tmp*"))
		if len(left) > 0 {
			t.Errorf("temporary files left: %v", left)
		}
	})
	// A layout blob this process hashed as it wrote it (package hashed:
	// an export through the blob pool) is not hashed again. Shown with
	// bytes changed behind the file's metadata (size and time restored),
	// which only a hash would see; written to as usual, it is hashed and
	// refused.
	t.Run("hashed as written", func(t *testing.T) {
		t.Cleanup(hashed.Reset)
		for _, restore := range []bool{true, false} {
			dir := t.TempDir()
			s, _ := Open(dir)
			src := newLayout(t)
			p := blobPath(src, layer)
			hashed.Record(p, digest.Digest(layer.String()))
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			flipByte(t, p)
			when := fi.ModTime()
			if !restore {
				when = when.Add(time.Second)
			}
			if err := os.Chtimes(p, when, when); err != nil {
				t.Fatal(err)
			}
			err = s.LinkBlobs(src, false)
			if restore && err != nil {
				t.Errorf("a blob hashed as it was written was hashed again: %v", err)
			}
			if !restore && err == nil {
				t.Error("a blob written to after it was hashed was taken")
			}
		}
	})
}

// TestLinkBlobsConcurrent: builds that end at the same time link the same
// base layers into the store at once (one process, several jobs); each
// must get its own temporary name, or one renames the other's away and
// fails with "no such file or directory".
func TestLinkBlobsConcurrent(t *testing.T) {
	img, _ := random.Image(1<<20, 3)
	s, _ := Open(t.TempDir())
	srcs := make([]string, 8)
	for i := range srcs {
		srcs[i] = t.TempDir()
		p, err := layout.Write(srcs[i], empty.Index)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AppendImage(img); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(srcs))
	for i, src := range srcs {
		wg.Go(func() { errs[i] = s.LinkBlobs(src, true) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("LinkBlobs %d: %v", i, err)
		}
	}
}
