package extension

import (
	"archive/zip"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"strings"
)

// safeRel returns the zip entry name as a clean path under /opt, or an
// error when it would land outside.
func safeRel(name string) (string, error) {
	clean := path.Clean("/" + strings.ReplaceAll(name, "\\", "/"))
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") ||
		clean != "/"+strings.TrimSuffix(name, "/") || strings.HasPrefix(clean, "/..") || clean == "/" {
		return "", fmt.Errorf("refusing the zip entry %q: it would land outside the extension (zip slip)", name)
	}
	return clean[1:], nil
}

// unzip lays out the zip at p as a layer. Every entry is checked (names,
// kinds, declared sizes, counts) before anything is written; while
// writing, the bytes actually read are counted too.
func (l *layout) unzip(p string) error {
	f, st, err := openRegular(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if st.Size() > l.lim.ZipSize {
		return &LimitError{Limit: "extension-zip-size", Max: l.lim.ZipSize, What: fmt.Sprintf("the zip is %d bytes", st.Size())}
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		return err
	}
	names := make([]string, len(zr.File))
	seen := make(map[string]bool, len(zr.File))
	var files int
	var declared uint64
	for i, zf := range zr.File {
		rel, err := safeRel(zf.Name)
		if err != nil {
			return err
		}
		if seen[rel] {
			return fmt.Errorf("the zip holds %q twice: refusing to pick one", zf.Name)
		}
		seen[rel], names[i] = true, rel
		switch m := zf.Mode(); {
		case m&fs.ModeSymlink != 0:
			return fmt.Errorf("refusing the zip entry %q: symbolic links could point outside the extension", zf.Name)
		case m.IsDir():
		case !m.IsRegular():
			return fmt.Errorf("refusing the zip entry %q: it is %s", zf.Name, kind(m))
		default:
			files++
			declared += zf.UncompressedSize64
			if declared > math.MaxInt64 {
				declared = math.MaxInt64
			}
		}
	}
	if files == 0 {
		return errors.New("the zip holds no files")
	}
	if l.files+len(zr.File) > l.lim.Files {
		return &LimitError{Limit: "extension-files", Max: int64(l.lim.Files), What: fmt.Sprintf("the zip holds %d entries", len(zr.File))}
	}
	if int64(declared) > l.lim.Size-l.size {
		return &LimitError{Limit: "extension-size", Max: l.lim.Size,
			What: fmt.Sprintf("the zip says it expands to %d bytes (with what is laid out before it, %d)", declared, l.size+int64(declared))}
	}
	for i, zf := range zr.File {
		if err := l.ctx.Err(); err != nil {
			return err
		}
		if zf.Mode().IsDir() {
			if err := l.mkdir(names[i]); err != nil {
				return err
			}
			continue
		}
		if err := l.entryFile(zf, names[i]); err != nil {
			return err
		}
	}
	return nil
}

func (l *layout) entryFile(zf *zip.File, rel string) error {
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	perm := zf.Mode().Perm() | 0o644
	if zf.Mode().Perm()&0o111 != 0 {
		perm |= 0o755
	}
	if err := l.write(rel, rc, perm); err != nil {
		return fmt.Errorf("zip entry %q: %w", zf.Name, err)
	}
	return nil
}
