package inventory

import (
	"archive/tar"
	"context"
	"fmt"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/internal/layerscan"
)

// Read does not flatten the image (ggcr's mutate.Extract): it takes each
// layer's scan from layerscan (every entry's name, and the contents of
// the few files it looks at; kept by the layer's digest) and merges the
// scans top-down with mutate.Extract's rules. A build reads the inventory
// of its base image and of the images built on it, which share the base's
// layers (the 48 MB Debian layer under every provided.* image), and
// verifies the same layers: each distinct layer is decompressed once per
// process, not once per image and reader.

// The tar names of whiteouts (as in ggcr's mutate).
const (
	whiteoutPrefix = ".wh."
	opaqueWhiteout = ".wh..wh..opq"
)

// entry is one tar entry of a layer as mutate.Extract sees it.
type entry struct {
	// name is the path the entry claims: the cleaned tar name, without
	// the whiteout prefix for a tombstone.
	name      string
	dir       bool // a directory, or an opaque marker's directory
	tombstone bool // a .wh. file
	opaque    bool // a .wh..wh..opq marker: name is its directory
	file      *wanted
}

// wanted is a regular file whose contents Read uses.
type wanted struct {
	tarName string // the cleaned tar name
	data    []byte // the contents (apt sources: the first MiB; os-release: 64 KiB)
	sum     string // RIEPath: sha256 of the contents; data is nil
}

// layerScan is what Read needs of one layer.
type layerScan struct {
	entries []entry
}

// scanOf returns the entries of l. The layer is read by layerscan, which
// keeps the scans of intact layers for the process (the verify gate reads
// the same layers of a build).
func scanOf(l v1.Layer) (*layerScan, error) {
	ls, err := layerscan.Read(context.Background(), l)
	if err != nil {
		return nil, fmt.Errorf("reading layer contents: %w", err)
	}
	s := &layerScan{entries: make([]entry, 0, len(ls.Entries))}
	for i := range ls.Entries {
		le := &ls.Entries[i]
		hdr := &tar.Header{Name: le.Name, Typeflag: le.Typeflag, Linkname: le.Linkname}
		e, ok, err := newEntry(hdr)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if le.Typeflag == tar.TypeReg && !e.tombstone && !e.opaque {
			name := path.Clean(le.Name)
			if limit, sum := layerscan.Kept(name); limit != 0 || sum {
				e.file = &wanted{tarName: name, data: le.Data, sum: le.Sum}
			}
		}
		s.entries = append(s.entries, e)
	}
	return s, nil
}

// newEntry is hdr as mutate.Extract names it; ok is false for an entry
// Extract drops (a relative link that leaves the root file system), err
// set for one it refuses (a path that leaves it).
func newEntry(hdr *tar.Header) (e entry, ok bool, err error) {
	name := path.Clean(hdr.Name)
	if unsafeArchivePath(name) {
		return e, false, fmt.Errorf("unsafe tar path %q", name)
	}
	if (hdr.Typeflag == tar.TypeSymlink || hdr.Typeflag == tar.TypeLink) && unsafeRelativeLink(name, hdr.Linkname) {
		return e, false, nil
	}
	dirname, basename := path.Dir(name), path.Base(name)
	if basename == opaqueWhiteout {
		return entry{name: dirname, opaque: true}, true, nil
	}
	e.tombstone = strings.HasPrefix(basename, whiteoutPrefix)
	e.dir = hdr.Typeflag == tar.TypeDir
	switch {
	case e.dir:
		e.name = name
	case e.tombstone:
		e.name = path.Join(dirname, strings.TrimPrefix(basename, whiteoutPrefix))
	default:
		e.name = path.Join(dirname, basename)
	}
	return e, true, nil
}

// merge calls visit with the wanted files of the image the layers make
// (bottom first), in the order mutate.Extract writes them: top layer
// first, whiteouts and opaque directories applied.
func merge(layers []*layerScan, visit func(*wanted) error) error {
	fileMap, opaqueDirs := map[string]bool{}, map[string]bool{}
	for i := len(layers) - 1; i >= 0; i-- {
		layerOpaque := map[string]bool{}
		for _, e := range layers[i].entries {
			if e.opaque {
				layerOpaque[e.name] = true
				continue
			}
			if _, ok := fileMap[e.name]; ok && !e.tombstone {
				continue
			}
			if inDir(fileMap, e.name) || inDir(opaqueDirs, e.name) {
				continue
			}
			fileMap[e.name] = e.tombstone || !e.dir
			if !e.tombstone && e.file != nil {
				if err := visit(e.file); err != nil {
					return err
				}
			}
		}
		for d := range layerOpaque {
			opaqueDirs[d] = true
		}
	}
	return nil
}

// inDir reports whether a parent directory of file is set in m
// (mutate's inWhiteoutDir and inOpaqueDir).
func inDir(m map[string]bool, file string) bool {
	for file != "" {
		dirname := path.Dir(file)
		if file == dirname {
			break
		}
		if m[dirname] {
			return true
		}
		file = dirname
	}
	return false
}

// unsafeArchivePath and unsafeRelativeLink are mutate's.
func unsafeArchivePath(name string) bool {
	clean := cleanArchivePath(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return true
	}
	if strings.HasPrefix(name, "\\") {
		return true
	}
	return hasWindowsDrivePrefix(clean)
}

func unsafeRelativeLink(name, linkname string) bool {
	clean := cleanArchivePath(linkname)
	if path.IsAbs(clean) {
		return false
	}
	if hasWindowsDrivePrefix(clean) {
		return true
	}
	resolved := path.Clean(path.Join(path.Dir(name), clean))
	return strings.HasPrefix(resolved, "..")
}

func cleanArchivePath(name string) string {
	return path.Clean(strings.ReplaceAll(name, "\\", "/"))
}

func hasWindowsDrivePrefix(name string) bool {
	return len(name) >= 2 &&
		(('A' <= name[0] && name[0] <= 'Z') || ('a' <= name[0] && name[0] <= 'z')) &&
		name[1] == ':'
}
