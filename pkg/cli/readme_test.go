package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadmeMatrix keeps README.md's support matrix equal to what the
// catalog says (`make readme` rewrites it).
func TestReadmeMatrix(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- matrix:begin -->", "<!-- matrix:end -->"
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README.md has no matrix markers")
	}
	var out bytes.Buffer
	cmd := New(Env{})
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"list", "-o", "markdown"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	got := strings.TrimSpace(s[i+len(begin) : j])
	if diff := cmp.Diff(strings.TrimSpace(out.String()), got); diff != "" {
		t.Errorf("README.md's support matrix is out of date; run `make readme` (-catalog +readme):\n%s", diff)
	}
}
