// Package extension lays out Lambda extensions for an image: it turns
// directories, zip files (which Dockerfile ADD does not unpack) and single
// executables into one directory tree that is copied onto /opt, so every
// extension ends up executable under /opt/extensions, where Lambda and the
// Runtime Interface Emulator start them.
package extension

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lambdaimg/lambdaimg/internal/fileutil"
)

// Layout writes the extensions at paths into dst, laid out as /opt:
//   - a zip file is unpacked as a Lambda layer (extensions/ at its root);
//   - a directory with an extensions/ subdirectory is copied as a layer;
//     any other directory's files are the extensions themselves;
//   - any other file is one extension, /opt/extensions/<name>.
//
// Files under extensions/ are made executable. Zip entries that would land
// outside dst (absolute paths, "..", links) are refused.
func Layout(dst string, paths []string) error {
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("extension %s: %w", p, err)
		}
		switch {
		case st.IsDir():
			// err is assigned, not declared, here: the copy's error must
			// reach the check below.
			if sub, serr := os.Stat(filepath.Join(p, "extensions")); serr == nil && sub.IsDir() {
				err = copyTree(p, dst)
			} else {
				err = copyTree(p, filepath.Join(dst, "extensions"))
			}
			if err != nil {
				return fmt.Errorf("extension %s: %w", p, err)
			}
		case strings.HasSuffix(strings.ToLower(p), ".zip"):
			if err := unzip(p, dst); err != nil {
				return fmt.Errorf("extension %s: %w", p, err)
			}
		default:
			target := filepath.Join(dst, "extensions", filepath.Base(p))
			if _, err := os.Stat(target); err == nil {
				return fmt.Errorf("extension %s: another extension is already named %s", p, filepath.Base(p))
			}
			if err := fileutil.Copy(p, target, 0o755); err != nil {
				return fmt.Errorf("extension %s: %w", p, err)
			}
		}
	}
	ext := filepath.Join(dst, "extensions")
	entries, err := os.ReadDir(ext)
	if err != nil {
		return fmt.Errorf("no extensions/ in what was given: %w", err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := os.Chmod(filepath.Join(ext, e.Name()), 0o755); err != nil {
				return err
			}
		}
	}
	return nil
}

// safeJoin returns dst/name, or an error when name would escape dst.
func safeJoin(dst, name string) (string, error) {
	clean := path.Clean("/" + strings.ReplaceAll(name, "\\", "/"))
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") ||
		clean != "/"+strings.TrimSuffix(name, "/") || strings.HasPrefix(clean, "/..") {
		return "", fmt.Errorf("refusing the zip entry %q: it would land outside the extension (zip slip)", name)
	}
	return filepath.Join(dst, filepath.FromSlash(clean)), nil
}

func unzip(src, dst string) error {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return err
	}
	defer zr.Close()
	seen := make(map[string]bool, len(zr.File))
	for _, f := range zr.File {
		target, err := safeJoin(dst, f.Name)
		if err != nil {
			return err
		}
		if seen[target] {
			return fmt.Errorf("the zip holds %q twice: refusing to pick one", f.Name)
		}
		seen[target] = true
		mode := f.Mode()
		switch {
		case mode&fs.ModeSymlink != 0:
			return fmt.Errorf("refusing the zip entry %q: symbolic links could point outside the extension", f.Name)
		case f.FileInfo().IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		perm := mode.Perm() | 0o644
		if mode.Perm()&0o111 != 0 {
			perm |= 0o755
		}
		err = fileutil.Write(target, rc, perm)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a symbolic link; give the file itself", p)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return fileutil.Copy(p, target, info.Mode().Perm()|0o644)
	})
}

// Digest hashes a laid-out tree (paths, modes and contents), for build keys.
func Digest(dir string) (string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(h, "%s %o %d\n", filepath.ToSlash(rel), st.Mode().Perm(), st.Size())
		in, err := os.Open(f)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, in)
		in.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
