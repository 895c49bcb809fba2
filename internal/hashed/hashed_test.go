package hashed

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

func TestKnown(t *testing.T) {
	dir := t.TempDir()
	f, link, other := filepath.Join(dir, "blob"), filepath.Join(dir, "link"), filepath.Join(dir, "copy")
	d := digest.FromString("layer")
	for _, p := range []string{f, other} {
		if err := os.WriteFile(p, []byte("layer"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if Known(f, d) {
		t.Fatal("a file never recorded is known")
	}
	Record(f, d)
	if err := os.Link(f, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		path string
		d    digest.Digest
		want bool
	}{
		{"recorded", f, d, true},
		{"hard link to it", link, d, true},
		{"another file with the same bytes", other, d, false},
		{"another digest", f, digest.FromString("other"), false},
		{"missing", filepath.Join(dir, "none"), d, false},
	} {
		if got := Known(c.path, c.d); got != c.want {
			t.Errorf("%s: Known = %v, want %v", c.name, got, c.want)
		}
	}
	// Written to since: not known (the time is moved on, as a write
	// later than the file system's clock tick moves it).
	if err := os.WriteFile(f, []byte("layeR"), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Second)
	if err := os.Chtimes(f, later, later); err != nil {
		t.Fatal(err)
	}
	if Known(f, d) || Known(link, d) {
		t.Error("a file written to after it was recorded is still known")
	}
	Reset()
	Record(other, d)
	if Known(f, d) {
		t.Error("Reset kept a file")
	}
	if !Known(other, d) {
		t.Error("a file recorded after Reset is not known")
	}
}

// TestVerify: a file that hashes to its digest is recorded, one that does
// not is refused and not recorded, and a known file is not read again.
func TestVerify(t *testing.T) {
	t.Cleanup(Reset)
	Reset()
	dir := t.TempDir()
	f := filepath.Join(dir, "blob")
	if err := os.WriteFile(f, []byte("layer"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, other := digest.FromString("layer"), digest.FromString("other")
	if err := Verify(f, other); err == nil || Known(f, other) {
		t.Errorf("checked against another digest: error %v, known %v; want an error, not known", err, Known(f, other))
	}
	if err := Verify(f, d); err != nil || !Known(f, d) {
		t.Fatalf("intact: error %v, known %v; want no error, known", err, Known(f, d))
	}
	// known: not read again (bytes changed behind the metadata's back)
	fi, _ := os.Stat(f)
	if err := os.WriteFile(f, []byte("LAYER"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(f, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := Verify(f, d); err != nil {
		t.Errorf("a known file was hashed again: %v", err)
	}
	if err := Verify(f, "sha256:short"); err == nil {
		t.Error("an invalid digest: no error")
	}
}

// TestRecordBounded: one file recorded again counts once; past
// maxPerDigest files for a digest the oldest is forgotten.
func TestRecordBounded(t *testing.T) {
	t.Cleanup(Reset)
	Reset()
	dir := t.TempDir()
	d := digest.FromString("layer")
	var paths []string
	for i := range maxPerDigest + 1 {
		p := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(p, []byte("layer"), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	for range 3 {
		Record(paths[0], d)
	}
	if n := len(files.m[d]); n != 1 {
		t.Errorf("one file recorded three times: %d entries, want 1", n)
	}
	for _, p := range paths[1:] {
		Record(p, d)
	}
	if Known(paths[0], d) || !Known(paths[1], d) || !Known(paths[maxPerDigest], d) {
		t.Errorf("past the bound: the oldest known %v, the second %v, the newest %v; want false, true, true",
			Known(paths[0], d), Known(paths[1], d), Known(paths[maxPerDigest], d))
	}
}
