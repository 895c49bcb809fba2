// Package hashed remembers, for the process, files whose bytes were
// hashed to their digest as they were written or checked, so that a blob
// checked once in a run (a base layer fetched into the blob pool, a store
// blob the pool checked, a blob an export committed) is not hashed again
// when the same file, or a hard link to it, is read again in that run
// (the verify gate reads the export's layout; the store links it in).
//
// A file is the one recorded while it is the same file (os.SameFile:
// device and inode), of the same size and modification time: a write to
// it moves the time on, at the file system's clock granularity (a few
// milliseconds on Linux's local file systems; a second on some network
// and FUSE mounts, where a write within that second of the hash goes
// unseen). Damage that changes no metadata is not seen either: only files
// hashed by this process are recorded, and a process lives for one run.
package hashed

import (
	"os"
	"sync"

	"github.com/lambdaimg/lambdaimg/internal/fileutil"
	"github.com/opencontainers/go-digest"
)

// maxPerDigest bounds the files kept per digest (links of one file count
// once).
const maxPerDigest = 8

var files = struct {
	sync.Mutex
	m map[digest.Digest][]os.FileInfo
}{m: map[digest.Digest][]os.FileInfo{}}

// Record says that the file at path holds the content d names: its bytes
// were hashed to d by the caller, now. A file that cannot be stat'ed is
// not recorded.
func Record(path string, d digest.Digest) {
	if fi, err := os.Stat(path); err == nil {
		RecordInfo(fi, d)
	}
}

// RecordInfo is Record for the file fi describes (from Stat on the handle
// whose bytes were hashed, so that a file renamed over its path meanwhile
// is not the one recorded).
func RecordInfo(fi os.FileInfo, d digest.Digest) {
	if !fi.Mode().IsRegular() {
		return
	}
	files.Lock()
	defer files.Unlock()
	kept := files.m[d]
	for i, k := range kept {
		if os.SameFile(k, fi) {
			kept[i] = fi
			return
		}
	}
	if len(kept) >= maxPerDigest {
		kept = kept[1:]
	}
	files.m[d] = append(kept, fi)
}

// Known reports whether the file at path was recorded for d and has not
// changed since (see the package's doc).
func Known(path string, d digest.Digest) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	files.Lock()
	defer files.Unlock()
	for _, k := range files.m[d] {
		if os.SameFile(k, fi) && k.Size() == fi.Size() && k.ModTime().Equal(fi.ModTime()) {
			return true
		}
	}
	return false
}

// Verify checks that the file at path holds the content d names, as
// fileutil.Verify does, and records it when it does and did not change
// while it was hashed. A file Known for d is not hashed again.
func Verify(path string, d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if Known(path, d) {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return err
	}
	if err := fileutil.VerifyReader(f, d); err != nil {
		return err
	}
	if after, err := f.Stat(); err == nil && after.Size() == before.Size() && after.ModTime().Equal(before.ModTime()) {
		RecordInfo(before, d)
	}
	return nil
}

// Reset forgets every file (for tests).
func Reset() {
	files.Lock()
	clear(files.m)
	files.Unlock()
}
