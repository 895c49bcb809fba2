package store

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
)

func TestPutGetRemove(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	img, _ := random.Image(256, 2)
	ref := Ref{Runtime: "python3.12", Variant: "alpine", Arch: "arm64"}
	desc, err := s.Put(ref, img, map[string]string{AnnTags: "3.12,3", AnnDefault: "false", AnnImage: "python"})
	if err != nil {
		t.Fatal(err)
	}
	e, ok, err := s.Get(ref)
	if err != nil || !ok {
		t.Fatalf("Get: %v %v", ok, err)
	}
	if e.Descriptor.Digest != desc.Digest || e.Image != "python" || len(e.Tags) != 2 || e.Default ||
		e.Descriptor.Platform == nil || e.Descriptor.Platform.Architecture != "arm64" {
		t.Errorf("entry %+v", e)
	}
	// Replacing keeps one entry per ref.
	img2, _ := random.Image(256, 1)
	if _, err := s.Put(ref, img2, nil); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.List(); len(all) != 1 {
		t.Errorf("%d entries after replacing, want 1", len(all))
	}
	if err := s.Remove(ref); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get(ref); ok {
		t.Error("removed entry still there")
	}
}

// TestConcurrentPuts stores from several goroutines and two Store values
// (as two processes would) and loses nothing.
func TestConcurrentPuts(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			img, _ := random.Image(64, 1)
			if _, err := s.Put(Ref{Runtime: fmt.Sprintf("rt%d", i), Variant: "debian", Arch: "x86_64"}, img, nil); err != nil {
				t.Error(err)
			}
			if _, err := s.List(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if all, err := a.List(); err != nil || len(all) != 16 {
		t.Errorf("%d entries (%v), want 16", len(all), err)
	}
}

func TestDamagedIndexIsRestored(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	img, _ := random.Image(64, 1)
	ref := Ref{Runtime: "a", Variant: "b", Arch: "x86_64"}
	s.Put(ref, img, nil)
	s.Put(Ref{Runtime: "c", Variant: "d", Arch: "x86_64"}, img, nil)
	// A crash in the middle of the next change leaves a truncated index.
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"schemaVersion": 2, "manif`), 0o644)
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s2.Get(ref); err != nil || !ok {
		t.Errorf("after restoring: %v %v", ok, err)
	}
	os.WriteFile(filepath.Join(dir, "index.json.prev"), []byte(`garbage`), 0o644)
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(`garbage`), 0o644)
	if _, err := Open(dir); err == nil {
		t.Error("a store with no good index opened")
	}
}
