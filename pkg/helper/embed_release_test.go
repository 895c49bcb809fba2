//go:build lambdaimg_release

package helper

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEmbedded checks what `make release` embeds: a static Linux helper
// for each architecture (run it with `make helper` and
// `go test -tags lambdaimg_release ./pkg/helper`).
func TestEmbedded(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		h, err := Lookup{Exe: "/nonexistent/lambdaimg"}.Find(arch)
		if err != nil || h.From != "embedded" {
			t.Fatalf("Find(%s) = %+v, %v; want the embedded helper", arch, h.From, err)
		}
		p := filepath.Join(t.TempDir(), arch)
		if err := os.WriteFile(p, h.Data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := staticFor(p, arch); err != nil {
			t.Errorf("embedded helper for %s: %v", arch, err)
		}
	}
}
