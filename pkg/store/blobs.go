package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/opencontainers/go-digest"

	"github.com/lambdaimg/lambdaimg/internal/fileutil"
	"github.com/lambdaimg/lambdaimg/internal/hashed"
)

// CheckBlobs checks that the manifest, the config and every layer blob of
// img are in the store: the manifest and config by their digests (they are
// small), the layers by the sizes the manifest recorded at store time,
// and by digest too when full is set or a size differs.
func (s *Store) CheckBlobs(img v1.Image, full bool) error {
	m, err := img.Manifest()
	if err != nil {
		return err
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	if err := s.checkBlob(d, -1, true); err != nil {
		return err
	}
	if err := s.checkBlob(m.Config.Digest, m.Config.Size, true); err != nil {
		return err
	}
	for _, l := range m.Layers {
		if err := s.checkBlob(l.Digest, l.Size, full); err != nil {
			return err
		}
	}
	return nil
}

// checkBlob checks the blob h: its size (unless size < 0) and, when full or
// when the size is wrong, its digest.
func (s *Store) checkBlob(h v1.Hash, size int64, full bool) error {
	p := filepath.Join(s.dir, "blobs", h.Algorithm, h.Hex)
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("blob %s: %w", h, err)
	}
	if size >= 0 && fi.Size() != size {
		return fmt.Errorf("blob %s: %d bytes, want %d", h, fi.Size(), size)
	}
	if !full {
		return nil
	}
	return fileutil.Verify(p, digest.Digest(h.String()))
}

// linkSeq makes LinkBlobs' temporary names unique within the process.
var linkSeq atomic.Uint64

// LinkBlobs hard-links the blobs of the OCI layout at dir into the store
// (copying where a link is impossible), so that storing an image from that
// layout writes no layer again. Each blob goes in under a temporary name
// and is renamed only after its digest is checked (hashed, unless package
// hashed knows the file was hashed in this process); a blob already in
// the store is kept only when it has the same size as the new one and,
// when verify is set, the right digest: a damaged blob is replaced.
func (s *Store) LinkBlobs(dir string, verify bool) error {
	src := filepath.Join(dir, "blobs", "sha256")
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	dst := filepath.Join(s.dir, "blobs", "sha256")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		h, err := v1.NewHash("sha256:" + e.Name())
		if err != nil || !e.Type().IsRegular() {
			continue
		}
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		sfi, err := os.Stat(from)
		if err != nil {
			return err
		}
		if fi, err := os.Stat(to); err == nil && fi.Size() == sfi.Size() && (!verify || fileutil.Verify(to, digest.Digest(h.String())) == nil) {
			continue
		}
		// One name per call: jobs of one run link the same base layers
		// at once, and with a shared name one renames the other's away.
		tmp := fmt.Sprintf("%s.tmp-%d-%d", to, os.Getpid(), linkSeq.Add(1))
		os.Remove(tmp)
		if err := os.Link(from, tmp); err != nil {
			return nil // another filesystem: Put copies the blobs instead
		}
		// A blob this process hashed (an export through the blob pool:
		// taken in by the pool, or committed, or a store blob the pool
		// checked) is not hashed again.
		if d := digest.Digest(h.String()); !hashed.Known(tmp, d) {
			if err := fileutil.Verify(tmp, d); err != nil {
				os.Remove(tmp)
				return fmt.Errorf("the build's blob %s is damaged: %w", e.Name(), err)
			}
		}
		if err := os.Rename(tmp, to); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	return nil
}

// writeBlobs writes the blobs of img that are missing or have the wrong
// size, each to a temporary name renamed into place only after its digest
// is checked, so that a crash or a bad source never leaves a blob whose
// content does not match its name. (ggcr's layout writes to the final
// name and then skips blobs of the right size.)
func (s *Store) writeBlobs(img v1.Image) error {
	ls, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range ls {
		h, err := l.Digest()
		if err != nil {
			return err
		}
		size, err := l.Size()
		if err != nil {
			return err
		}
		if err := s.writeBlob(h, size, l.Compressed); err != nil {
			return err
		}
	}
	for _, raw := range []func() ([]byte, error){img.RawConfigFile, img.RawManifest} {
		b, err := raw()
		if err != nil {
			return err
		}
		h, _, err := v1.SHA256(bytes.NewReader(b))
		if err != nil {
			return err
		}
		if err := s.writeBlob(h, int64(len(b)), func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) writeBlob(h v1.Hash, size int64, open func() (io.ReadCloser, error)) error {
	dir := filepath.Join(s.dir, "blobs", h.Algorithm)
	to := filepath.Join(dir, h.Hex)
	if fi, err := os.Stat(to); err == nil && fi.Size() == size {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rc, err := open()
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.CreateTemp(dir, h.Hex+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op after the rename
	hasher := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, hasher), rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing blob %s: %w", h, err)
	}
	if got := hex.EncodeToString(hasher.Sum(nil)); got != h.Hex || n != size {
		return fmt.Errorf("writing blob %s: got %d bytes with digest sha256:%s, want %d bytes", h, n, got, size)
	}
	return os.Rename(f.Name(), to)
}
