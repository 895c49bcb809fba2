// Package hashed remembers, for the process, files whose bytes were
// hashed to their digest as they were written or read, so that a blob
// checked once in a run (a base layer fetched into the blob pool, a blob
// an export committed) is not hashed again when the same file, or a hard
// link to it, is read again in that run (the verify gate reads the
// export's layout; the store links it in).
//
// A file is the one recorded while it is the same file (os.SameFile:
// device and inode), of the same size and modification time: a write to
// it changes the time (at the file system's clock granularity, a few
// milliseconds on Linux). Damage that changes no metadata, on disk in
// the seconds of a run, is not seen: only files this process just wrote
// and checked are recorded, never a file of an earlier run.
package hashed

import (
	"os"
	"sync"

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
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
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

// Reset forgets every file (for tests).
func Reset() {
	files.Lock()
	clear(files.m)
	files.Unlock()
}
