// Package blobpool keeps the blobs this machine already has where
// BuildKit's OCI export finds them, so that a builder does not send them
// again: the layers of a base image lambdaimg read from its registry while
// the build ran, the blobs of images exported earlier in the run, and
// those of lambdaimg's store. BuildKit asks the client's content store
// for a writer per blob and skips a blob the store reports it has
// (containerd's ErrAlreadyExists): the pool's store answers so for every
// blob it holds, after linking the pool's copy into the export's layout.
//
// Every blob in the pool hashes to its name: the pool takes in only bytes
// it hashed itself (Writer) and blobs containerd's content store committed
// (which it names by their hash); a blob of another directory it reads
// from (a store's) is used once it hashed to its name. Each blob hashed
// so (written, committed or checked) is recorded (package hashed): the
// readers of the export's layout later in the run, which holds links to
// the same files, need not hash it again.
package blobpool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"

	"github.com/lambdaimg/lambdaimg/internal/hashed"
)

// Pool is a directory of blobs (<dir>/<algorithm>/<hex>, as in an OCI
// layout's blobs directory) and others it reads from.
type Pool struct {
	dir  string
	also []string

	mu      sync.Mutex
	checked map[string]bool // a file of also: whether it hashes to its name
}

// New returns a pool that keeps blobs in dir (created when one is added)
// and also takes them from the blobs directories also (read only). A
// blob of also is used only once its bytes hashed to its name (once per
// Pool): a store's blob can be damaged on disk and keep its size.
func New(dir string, also ...string) *Pool {
	return &Pool{dir: dir, also: also, checked: map[string]bool{}}
}

// path is a file holding d, size bytes long (any size: 0), or "".
func (p *Pool) path(d digest.Digest, size int64) string {
	if d.Validate() != nil {
		return ""
	}
	for i, dir := range append([]string{p.dir}, p.also...) {
		f := filepath.Join(dir, d.Algorithm().String(), d.Encoded())
		fi, err := os.Stat(f)
		if err != nil || !fi.Mode().IsRegular() || size > 0 && fi.Size() != size {
			continue
		}
		if i == 0 || p.intact(f, d) {
			return f
		}
	}
	return ""
}

// intact reports whether the file f hashes to d, hashing it once.
func (p *Pool) intact(f string, d digest.Digest) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ok, seen := p.checked[f]
	if !seen {
		ok = hashed.Verify(f, d) == nil // recorded when intact
		p.checked[f] = ok
	}
	return ok
}

// Has reports whether the pool holds d, size bytes long (any size: 0).
func (p *Pool) Has(d digest.Digest, size int64) bool { return p.path(d, size) != "" }

// Open opens the pool's copy of d, size bytes long.
func (p *Pool) Open(d digest.Digest, size int64) (io.ReadCloser, error) {
	f := p.path(d, size)
	if f == "" {
		return nil, fmt.Errorf("blob %s: %w", d, os.ErrNotExist)
	}
	return os.Open(f)
}

var seq atomic.Int64

// link puts a hard link to from at to (through a temporary name, so that
// a reader never sees part of a file); one there already stays.
func link(from, to string) error {
	if _, err := os.Stat(to); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp-%d-%d", to, os.Getpid(), seq.Add(1))
	if err := os.Link(from, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, to); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// adopt links the committed blob at path, named d, into the pool.
func (p *Pool) adopt(d digest.Digest, path string) {
	link(path, filepath.Join(p.dir, d.Algorithm().String(), d.Encoded()))
}

// Writer takes in the blob d of size bytes: what is written is hashed,
// and Commit adds it to the pool only when it has d's hash and size.
func (p *Pool) Writer(d digest.Digest, size int64) (*Writer, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	dir := filepath.Join(p.dir, d.Algorithm().String())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".in-"+d.Encoded()+"-")
	if err != nil {
		return nil, err
	}
	return &Writer{f: f, d: d, size: size, h: d.Algorithm().Digester(), to: filepath.Join(dir, d.Encoded())}, nil
}

// A Writer is a blob being taken in; see Pool.Writer.
type Writer struct {
	f    *os.File
	d    digest.Digest
	size int64
	n    int64
	h    digest.Digester
	to   string
	err  error
}

