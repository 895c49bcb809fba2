package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readGuarded reads like ReadFile but fails the test, instead of hanging
// it, when the read does not return (a FIFO used to block forever).
func readGuarded(t *testing.T, read func() (*Catalog, error)) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := read()
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("still reading the catalog after 10 s")
		return nil
	}
}

func writeCatalog(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReadConfinesExtensions: a catalog names extension paths inside its
// own directory; anything else is refused unless host paths are allowed.
func TestReadConfinesExtensions(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "config.json"), []byte("{}"), 0o600)
	tests := []struct {
		name string
		ext  string
		want string // "" when the path is taken
	}{
		{"inside", "ext/agent", ""},
		{"inside, cleaned", "ext/../ext/agent", ""},
		{"missing, reported at layout", "ext/none", ""},
		{"link inside", "inner-link", ""},
		{"absolute", "/etc/shadow", `"/etc/shadow" is an absolute path`},
		{"parent", "../dockercfg/config.json", `"../dockercfg/config.json" leaves the catalog's directory`},
		{"parent after a name", "ext/../../x", `"ext/../../x" leaves the catalog's directory`},
		{"link out", "out-link", `"out-link" is a symbolic link to ` + outside + "/config.json, outside the catalog's directory"},
		{"link out through a directory", "dir-link/config.json", "outside the catalog's directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "ext"), 0o755)
			os.WriteFile(filepath.Join(dir, "ext", "agent"), []byte("x"), 0o755)
			os.Symlink(filepath.Join(dir, "ext", "agent"), filepath.Join(dir, "inner-link"))
			os.Symlink(filepath.Join(outside, "config.json"), filepath.Join(dir, "out-link"))
			os.Symlink(outside, filepath.Join(dir, "dir-link"))
			p := writeCatalog(t, dir, fmt.Sprintf("extends: builtin\nruntimes:\n  - id: python3.12\n    variants:\n      alpine: {extensions: [%q]}\n", tc.ext))
			_, err := ReadFile(p)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("ReadFile = %v, want the path taken", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("ReadFile = %v\nwant an error with %q", err, tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), "mine.yaml:5: runtimes[python3.12].variants.alpine.extensions[0]: "):
				t.Errorf("the error does not name the key and line: %v", err)
			}
			if tc.want == "" {
				return
			}
			// The user's flag lets the catalog reach the host.
			if _, err := Read(context.Background(), p, ReadOptions{AllowHostPaths: true}); err != nil {
				t.Errorf("with AllowHostPaths: %v", err)
			}
		})
	}
}

// TestReadLimits: a catalog that is not a regular file, or is over a
// limit, is refused before it is read whole.
func TestReadLimits(t *testing.T) {
	many := func(n int) string {
		var b strings.Builder
		b.WriteString("runtimes:\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "  - {id: rt%d, language: python}\n", i)
		}
		return b.String()
	}
	tests := []struct {
		name string
		path func(t *testing.T) string
		opts ReadOptions
		want string
	}{
		{"/dev/zero", func(*testing.T) string { return "/dev/zero" }, ReadOptions{}, "/dev/zero is not a regular file (it is a device)"},
		{"FIFO", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "fifo.yaml")
			syscall.Mkfifo(p, 0o644)
			return p
		}, ReadOptions{}, "is not a regular file (it is a named pipe)"},
		{"directory", func(t *testing.T) string { return t.TempDir() }, ReadOptions{}, "(it is a directory)"},
		{"over the default size", func(t *testing.T) string {
			return writeCatalog(t, t.TempDir(), "# "+strings.Repeat("x", 4<<20)+"\n")
		}, ReadOptions{}, "is larger than the limit of 4194304 bytes (raise it with --limit catalog-size=N)"},
		{"over a given size", func(t *testing.T) string { return writeCatalog(t, t.TempDir(), many(10)) }, ReadOptions{MaxSize: 100},
			"is larger than the limit of 100 bytes"},
		{"over the default entries", func(t *testing.T) string { return writeCatalog(t, t.TempDir(), many(10_001)) }, ReadOptions{},
			"10001 runtimes, languages and variants: over the limit of 10000 (raise it with --limit catalog-entries=N)"},
		{"over given entries", func(t *testing.T) string { return writeCatalog(t, t.TempDir(), many(3)) }, ReadOptions{MaxEntries: 2},
			"3 runtimes, languages and variants: over the limit of 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.path(t)
			err := readGuarded(t, func() (*Catalog, error) { return Read(context.Background(), p, tc.opts) })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Read = %v\nwant an error with %q", err, tc.want)
			}
		})
	}
}

func TestReadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := writeCatalog(t, t.TempDir(), "runtimes: []\n")
	if _, err := Read(ctx, p, ReadOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read = %v, want context.Canceled", err)
	}
}
