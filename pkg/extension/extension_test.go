package extension

import (
	"archive/zip"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type entry struct {
	name string
	mode fs.FileMode
	body string
}

func makeZip(t *testing.T, entries []entry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "layer.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// tree lists dst as "path mode" lines.
func tree(t *testing.T, dst string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, _ := d.Info()
		rel, _ := filepath.Rel(dst, p)
		out = append(out, rel+" "+info.Mode().Perm().String())
		return nil
	})
	return out
}

func TestLayout(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "plain-ext"), []byte("#!/bin/sh"), 0o644)
	layerDir := t.TempDir()
	os.MkdirAll(filepath.Join(layerDir, "extensions"), 0o755)
	os.MkdirAll(filepath.Join(layerDir, "layer-ext-lib"), 0o755)
	os.WriteFile(filepath.Join(layerDir, "extensions", "layer-ext"), []byte("x"), 0o700)
	os.WriteFile(filepath.Join(layerDir, "layer-ext-lib", "data.txt"), []byte("d"), 0o600)
	single := filepath.Join(t.TempDir(), "single-ext")
	os.WriteFile(single, []byte("bin"), 0o600)
	z := makeZip(t, []entry{
		{"extensions/", fs.ModeDir | 0o755, ""},
		{"extensions/zipped-ext", 0o644, "zip"},
		{"zipped-ext-lib/lib.so", 0o644, "lib"},
	})
	dst := t.TempDir()
	if err := Layout(context.Background(), dst, []string{dir, layerDir, single, z}, Limits{}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"extensions/layer-ext -rwxr-xr-x",
		"extensions/plain-ext -rwxr-xr-x",
		"extensions/single-ext -rwxr-xr-x",
		"extensions/zipped-ext -rwxr-xr-x",
		"layer-ext-lib/data.txt -rw-r--r--",
		"zipped-ext-lib/lib.so -rw-r--r--",
	}
	if diff := cmp.Diff(want, tree(t, dst)); diff != "" {
		t.Errorf("layout (-want +got):\n%s", diff)
	}
	d1, _ := Digest(dst)
	os.WriteFile(filepath.Join(dst, "extensions", "plain-ext"), []byte("changed"), 0o755)
	if d2, _ := Digest(dst); d1 == d2 {
		t.Error("Digest did not change with a file's content")
	}
}

func TestZipSlip(t *testing.T) {
	for _, name := range []string{"../evil", "extensions/../../evil", "/etc/passwd", `..\evil`, "extensions/./../../x"} {
		t.Run(name, func(t *testing.T) {
			z := makeZip(t, []entry{{name, 0o644, "pwned"}})
			dst := filepath.Join(t.TempDir(), "opt")
			os.MkdirAll(dst, 0o755)
			err := Layout(context.Background(), dst, []string{z}, Limits{})
			if err == nil || !strings.Contains(err.Error(), "zip slip") {
				t.Fatalf("Layout = %v, want a zip-slip refusal", err)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dst), "evil")); err == nil {
				t.Error("a file was written outside the destination")
			}
		})
	}
}

func TestZipSymlinkRefused(t *testing.T) {
	z := makeZip(t, []entry{{"extensions/link", fs.ModeSymlink | 0o777, "/etc/passwd"}})
	if err := Layout(context.Background(), t.TempDir(), []string{z}, Limits{}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Layout = %v, want a refusal of the link", err)
	}
}

func TestLayoutErrors(t *testing.T) {
	if err := Layout(context.Background(), t.TempDir(), []string{"/nonexistent/ext.zip"}, Limits{}); err == nil || !strings.Contains(err.Error(), "/nonexistent/ext.zip") {
		t.Errorf("missing file: %v", err)
	}
	notZip := filepath.Join(t.TempDir(), "bad.zip")
	os.WriteFile(notZip, []byte("not a zip"), 0o644)
	if err := Layout(context.Background(), t.TempDir(), []string{notZip}, Limits{}); err == nil || !strings.Contains(err.Error(), "bad.zip") {
		t.Errorf("corrupt zip: %v", err)
	}
}

// TestCopyErrorsReported: an extension directory that cannot be copied
// whole is an error, never a layout with files silently missing.
func TestCopyErrorsReported(t *testing.T) {
	tests := []struct {
		name  string
		layer bool // the directory holds extensions/ (a layer)
	}{
		{"layer directory", true},
		{"plain directory", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := t.TempDir()
			files := src
			if tc.layer {
				files = filepath.Join(src, "extensions")
				os.MkdirAll(files, 0o755)
			}
			// WalkDir visits a-link before z-agent: the link's refusal
			// must not leave a layout without z-agent looking complete.
			if err := os.Symlink("/etc/passwd", filepath.Join(files, "a-link")); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(files, "z-agent"), []byte("#!/bin/sh"), 0o755)
			err := Layout(context.Background(), t.TempDir(), []string{src}, Limits{})
			if err == nil || !strings.Contains(err.Error(), "symbolic link") {
				t.Fatalf("Layout = %v, want the link refused", err)
			}
		})
	}
}

func TestZipDuplicateEntries(t *testing.T) {
	z := makeZip(t, []entry{
		{"extensions/agent", 0o755, "first"},
		{"extensions/agent", 0o755, "second"},
	})
	err := Layout(context.Background(), t.TempDir(), []string{z}, Limits{})
	if err == nil || !strings.Contains(err.Error(), `"extensions/agent" twice`) {
		t.Fatalf("Layout = %v, want the duplicate entry refused", err)
	}
}

// TestLibraryLayer: a layer of libraries only (python/, nodejs/, java/lib),
// the way layers reach container images, is laid out under /opt as it is.
func TestLibraryLayer(t *testing.T) {
	src := t.TempDir()
	for _, f := range []string{"python/mod.py", "nodejs/node_modules/m/index.js", "java/lib/l.jar"} {
		p := filepath.Join(src, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(t.TempDir(), "opt")
	if err := Layout(context.Background(), dst, []string{src}, Limits{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"python/mod.py", "nodejs/node_modules/m/index.js", "java/lib/l.jar"} {
		if _, err := os.Stat(filepath.Join(dst, filepath.FromSlash(f))); err != nil {
			t.Errorf("%s is not under /opt: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dst, "extensions")); err == nil {
		t.Error("a library layer put something in /opt/extensions")
	}
}