func (w *Writer) Write(b []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.f.Write(b)
	w.h.Hash().Write(b[:n])
	w.n += int64(n)
	w.err = err
	return n, err
}

// Written is how many bytes were written.
func (w *Writer) Written() int64 { return w.n }

// Commit adds the blob to the pool if every byte of it was written
// intact; otherwise it removes what was written and says why.
func (w *Writer) Commit() error {
	defer os.Remove(w.f.Name()) // a no-op after the rename
	fi, err := w.f.Stat()       // the file the bytes hashed went to
	if w.err == nil {
		w.err = err
	}
	if err := w.f.Close(); w.err == nil {
		w.err = err
	}
	switch {
	case w.err != nil:
		return w.err
	case w.n != w.size:
		return fmt.Errorf("blob %s: %d bytes written, want %d", w.d, w.n, w.size)
	case w.h.Digest() != w.d:
		return fmt.Errorf("blob %s: the bytes written hash to %s", w.d, w.h.Digest())
	}
	if err := os.Rename(w.f.Name(), w.to); err != nil {
		return err
	}
	hashed.RecordInfo(fi, w.d)
	return nil
}

// Discard removes what was written.
func (w *Writer) Discard() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// Export returns the content store for BuildKit's OCI export into the
// layout directory dir (client.ExportEntry.OutputStore): containerd's
// local store over dir, whose writer, for a blob the pool holds, links the
// pool's copy into dir and reports that dir has it. The blobs the export
// sends are added to the pool once committed. The caller writes dir's
// index.json (BuildKit's client does so only for an OutputDir).
func (p *Pool) Export(dir string) (*ExportStore, error) {
	st, err := local.NewStore(dir)
	if err != nil {
		return nil, err
	}
	return &ExportStore{Store: st, pool: p, dir: dir}, nil
}

// ExportStore is the content store of one export; see Pool.Export.
type ExportStore struct {
	content.Store
	pool                        *Pool
	dir                         string
	received, local, localBlobs atomic.Int64
}

// Stats says what the export moved: the bytes the builder sent, and the
// bytes and blobs it did not send because the pool held them.
type Stats struct {
	Received, Local, LocalBlobs int64
}

// Stats is what the export has moved so far.
func (s *ExportStore) Stats() Stats {
	return Stats{Received: s.received.Load(), Local: s.local.Load(), LocalBlobs: s.localBlobs.Load()}
}

func (s *ExportStore) blobPath(d digest.Digest) string {
	return filepath.Join(s.dir, "blobs", d.Algorithm().String(), d.Encoded())
}

func (s *ExportStore) Writer(ctx context.Context, opts ...content.WriterOpt) (content.Writer, error) {
	var wo content.WriterOpts
	for _, o := range opts {
		if err := o(&wo); err != nil {
			return nil, err
		}
	}
	if d := wo.Desc.Digest; d != "" {
		if from := s.pool.path(d, wo.Desc.Size); from != "" && link(from, s.blobPath(d)) == nil {
			s.local.Add(wo.Desc.Size)
			s.localBlobs.Add(1)
			return nil, fmt.Errorf("content %v: %w", d, errdefs.ErrAlreadyExists)
		}
	}
	w, err := s.Store.Writer(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return &exportWriter{Writer: w, s: s}, nil
}

type exportWriter struct {
	content.Writer
	s *ExportStore
}

func (w *exportWriter) Write(b []byte) (int, error) {
	n, err := w.Writer.Write(b)
	w.s.received.Add(int64(n))
	return n, err
}

func (w *exportWriter) Commit(ctx context.Context, size int64, expected digest.Digest, opts ...content.Opt) error {
	err := w.Writer.Commit(ctx, size, expected, opts...)
	if err != nil && !errors.Is(err, errdefs.ErrAlreadyExists) {
		return err
	}
	// Committed, the blob is named by its hash (containerd checks an
	// expected digest, and names the file by the one it computed).
	if d := w.Writer.Digest(); d != "" {
		if err == nil {
			hashed.Record(w.s.blobPath(d), d) // the bytes just written, hashed by containerd
		}
		w.s.pool.adopt(d, w.s.blobPath(d))
	}
	return err
}
