package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/lambdaimg/lambdaimg/internal/hashed"
	"github.com/opencontainers/go-digest"
)

// A Memo records which images passed verification, so that a gate asked
// again about the same image (an unchanged image in the store, checked on
// every build) replays the outcome instead of decompressing every layer.
//
// The record of an image is a file named by its manifest digest holding a
// key and the Report. The key is what else the outcome depends on: the
// Verifier's options, the descriptor's platform and the lambdaimg binary
// itself (the sha256 of the running executable, so that any change to the
// checks, or to anything else, starts over). A record is used only after
// every blob of the image (manifest, config, layers) was read in full and
// hashed to its digest and size (a layer file this process hashed as it
// wrote it, package hashed knows, is not hashed again): the bytes are then the bytes that
// passed, and the same checks on the same bytes give the same outcome. A
// damaged, missing or foreign blob, or an unreadable record, means no
// replay: the image is verified in full, as without a Memo. Only passes are
// recorded.
type Memo struct{ dir string }

// NewMemo returns a Memo keeping its records in dir (created when first
// written).
func NewMemo(dir string) *Memo { return &Memo{dir: dir} }

// memoRecord is one file of a Memo.
type memoRecord struct {
	Key    string `json:"key"`
	Report Report `json:"report"`
}

// memoVersion changes when memoRecord or the key's parts change.
const memoVersion = "1"

// binaryID is the sha256 of the running executable, or an error when it
// cannot be read (then nothing is recorded or replayed).
var binaryID = sync.OnceValues(func() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
})

// key is what, besides the image's bytes, the outcome of checking desc
// with v depends on.
func memoKey(v *Verifier, desc v1.Descriptor) (string, error) {
	bin, err := binaryID()
	if err != nil {
		return "", err
	}
	plat := ""
	if desc.Platform != nil {
		plat = desc.Platform.String()
	}
	b, err := json.Marshal([]any{memoVersion, bin, v.maxSize, v.maxSettings, v.cmdRule, plat})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func (m *Memo) path(d v1.Hash) string {
	return filepath.Join(m.dir, d.Algorithm+"-"+d.Hex+".json")
}

// lookup returns the recorded Report of the image desc in the layout at
// layoutDir when there is one under key and every blob of the image is
// intact.
func (m *Memo) lookup(layoutDir string, desc v1.Descriptor, key string) (Report, bool) {
	b, err := os.ReadFile(m.path(desc.Digest))
	if err != nil {
		return Report{}, false
	}
	var r memoRecord
	if err := json.Unmarshal(b, &r); err != nil || r.Key != key || r.Report.Digest != desc.Digest.String() || r.Report.Failed() {
		return Report{}, false
	}
	if err := intact(layoutDir, desc); err != nil {
		return Report{}, false
	}
	return r.Report, true
}

// record writes rep (a pass) for desc under key, through a temporary file
// so that a reader never sees half a record.
func (m *Memo) record(desc v1.Descriptor, key string, rep Report) error {
	if rep.Failed() {
		return errors.New("only passes are recorded")
	}
	b, err := json.Marshal(memoRecord{Key: key, Report: rep})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(m.dir, ".record-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op after the rename
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), m.path(desc.Digest))
}

// intact reads every blob of the image desc in the layout at dir and
// checks its size and sha256: the manifest against desc, the config and
// the layers against the manifest.
func intact(dir string, desc v1.Descriptor) error {
	p := layout.Path(dir)
	raw, err := readBlob(p, desc.Digest, desc.Size)
	if err != nil {
		return err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	if _, err := readBlob(p, m.Config.Digest, m.Config.Size); err != nil {
		return err
	}
	for _, l := range m.Layers {
		if err := hashBlob(p, l.Digest, l.Size); err != nil {
			return err
		}
	}
	return nil
}

// readBlob reads a small blob (a manifest, a config) and checks it.
func readBlob(p layout.Path, h v1.Hash, size int64) ([]byte, error) {
	b, err := p.Bytes(h)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	if h.Algorithm != "sha256" || hex.EncodeToString(sum[:]) != h.Hex || int64(len(b)) != size {
		return nil, fmt.Errorf("blob %s: %d bytes with digest sha256:%x", h, len(b), sum)
	}
	return b, nil
}

// hashBlob streams a blob (a layer) through sha256 and checks it, unless
// package hashed knows its file was hashed as this process wrote it.
func hashBlob(p layout.Path, h v1.Hash, size int64) error {
	if f := blobFile(string(p), h); hashed.Known(f, digest.Digest(h.String())) {
		if fi, err := os.Stat(f); err == nil && fi.Size() == size {
			return nil // hashed as this process wrote it
		}
	}
	rc, err := p.Blob(h)
	if err != nil {
		return err
	}
	defer rc.Close()
	got, n, err := v1.SHA256(rc)
	if err != nil {
		return err
	}
	if got != h || n != size {
		return fmt.Errorf("blob %s: %d bytes with digest %s", h, n, got)
	}
	return nil
}

// blobFile is the file of the blob h in the layout at dir.
func blobFile(dir string, h v1.Hash) string {
	return filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
}
