package fileutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "blob")
	if err := os.WriteFile(f, []byte("layer"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := digest.FromString("layer")
	if err := Verify(f, d); err != nil {
		t.Fatalf("intact file: %v", err)
	}
	other := digest.FromString("other")
	err := Verify(f, other)
	if err == nil || !strings.Contains(err.Error(), string(d)) {
		t.Fatalf("file checked against another digest: %v; want an error naming %s", err, d)
	}
	if err := Verify(filepath.Join(dir, "missing"), d); !os.IsNotExist(err) {
		t.Fatalf("missing file: %v", err)
	}
	if err := Verify(f, "sha256:short"); err == nil {
		t.Fatal("invalid digest: no error")
	}
}
