package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lambdaimg/lambdaimg/internal/flock"
	"github.com/lambdaimg/lambdaimg/pkg/labels"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
)

// Annotations on each manifest descriptor in index.json (names from
// pkg/labels).
const (
	AnnRefName  = labels.RefName // runtime/variant/arch
	AnnCreated  = labels.Created
	AnnRuntime  = labels.Runtime
	AnnVariant  = labels.Variant
	AnnArch     = labels.Arch
	AnnImage    = labels.Image
	AnnTags     = labels.Tags
	AnnDefault  = labels.Default
	AnnInputs   = labels.Inputs
	AnnBuildKey = labels.BuildKey
	AnnTested   = labels.Tested
)

// Ref names one image in the store.
type Ref struct {
	Runtime string
	Variant string
	Arch    string // x86_64 or arm64
}

// Name is the ref.name annotation: runtime/variant/arch.
func (r Ref) Name() string { return r.Runtime + "/" + r.Variant + "/" + r.Arch }

// Platform is the image's OCI platform.
func (r Ref) Platform() v1.Platform {
	arch := r.Arch
	if arch == "x86_64" {
		arch = "amd64"
	}
	return v1.Platform{OS: "linux", Architecture: arch}
}

// Entry is one image in the store.
type Entry struct {
	Ref
	Descriptor v1.Descriptor
	Image      string   // AWS's repository name for the language
	Tags       []string // the catalog's tags
	Default    bool
	Inputs     string
	BuildKey   string
	Created    string
}

// Store is an OCI image layout directory.
type Store struct {
	dir  string
	path layout.Path
	// recovered is set when Open restored index.json from its copy.
	recovered *RecoveredError
}

// RecoveredError says that Open found index.json damaged and restored the
// copy kept before the last change: the change in progress (often the
// newest stored image) is lost.
type RecoveredError struct {
	Index    string   // the damaged file
	Restored []string // ref names in the restored index
	Cause    error
}

func (e *RecoveredError) Error() string {
	return fmt.Sprintf("%s was damaged (%v) and was restored from the copy made before the last change; "+
		"the image stored by that change is lost (rebuild it); the store now holds %d image(s)", e.Index, e.Cause, len(e.Restored))
}

// Recovered returns what Open had to restore, or nil: callers should warn
// with it, since an image may have to be rebuilt.
func (s *Store) Recovered() *RecoveredError { return s.recovered }

// DefaultDir is where images go unless --store says otherwise:
// $LAMBDAIMG_STORE, else <user data dir>/lambdaimg/store.
func DefaultDir() string {
	if d := os.Getenv("LAMBDAIMG_STORE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "lambdaimg", "store")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "lambdaimg", "store")
	}
	return filepath.Join(os.TempDir(), "lambdaimg-store")
}

// Open opens the store at dir, creating an empty layout if there is none.
// An index.json left unreadable by a crash mid-write is restored from the
// copy kept before every change.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	s := &Store{dir: dir}
	err := s.lock(exclusive, func() error {
		index := filepath.Join(dir, "index.json")
		if _, err := os.Stat(index); err != nil {
			p, err := layout.Write(dir, empty.Index)
			s.path = p
			return err
		}
		if data, err := os.ReadFile(index); err != nil || !json.Valid(data) {
			if err == nil {
				err = errors.New("not valid JSON")
			}
			prev, perr := os.ReadFile(index + ".prev")
			if perr != nil || !json.Valid(prev) {
				return fmt.Errorf("%s is damaged and there is no good copy to restore (%v)", index, err)
			}
			// Keep the damaged file for inspection, then restore.
			_ = os.WriteFile(index+".damaged", data, 0o644)
			if err := atomicWrite(index, prev); err != nil {
				return err
			}
			rec := &RecoveredError{Index: index, Cause: err}
			var m v1.IndexManifest
			if json.Unmarshal(prev, &m) == nil {
				for _, d := range m.Manifests {
					if n := d.Annotations[AnnRefName]; n != "" {
						rec.Restored = append(rec.Restored, n)
					}
				}
			}
			s.recovered = rec
		}
		p, err := layout.FromPath(dir)
		s.path = p
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", dir, err)
	}
	return s, nil
}

