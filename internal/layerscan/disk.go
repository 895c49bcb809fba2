package layerscan

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
)

// Version names what read computes and how a Scan is written: a record
// kept by another version is not used. Change it with either.
const Version = "1"

// disk is where scans are kept across processes (see KeepIn).
var disk struct {
	sync.Mutex
	dir string
}

// diskMax bounds the records kept: past it, writing one removes the least
// recently used (by modification time: a record used is touched).
const diskMax = 256

// KeepIn keeps the scans of intact layers in dir across processes as
// well: one gzip-compressed JSON record per layer, named by the layer's
// digest and Version, at most diskMax of them. A record is used, like a
// scan kept in memory, only when the layer's bytes hash to its digest;
// one that cannot be read, or names another digest, size or version, is
// ignored and the layer read in full. "" (the default) keeps none.
func KeepIn(dir string) {
	disk.Lock()
	disk.dir = dir
	disk.Unlock()
}

func diskDir() string {
	disk.Lock()
	defer disk.Unlock()
	return disk.dir
}

// record is what a kept file holds.
type record struct {
	Version string
	Scan    *Scan
}

func recordPath(dir string, d v1.Hash) string {
	return filepath.Join(dir, d.Algorithm, d.Hex+"-v"+Version+".json.gz")
}

// load returns the scan kept in dir for the layer d of size bytes, or nil.
// The caller still checks that the layer's bytes hash to d (or knows:
// Intact).
func load(dir string, d v1.Hash, size int64) *Scan {
	if dir == "" {
		return nil
	}
	p := recordPath(dir, d)
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil
	}
	// All of it, so that gzip checks its CRC and length at the end.
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil
	}
	var r record
	if json.Unmarshal(data, &r) != nil || r.Version != Version || r.Scan == nil || !r.Scan.Intact(d, size) {
		return nil
	}
	now := time.Now()
	os.Chtimes(p, now, now) // used: the last to go
	return r.Scan
}

// save writes s (the scan of an intact layer) to dir through a temporary
// file renamed into place, then removes the least recently used records
// past diskMax. Failing, it keeps nothing: the layer is read again.
func save(dir string, s *Scan) {
	if dir == "" {
		return
	}
	p := recordPath(dir, s.Blob)
	if os.MkdirAll(filepath.Dir(p), 0o755) != nil {
		return
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-"+s.Blob.Hex+"-")
	if err != nil {
		return
	}
	defer os.Remove(f.Name()) // a no-op after the rename
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	err = json.NewEncoder(zw).Encode(record{Version: Version, Scan: s})
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || os.Rename(f.Name(), p) != nil {
		return
	}
	evict(filepath.Dir(p), diskMax)
}

// evict removes the oldest records in dir past keep.
func evict(dir string, keep int) {
	es, err := os.ReadDir(dir)
	if err != nil || len(es) <= keep {
		return
	}
	type rec struct {
		name string
		mod  time.Time
	}
	var rs []rec
	for _, e := range es {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			rs = append(rs, rec{e.Name(), fi.ModTime()})
		}
	}
	slices.SortFunc(rs, func(a, b rec) int { return a.mod.Compare(b.mod) })
	for _, r := range rs[:max(len(rs)-keep, 0)] {
		os.Remove(filepath.Join(dir, r.name))
	}
}
