package hashed

import (
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