// atomicWrite replaces path with data through a rename.
func atomicWrite(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// keepCopy saves index.json before it is changed in place, so a crash in
// the middle can be undone by Open.
func (s *Store) keepCopy() error {
	index := filepath.Join(s.dir, "index.json")
	data, err := os.ReadFile(index)
	if err != nil {
		return err
	}
	return atomicWrite(index+".prev", data)
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// How the store is locked: exclusively to change it, shared to read it.
const (
	exclusive = true
	shared    = false
)

// lock holds a lock on the store (exclusive or shared) for the duration of
// fn, so concurrent builds, pushes and lists, even from several processes,
// never lose or half-read an entry.
func (s *Store) lock(excl bool, fn func() error) error {
	f, err := os.OpenFile(filepath.Join(s.dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := flock.Lock(f, excl); err != nil {
		return err
	}
	defer flock.Unlock(f)
	return fn()
}

// Put stores img under ref, replacing what was there, with ann added to
// the descriptor's annotations. It returns the stored descriptor.
func (s *Store) Put(ref Ref, img v1.Image, ann map[string]string) (v1.Descriptor, error) {
	annotations := map[string]string{
		AnnRefName: ref.Name(),
		AnnRuntime: ref.Runtime,
		AnnVariant: ref.Variant,
		AnnArch:    ref.Arch,
	}
	for k, v := range ann {
		annotations[k] = v
	}
	plat := ref.Platform()
	var desc v1.Descriptor
	err := s.lock(exclusive, func() error {
		if err := s.keepCopy(); err != nil {
			return err
		}
		if err := s.writeBlobs(img); err != nil {
			return err
		}
		if err := s.path.ReplaceImage(img, match.Annotation(AnnRefName, ref.Name()),
			layout.WithAnnotations(annotations), layout.WithPlatform(plat)); err != nil {
			return err
		}
		e, ok, err := s.getLocked(ref)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("image missing right after writing it")
		}
		desc = e.Descriptor
		return nil
	})
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("storing %s: %w", ref.Name(), err)
	}
	return desc, nil
}

// Remove drops ref from the index (its blobs stay until GC).
func (s *Store) Remove(ref Ref) error {
	return s.lock(exclusive, func() error {
		if err := s.keepCopy(); err != nil {
			return err
		}
		return s.path.RemoveDescriptors(match.Annotation(AnnRefName, ref.Name()))
	})
}

// List returns every image in the store, sorted by ref name.
func (s *Store) List() ([]Entry, error) {
	var out []Entry
	err := s.lock(shared, func() error {
		var err error
		out, err = s.listLocked()
		return err
	})
	return out, err
}

func (s *Store) listLocked() ([]Entry, error) {
	ii, err := s.path.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("reading store %s: %w", s.dir, err)
	}
	m, err := ii.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading store %s: %w", s.dir, err)
	}
	var out []Entry
	for _, d := range m.Manifests {
		a := d.Annotations
		if a[AnnRuntime] == "" {
			continue // not ours
		}
		e := Entry{
			Ref:        Ref{Runtime: a[AnnRuntime], Variant: a[AnnVariant], Arch: a[AnnArch]},
			Descriptor: d,
			Image:      a[AnnImage],
			Default:    a[AnnDefault] == "true",
			Inputs:     a[AnnInputs],
			BuildKey:   a[AnnBuildKey],
			Created:    a[AnnCreated],
		}
		if a[AnnTags] != "" {
			e.Tags = strings.Split(a[AnnTags], ",")
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// Get returns the entry for ref.
func (s *Store) Get(ref Ref) (Entry, bool, error) {
	var e Entry
	var ok bool
	err := s.lock(shared, func() error {
		var err error
		e, ok, err = s.getLocked(ref)
		return err
	})
	return e, ok, err
}

func (s *Store) getLocked(ref Ref) (Entry, bool, error) {
	all, err := s.listLocked()
	if err != nil {
		return Entry{}, false, err
	}
	for _, e := range all {
		if e.Name() == ref.Name() {
			return e, true, nil
		}
	}
	return Entry{}, false, nil
}

// Image returns the stored image of e.
func (s *Store) Image(e Entry) (v1.Image, error) {
	return s.path.Image(e.Descriptor.Digest)
}

// Unchanged returns the stored entry of ref and its image when the entry
// was built with buildKey: the "unchanged since stored" lookup.
func (s *Store) Unchanged(ref Ref, buildKey string) (Entry, v1.Image, bool) {
	e, ok, err := s.Get(ref)
	if err != nil || !ok || e.BuildKey != buildKey {
		return Entry{}, nil, false
	}
	img, err := s.Image(e)
	if err != nil {
		return Entry{}, nil, false
	}
	if err := s.CheckBlobs(img, false); err != nil {
		return Entry{}, nil, false // damaged: rebuild
	}
	return e, img, true
}

// ReadIndex opens the OCI layout at dir (the store's or any other) and
// reads its index.json.
func ReadIndex(dir string) (v1.ImageIndex, *v1.IndexManifest, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the OCI layout %s: %w", dir, err)
	}
	ii, err := p.ImageIndex()
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	return ii, im, nil
}

// SingleImage returns the one image manifest of the layout at dir; an index
// holding more than one manifest (attestations, several platforms) is an
// error, since Lambda deploys single-platform manifests only.
func SingleImage(dir string) (v1.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, err
	}
	ii, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	for depth := 0; depth < 4; depth++ {
		m, err := ii.IndexManifest()
		if err != nil {
			return nil, err
		}
		if len(m.Manifests) != 1 {
			return nil, fmt.Errorf("the build produced %d manifests, want exactly one image", len(m.Manifests))
		}
		d := m.Manifests[0]
		if d.MediaType.IsImage() {
			return ii.Image(d.Digest)
		}
		if !d.MediaType.IsIndex() {
			return nil, fmt.Errorf("unexpected media type %s", d.MediaType)
		}
		if ii, err = ii.ImageIndex(d.Digest); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("index nested too deep")
}
