package verify

import (
	"archive/tar"
	"context"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/internal/layerscan"
)

// fileInfo is one tar entry of a layer.
type fileInfo struct {
	path string // clean and absolute
	typ  byte
	mode int64
	link string
	// head is the start of a regular file: an ELF header (20 bytes) or a
	// #! line; nil otherwise.
	head []byte
}

// layerScan is what verify needs from one layer.
type layerScan struct {
	files     []fileInfo
	whiteouts []string // paths hidden in lower layers
	opaque    []string // directories whose lower contents are hidden
	size      int64    // uncompressed bytes
	diffID    v1.Hash  // sha256 of the uncompressed bytes
	format    string   // "gzip", "zstd" or "tar": what the bytes are
	// blob is the sha256 and the length of the bytes read (compressed):
	// whether they are the blob the layer's digest names.
	blob     v1.Hash
	blobSize int64
}

// scan reads l (see scanLayer).
func (v *Verifier) scan(ctx context.Context, l v1.Layer) (*layerScan, error) {
	return scanLayer(ctx, l)
}

var magicELF = []byte("\x7fELF")

// scanLayer takes the layer's scan from layerscan, which reads each
// distinct intact layer once per process (the package inventory of a
// build reads the same layers), and keeps what verify needs.
func scanLayer(ctx context.Context, l v1.Layer) (*layerScan, error) {
	ls, err := layerscan.Read(ctx, l)
	if err != nil {
		return nil, err
	}
	s := &layerScan{size: ls.Size, diffID: ls.DiffID, format: ls.Format, blob: ls.Blob, blobSize: ls.BlobSize}
	for i := range ls.Entries {
		e := &ls.Entries[i]
		p := cleanPath(e.Name)
		dir, base := path.Split(p)
		if strings.HasPrefix(base, ".wh.") {
			if base == ".wh..wh..opq" {
				s.opaque = append(s.opaque, path.Clean(dir))
			} else {
				s.whiteouts = append(s.whiteouts, path.Join(dir, strings.TrimPrefix(base, ".wh.")))
			}
			continue
		}
		s.files = append(s.files, fileInfo{path: p, typ: e.Typeflag, mode: e.Mode, link: e.Linkname, head: e.Head})
	}
	return s, nil
}

func cleanPath(p string) string {
	return path.Clean("/" + strings.TrimPrefix(p, "./"))
}

// fsView is the image's file system: the layers merged top-down with
// whiteouts applied.
type fsView struct {
	files map[string]*fileInfo
	// top lists the regular files of the topmost layer that has any, for
	// the fallback ELF check.
	top []*fileInfo
}

func merge(layers []*layerScan) *fsView {
	v := &fsView{files: map[string]*fileInfo{}}
	hidden, opaque := map[string]bool{}, map[string]bool{}
	for i := len(layers) - 1; i >= 0; i-- {
		l := layers[i]
		for j := range l.files {
			f := &l.files[j]
			if _, ok := v.files[f.path]; ok || isHidden(f.path, hidden, opaque) {
				continue
			}
			v.files[f.path] = f
		}
		if v.top == nil {
			for j := range l.files {
				if f := &l.files[j]; f.typ == tar.TypeReg && v.files[f.path] == f {
					v.top = append(v.top, f)
				}
			}
		}
		for _, w := range l.whiteouts {
			hidden[w] = true
		}
		for _, o := range l.opaque {
			opaque[o] = true
		}
	}
	return v
}

func isHidden(p string, hidden, opaque map[string]bool) bool {
	for a := p; ; a = path.Dir(a) {
		if hidden[a] || (a != p && opaque[a]) {
			return true
		}
		if a == "/" {
			return false
		}
	}
}

// lookup resolves p, following symlinks in its directories, and in its
// last element too when follow is set. It returns the entry and the path it
// was found at, or nil.
func (v *fsView) lookup(p string, follow bool) (*fileInfo, string) {
	parts := strings.Split(strings.Trim(cleanPath(p), "/"), "/")
	cur := "/"
	for hops := 0; len(parts) > 0 && hops < 40; {
		next := path.Join(cur, parts[0])
		last := len(parts) == 1
		f := v.files[next]
		if f == nil && last {
			return nil, next
		}
		if f != nil && f.typ == tar.TypeSymlink && (!last || follow) {
			hops++
			target := f.link
			if !path.IsAbs(target) {
				target = path.Join(cur, target)
			}
			rest := strings.Split(strings.Trim(cleanPath(target), "/"), "/")
			if cleanPath(target) == "/" {
				rest = nil
			}
			parts = append(rest, parts[1:]...)
			cur = "/"
			continue
		}
		if last {
			if f.typ == tar.TypeLink {
				if t := v.files[cleanPath(f.link)]; t != nil {
					return &fileInfo{path: f.path, typ: tar.TypeReg, mode: t.mode, head: t.head}, next
				}
			}
			return f, next
		}
		cur, parts = next, parts[1:]
	}
	return nil, p
}
