// Package layerscan reads an image layer once for every reader of layers
// in lambdaimg: the verify gate (pkg/verify: every entry, the start of
// each regular file, the uncompressed size and diff_id) and the package
// inventory (pkg/inventory: the few files it reads). A build reads the
// same layers for both (and the base image's for its inventory), so the
// scans of intact layers are kept by digest for the whole process: each
// distinct layer is decompressed once. With KeepIn they are kept across
// processes too (the build keeps them in the user cache), so that a new
// image on a known base does not decompress the base's layers again. A
// kept scan, either way, is used only for bytes that hash to its digest
// (hashed again, unless the caller knows they do: Intact).
package layerscan

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
	"sync"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// The files whose contents a Scan keeps (tar names, cleaned): those the
// package inventory reads (pkg/inventory names them), and APT sources,
// os-release and the rpm database files (rpmFile).
const (
	DpkgStatus      = "var/lib/dpkg/status"
	ApkInstalled    = "lib/apk/db/installed"
	ApkRepositories = "etc/apk/repositories"
	RIEPath         = "usr/local/bin/aws-lambda-rie"
)

// Entry is one tar entry of a layer.
type Entry struct {
	Name     string // as in the tar
	Typeflag byte
	Mode     int64
	Linkname string
	// Head is the start of a regular file when it is an ELF header (20
	// bytes) or a #! line; nil otherwise.
	Head []byte
	// Data is the contents of a file Kept names (at most its limit); Sum
	// the sha256 of RIEPath's ("sha256:HEX"), whose Data is nil.
	Data []byte
	Sum  string
}

// Scan is one layer, read once.
type Scan struct {
	Entries []Entry
	Size    int64   // uncompressed bytes
	DiffID  v1.Hash // sha256 of the uncompressed bytes
	Format  string  // "gzip", "zstd" or "tar": what the bytes are
	// Blob and BlobSize are the sha256 and length of the bytes read:
	// Intact tells whether they are the blob the layer's digest names.
	Blob     v1.Hash
	BlobSize int64
}

// Intact reports whether the bytes read were the blob d names.
func (s *Scan) Intact(d v1.Hash, size int64) bool {
	return s.Blob == d && s.BlobSize == size
}

// Kept returns how much of a regular file named name (cleaned tar name) a
// Scan keeps: limit bytes (-1: all; 0: none), or only its sha256.
func Kept(name string) (limit int64, sum bool) {
	switch {
	case aptSource(name), name == ApkRepositories:
		return 1 << 20, false
	case name == DpkgStatus, name == ApkInstalled, rpmFile(name):
		return -1, false
	case name == "etc/os-release" || name == "usr/lib/os-release":
		return 64 << 10, false
	case name == RIEPath:
		return 0, true
	}
	return 0, false
}

// rpmFile reports whether name is a file of an rpm database: rpmdb.sqlite,
// its write-ahead log or Packages, in var/lib/rpm or usr/lib/sysimage/rpm.
func rpmFile(name string) bool {
	dir, file := path.Split(name)
	return (dir == "var/lib/rpm/" || dir == "usr/lib/sysimage/rpm/") &&
		(file == "rpmdb.sqlite" || file == "rpmdb.sqlite-wal" || file == "Packages")
}

// aptSource reports whether name (a path in a layer tar) is an APT source
// file apt reads.
func aptSource(name string) bool {
	if name == "etc/apt/sources.list" {
		return true
	}
	dir, file := path.Split(name)
	ext := path.Ext(file)
	return dir == "etc/apt/sources.list.d/" && (ext == ".list" || ext == ".sources")
}

// cache keeps the scans of intact layers. It is bounded: a long-lived
// process (a test binary) starts over when it is full.
var cache = struct {
	sync.Mutex
	m map[v1.Hash]*Scan
}{m: map[v1.Hash]*Scan{}}

const cacheMax = 256

// Read returns the scan of l: a kept one when an intact layer with l's
// digest was read before, in this process or (KeepIn) an earlier one, and
// l's bytes hash to its digest now (a sha256 pass over the compressed
// bytes, far cheaper than decompressing them), else by reading l. A scan
// is kept only when the bytes read had l's digest and size, so a damaged
// blob never stands in for the intact one, nor the intact one for a
// damaged copy: a caller always gets the scan of the bytes l holds (of
// the content its digest names, for a Named layer: see Named). A kept
// scan is given to an Intact layer without hashing its bytes, which the
// caller knows to hash to its digest (see Intact). Reads of one digest
// take turns, so that concurrent jobs on one base image read its layers
// once, not once each.
func Read(ctx context.Context, l v1.Layer) (*Scan, error) {
	i, trusted := l.(intact)
	if trusted {
		l = i.Layer
	}
	d, err := l.Digest()
	if err != nil {
		return nil, err
	}
	unlock, err := lockDigest(ctx, d)
	if err != nil {
		return nil, err
	}
	defer unlock()
	size, sizeErr := l.Size()
	cache.Lock()
	s := cache.m[d]
	cache.Unlock()
	if n, ok := l.(named); ok {
		if s != nil {
			return s, nil
		}
		l = n.Layer
	}
	dir := diskDir()
	fromDisk := false
	if s == nil && sizeErr == nil {
		s, fromDisk = load(dir, d, size), true
	}
	if s != nil && (trusted && sizeErr == nil && s.Intact(d, size) || holds(ctx, l, s)) {
		if fromDisk {
			remember(d, s)
		}
		return s, nil
	}
	if s, err = read(ctx, l); err != nil {
		return nil, err
	}
	if sizeErr == nil && s.Intact(d, size) {
		remember(d, s)
		save(dir, s)
	}
	return s, nil
}

