package catalog

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/lambdaimg/lambdaimg/internal/ctxio"
)

// ReadOptions say how Read takes a catalog file. Zero fields take the
// defaults of DefaultReadOptions.
type ReadOptions struct {
	// MaxSize is the largest catalog file read, in bytes.
	MaxSize int64
	// MaxEntries is the most runtimes, languages and variants it may hold.
	MaxEntries int
	// AllowHostPaths lets extension paths leave the catalog's directory:
	// absolute paths, ".." and symbolic links that resolve outside it.
	// Without it they are refused, so a shared catalog cannot copy the
	// user's files into an image.
	AllowHostPaths bool
}

// DefaultReadOptions are the limits Read applies when given none: 4 MiB
// and 10,000 entries (the built-in catalog is about 22 KiB and 300).
func DefaultReadOptions() ReadOptions {
	return ReadOptions{MaxSize: 4 << 20, MaxEntries: 10_000}
}

func (o ReadOptions) withDefaults() ReadOptions {
	d := DefaultReadOptions()
	if o.MaxSize > 0 {
		d.MaxSize = o.MaxSize
	}
	if o.MaxEntries > 0 {
		d.MaxEntries = o.MaxEntries
	}
	d.AllowHostPaths = o.AllowHostPaths
	return d
}

// ReadFile reads the catalog at path with the default options.
func ReadFile(path string) (*Catalog, error) {
	return Read(context.Background(), path, ReadOptions{})
}

// Read parses the catalog at path: a regular file within o's limits (a
// FIFO or a device such as /dev/zero is refused before it is read).
// Relative extension paths are resolved against the file's directory
// here, so they stay right when the catalog is laid over another; unless
// o.AllowHostPaths, they must stay inside that directory. Read stops when
// ctx is cancelled.
func Read(ctx context.Context, path string, o ReadOptions) (*Catalog, error) {
	o = o.withDefaults()
	data, err := readLimited(ctx, path, o.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("reading catalog: %w", err)
	}
	c, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if n := c.entries(); n > o.MaxEntries {
		return nil, fmt.Errorf("%s: %d runtimes, languages and variants: over the limit of %d (raise it with --limit catalog-entries=N)", path, n, o.MaxEntries)
	}
	if err := c.resolveExtensions(filepath.Dir(path), o.AllowHostPaths); err != nil {
		return nil, err
	}
	return c, nil
}

// readLimited reads the regular file at path, at most max bytes.
func readLimited(ctx context.Context, path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (it is %s)", path, fileKind(st.Mode()))
	}
	over := func() error {
		return fmt.Errorf("%s is larger than the limit of %d bytes (raise it with --limit catalog-size=N)", path, max)
	}
	if st.Size() > max {
		return nil, over()
	}
	data, err := io.ReadAll(io.LimitReader(ctxio.Reader(ctx, f), max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, over()
	}
	return data, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// entries counts the runtimes, languages and variants, for MaxEntries.
func (c *Catalog) entries() int {
	n := len(c.Runtimes) + len(c.Languages)
	for _, r := range c.Runtimes {
		n += len(r.Variants)
	}
	for _, l := range c.Languages {
		n += len(l.Variants)
	}
	return n
}

// resolveExtensions makes relative extension paths absolute against dir
// and, unless host paths are allowed, refuses those that leave it.
func (c *Catalog) resolveExtensions(dir string, allowHost bool) error {
	conf := confiner{dir: dir, allow: allowHost}
	var problems []Problem
	resolve := func(prefix string, vs map[string]Variant) {
		for _, name := range sortedKeys(vs) {
			v := vs[name]
			for i, e := range v.Extensions {
				if e == "" {
					continue // Validate names it
				}
				p, err := conf.resolve(e)
				if err != nil {
					path := fmt.Sprintf("%s.variants.%s.extensions[%d]", prefix, name, i)
					problems = append(problems, Problem{Where: c.where(c.file, path), Path: path, Msg: err.Error()})
					continue
				}
				v.Extensions[i] = p
			}
			vs[name] = v
		}
	}
	for _, l := range sortedKeys(c.Languages) {
		ld := c.Languages[l]
		resolve("languages."+string(l), ld.Variants)
		c.Languages[l] = ld
	}
	for i := range c.Runtimes {
		resolve("runtimes["+c.Runtimes[i].ID+"]", c.Runtimes[i].Variants)
	}
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

// confiner keeps a catalog's extension paths inside its directory.
type confiner struct {
	dir   string
	allow bool
	real  string // dir with its links resolved, once needed
}

const allowHint = "a catalog names extensions inside its own directory unless host paths are allowed (--allow-host-paths)"

func (c *confiner) resolve(e string) (string, error) {
	if filepath.IsAbs(e) {
		if c.allow {
			return e, nil
		}
		return "", fmt.Errorf("%q is an absolute path: %s", e, allowHint)
	}
	clean := filepath.Clean(e)
	full := filepath.Join(c.dir, clean)
	if c.allow {
		return full, nil
	}
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%q leaves the catalog's directory: %s", e, allowHint)
	}
	target, err := filepath.EvalSymlinks(full)
	if err != nil {
		// A path that does not exist is reported when it is laid out.
		return full, nil
	}
	if c.real == "" {
		if c.real, err = filepath.EvalSymlinks(c.dir); err != nil {
			return "", err
		}
	}
	if rel, err := filepath.Rel(c.real, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%q is a symbolic link to %s, outside the catalog's directory: %s", e, target, allowHint)
	}
	return full, nil
}
