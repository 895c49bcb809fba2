package extension

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// Layout writes the extensions at paths into dst, laid out as /opt:
//   - a zip file is unpacked as a Lambda layer (extensions/ at its root);
//   - a directory that looks like a layer (an extensions/, python/,
//     nodejs/, java/, ruby/, lib/ or bin/ subdirectory) is copied as one;
//     any other directory's files are the extensions themselves;
//   - any other file is one extension, /opt/extensions/<name>.
//
// Files directly under extensions/ are made executable. A path given is
// followed if it is a symbolic link (naming it is consent); below it,
// links, FIFOs, devices and sockets are refused, as are zip entries that
// would land outside dst (absolute paths, "..", links), a file laid out
// twice and anything over lim (zero fields take DefaultLimits). Layout stops
// when ctx is cancelled. dst must be absent or empty; when Layout fails it
// leaves nothing in dst (and removes dst if it made it).
func Layout(ctx context.Context, dst string, paths []string, lim Limits) (err error) {
	created, err := prepare(dst)
	if err != nil {
		return err
	}
	l := &layout{
		budget: budget{ctx: ctx, lim: lim.withDefaults()},
		dst:    dst,
		owner:  map[string]string{},
		dirs:   map[string]bool{},
	}
	defer func() {
		if err != nil {
			clean(dst, created)
		}
	}()
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.src = p
		if err := l.add(p); err != nil {
			return fmt.Errorf("extension %s: %w", p, err)
		}
	}
	// A layer may carry only libraries (python/, nodejs/, java/lib): that
	// is how layers reach an image. Only a layout of nothing is an error.
	if len(l.owner) == 0 {
		return fmt.Errorf("extensions %s: nothing to lay out under /opt", strings.Join(paths, ", "))
	}
	return nil
}

// layerRoots are the directories a Lambda layer has at its root: /opt's.
var layerRoots = []string{"extensions", "python", "nodejs", "java", "ruby", "lib", "bin"}

// isLayer reports whether the directory root is a layer (laid out as /opt)
// rather than a directory of extension executables.
func isLayer(root string) bool {
	for _, d := range layerRoots {
		if st, err := os.Lstat(filepath.Join(root, d)); err == nil && st.IsDir() {
			return true
		}
	}
	return false
}

// layout is one Layout run.
type layout struct {
	budget
	dst         string
	src         string            // the path being laid out
	owner       map[string]string // file under /opt -> the path that put it there
	dirs        map[string]bool   // directories under /opt made so far
	executables int               // files directly under extensions/
}

func (l *layout) add(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	switch {
	case st.IsDir():
		// The path given is followed; what is below it is not.
		root, err := filepath.EvalSymlinks(p)
		if err != nil {
			return err
		}
		if isLayer(root) {
			return l.tree(root, "")
		}
		return l.tree(root, "extensions")
	case !st.Mode().IsRegular():
		return fmt.Errorf("it is %s: give a regular file, a directory or a zip", kind(st.Mode()))
	case strings.HasSuffix(strings.ToLower(p), ".zip"):
		return l.unzip(p)
	}
	f, _, err := openRegular(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return l.write(path.Join("extensions", filepath.Base(p)), f, 0o755)
}

// tree copies the directory src to prefix under /opt.
func (l *layout) tree(src, prefix string) error {
	before := len(l.owner)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := l.ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		rel = path.Join(prefix, filepath.ToSlash(rel))
		switch t := d.Type(); {
		case d.IsDir():
			if rel == "." {
				return nil
			}
			return l.mkdir(rel)
		case t&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a symbolic link; give the file itself", p)
		case !t.IsRegular():
			return fmt.Errorf("%s is %s: only regular files and directories are laid out", p, kind(t))
		}
		f, st, err := openRegular(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return l.write(rel, f, st.Mode().Perm()|0o644)
	})
	if err == nil && len(l.owner) == before {
		return errors.New("the directory holds no files")
	}
	return err
}

// mkdir makes the directory rel under /opt, counting it once.
func (l *layout) mkdir(rel string) error {
	if l.dirs[rel] {
		return nil
	}
	if err := l.entry(rel); err != nil {
		return err
	}
	l.dirs[rel] = true
	return l.hide(os.MkdirAll(filepath.Join(l.dst, filepath.FromSlash(rel)), 0o755))
}

// write writes r to rel under /opt, which nothing may have written before.
func (l *layout) write(rel string, r io.Reader, perm fs.FileMode) error {
	if prev, ok := l.owner[rel]; ok {
		return fmt.Errorf("/opt/%s is also laid out by %s: refusing to pick one", rel, prev)
	}
	if err := l.entry(rel); err != nil {
		return err
	}
	l.owner[rel] = l.src
	if path.Dir(rel) == "extensions" {
		perm = 0o755
		l.executables++
	}
	if dir := path.Dir(rel); dir != "." {
		if err := l.mkdir(dir); err != nil {
			return err
		}
	}
	target := filepath.Join(l.dst, filepath.FromSlash(rel))
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return l.hide(err)
	}
	if err := l.copy(out, r, "the extensions laid out"); err != nil {
		out.Close()
		return l.hide(err)
	}
	if err := out.Close(); err != nil {
		return l.hide(err)
	}
	return l.hide(os.Chmod(target, perm)) // whatever the umask
}

// hide names files under dst by their place in the image, /opt/..., so
// messages do not show the temporary directory Layout writes into. It is
// applied where the error is made, before anything wraps it.
func (l *layout) hide(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if rest, ok := strings.CutPrefix(pe.Path, l.dst); ok {
			pe.Path = "/opt" + rest
		}
	}
	return err
}

// openRegular opens p for reading only if it is a regular file, without
// blocking on a FIFO put in its place.
func openRegular(p string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is %s: only regular files are read", p, kind(st.Mode()))
	}
	return f, st, nil
}

// kind names a file type for messages.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	}
	return "not a regular file"
}

// prepare makes sure dst is an empty directory and says whether it made it.
func prepare(dst string) (bool, error) {
	entries, err := os.ReadDir(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, os.MkdirAll(dst, 0o755)
	case err != nil:
		return false, err
	case len(entries) > 0:
		return false, fmt.Errorf("laying out extensions into %s: the directory is not empty", dst)
	}
	return false, nil
}

// clean removes what a failed Layout wrote.
func clean(dst string, created bool) {
	if created {
		os.RemoveAll(dst)
		return
	}
	entries, _ := os.ReadDir(dst)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dst, e.Name()))
	}
}