// busy holds a channel per digest being read, closed when the read ends.
var busy = struct {
	sync.Mutex
	m map[v1.Hash]chan struct{}
}{m: map[v1.Hash]chan struct{}{}}

// lockDigest waits until no other Read of d runs (or ctx ends), then
// holds d until unlock.
func lockDigest(ctx context.Context, d v1.Hash) (unlock func(), err error) {
	for {
		busy.Lock()
		ch, held := busy.m[d]
		if !held {
			ch = make(chan struct{})
			busy.m[d] = ch
			busy.Unlock()
			return func() {
				busy.Lock()
				delete(busy.m, d)
				busy.Unlock()
				close(ch)
			}, nil
		}
		busy.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// remember keeps s, the scan of the intact layer d, for the process.
func remember(d v1.Hash, s *Scan) {
	cache.Lock()
	if len(cache.m) >= cacheMax {
		clear(cache.m)
	}
	cache.m[d] = s
	cache.Unlock()
}

// holds reports whether l's bytes are those s was read from.
func holds(ctx context.Context, l v1.Layer, s *Scan) bool {
	rc, err := l.Compressed()
	if err != nil {
		return false
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, &countingReader{r: rc, ctx: ctx})
	return err == nil && n == s.BlobSize && hex.EncodeToString(h.Sum(nil)) == s.Blob.Hex
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

// decompressed counts the layers read in full (see Decompressed).
var decompressed atomic.Int64

// Decompressed is how many layers this process has read in full (not
// from the cache): for tests and benchmarks of the readers.
func Decompressed() int64 { return decompressed.Load() }

// read reads l's compressed bytes once. gzip is klauspost/compress's.
// The bytes are hashed as they are read, an Intact layer's too: a scan
// kept (and saved for other processes) names the blob it was read from.
func read(ctx context.Context, l v1.Layer) (*Scan, error) {
	decompressed.Add(1)
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	blob := &countingReader{r: rc, ctx: ctx}
	blobSum := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(blob, blobSum), 1<<16)
	magic, _ := br.Peek(4)
	s := &Scan{Format: "tar"}
	var r io.Reader = br
	switch {
	case bytes.HasPrefix(magic, magicGzip):
		s.Format = "gzip"
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	case bytes.HasPrefix(magic, magicZstd):
		s.Format = "zstd"
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
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the layer's tar: %w", err)
		}
		e := Entry{Name: hdr.Name, Typeflag: hdr.Typeflag, Mode: hdr.Mode, Linkname: hdr.Linkname}
		if hdr.Typeflag == tar.TypeReg {
			if err := e.read(tr, hdr.Size); err != nil {
				return nil, err
			}
		}
		s.Entries = append(s.Entries, e)
	}
	// Count the rest of the stream (tar padding) too, and read the rest
	// of the blob (the gzip trailer): both are hashed.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, err
	}
	s.Size = cr.n
	s.DiffID = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
	s.Blob, s.BlobSize = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(blobSum.Sum(nil))}, blob.n
	return s, nil
}

// read takes e's Head, and its Data or Sum when Kept asks, from the
// regular file r of size bytes.
func (e *Entry) read(r io.Reader, size int64) error {
	head := make([]byte, min(size, 256))
	n, _ := io.ReadFull(r, head)
	head = head[:n]
	e.Head = fileHead(head)
	name := path.Clean(e.Name)
	limit, sum := Kept(name)
	switch {
	case sum:
		h := sha256.New()
		h.Write(head)
		if _, err := io.Copy(h, r); err != nil {
			return fmt.Errorf("reading /%s: %w", name, err)
		}
		e.Sum = "sha256:" + hex.EncodeToString(h.Sum(nil))
	case limit != 0:
		rest := r
		if limit > 0 {
			rest = io.LimitReader(r, max(limit-int64(len(head)), 0))
		}
		b, err := io.ReadAll(io.MultiReader(bytes.NewReader(head), rest))
		if err != nil {
			return fmt.Errorf("reading /%s: %w", name, err)
		}
		if limit > 0 && int64(len(b)) > limit {
			b = b[:limit]
		}
		e.Data = b
	}
	return nil
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

// Reset forgets every kept scan (for benchmarks that measure a cold
// process).
func Reset() {
	cache.Lock()
	clear(cache.m)
	cache.Unlock()
}
