package verify

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
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

type cachedScan struct {
	once sync.Once
	scan *layerScan
	err  error
}

// scan reads l once per Verifier.
func (v *Verifier) scan(ctx context.Context, l v1.Layer) (*layerScan, error) {
	d, err := l.Digest()
	if err != nil {
		return nil, err
	}
	c, _ := v.layers.LoadOrStore(d, &cachedScan{})
	cs := c.(*cachedScan)
	cs.once.Do(func() { cs.scan, cs.err = scanLayer(ctx, l) })
	return cs.scan, cs.err
}

var (
	magicGzip = []byte{0x1f, 0x8b}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicELF  = []byte("\x7fELF")
)

type countingReader struct {
	r   io.Reader
	n   int64
	ctx context.Context
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func scanLayer(ctx context.Context, l v1.Layer) (*layerScan, error) {
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	blob := &countingReader{r: rc, ctx: ctx}
	blobSum := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(blob, blobSum), 1<<16)
	magic, _ := br.Peek(4)
	s := &layerScan{format: "tar"}
	var r io.Reader = br
	switch {
	case bytes.HasPrefix(magic, magicGzip):
		s.format = "gzip"
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	case bytes.HasPrefix(magic, magicZstd):
		s.format = "zstd"
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	}
	h := sha256.New()
	cr := &countingReader{r: io.TeeReader(r, h), ctx: ctx}
	tr := tar.NewReader(cr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the layer's tar: %w", err)
		}
		p := cleanPath(h.Name)
		dir, base := path.Split(p)
		if strings.HasPrefix(base, ".wh.") {
			if base == ".wh..wh..opq" {
				s.opaque = append(s.opaque, path.Clean(dir))
			} else {
				s.whiteouts = append(s.whiteouts, path.Join(dir, strings.TrimPrefix(base, ".wh.")))
			}
			continue
		}
		fi := fileInfo{path: p, typ: h.Typeflag, mode: h.Mode, link: h.Linkname}
		if h.Typeflag == tar.TypeReg && h.Size > 0 {
			buf := make([]byte, min(h.Size, 256))
			n, _ := io.ReadFull(tr, buf)
			fi.head = fileHead(buf[:n])
		}
		s.files = append(s.files, fi)
	}
	// Count the rest of the stream (tar padding) too.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return nil, err
	}
	// and the rest of the blob (the gzip trailer)
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, err
	}
	s.size = cr.n
	s.diffID = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
	s.blob, s.blobSize = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(blobSum.Sum(nil))}, blob.n
	return s, nil
}

// fileHead keeps what verify reads of a file: an ELF header or a #! line.
func fileHead(b []byte) []byte {
	switch {
	case bytes.HasPrefix(b, magicELF) && len(b) >= 20:
		return append([]byte(nil), b[:20]...)
	case bytes.HasPrefix(b, []byte("#!")):
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[:i]
		}
		return append([]byte(nil), b...)
	}
	return nil
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
