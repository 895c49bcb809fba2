package osindex

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"pault.ag/go/debian/control"
)

// release is what this package reads of a Release or InRelease file.
type release struct {
	control.Paragraph
	NotAutomatic  string
	Architectures string
	NoArchAll     string                   `control:"No-Support-for-Architecture-all"`
	AcquireByHash string                   `control:"Acquire-By-Hash"`
	SHA256        []control.SHA256FileHash `control:"SHA256" delim:"\n" strip:"\n\r\t "`
}

// path is where f is read from: by its hash where the repository offers
// that (Acquire-By-Hash), as apt does, so that a mirror updated between
// the Release and the index cannot hand over a mismatched pair.
func (rel *release) path(f control.SHA256FileHash) string {
	if strings.EqualFold(rel.AcquireByHash, "yes") {
		return f.ByHashPath(f.Filename)
	}
	return f.Filename
}

// dist is the directory of a source's Release file and its index files.
func dist(s Source) string {
	if s.Flat() {
		return s.URI + "/" + strings.TrimSuffix(s.Suite, "/")
	}
	return s.URI + "/dists/" + s.Suite
}

// release returns the source's InRelease, or else its Release (the
// signature is not checked; see the package documentation).
func (c *Client) release(ctx context.Context, s Source) (*release, error) {
	v, err := c.once("release "+dist(s), func() (any, error) {
		var rel *release
		var err error
		for _, name := range []string{"InRelease", "Release"} {
			err = c.get(ctx, dist(s)+"/"+name, func(r io.Reader) error {
				data, err := io.ReadAll(r)
				if err != nil {
					return err
				}
				rel, err = parseRelease(data)
				return err
			})
			if !errors.Is(err, errNotFound) {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", s, err)
		}
		return rel, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*release), nil
}

func parseRelease(data []byte) (*release, error) {
	pr, err := control.NewParagraphReader(bytes.NewReader(data), nil)
	if err != nil {
		return nil, err
	}
	p, err := pr.Next()
	if err != nil {
		return nil, fmt.Errorf("a Release file without fields: %w", err)
	}
	var rel release
	if err := control.UnpackFromParagraph(*p, &rel); err != nil {
		return nil, err
	}
	return &rel, nil
}

// indexFile is one Packages index a Release lists: its uncompressed name
// and hash (what the index state is made of) and the file to download.
type indexFile struct {
	name, sha256 string // Packages, as listed (else the fetched file's)
	fetch        control.SHA256FileHash
}

// compressions in the order they are preferred for downloading: gzip
// first, because Go's xz decoder (github.com/ulikunitz/xz) takes about 6
// seconds for Debian main's 50 MB index, gzip a fraction of a second, for
// a download a third larger.
var compressions = []string{".gz", ".xz", ""}

// archAll reports whether the repository keeps Architecture: all
// packages in binary-all indexes of their own, which apt then reads: the
// Release's Architectures name "all", and it does not say they are in
// every architecture's index (No-Support-for-Architecture-all: Packages,
// as Debian's main archive says).
func (rel *release) archAll() bool {
	return has(strings.Fields(rel.Architectures), "all") && !strings.EqualFold(strings.TrimSpace(rel.NoArchAll), "Packages")
}

// indexes returns the Packages files of s for arch: per component,
// binary-ARCH, and binary-all where apt reads it (archAll), as the
// Release lists them. A source whose Release lists none for arch is an
// error: a typo in a suite or component would otherwise look like an
// empty repository.
func (rel *release) indexes(s Source, arch string) ([]indexFile, error) {
	listed := map[string]control.SHA256FileHash{}
	for _, h := range rel.SHA256 {
		listed[h.Filename] = h
	}
	var dirs []string
	if s.Flat() {
		dirs = []string{""}
	}
	for _, comp := range s.Components {
		dirs = append(dirs, comp+"/binary-"+arch)
		if rel.archAll() {
			dirs = append(dirs, comp+"/binary-all")
		}
	}
	var out []indexFile
	for _, d := range dirs {
		base := path.Join(d, "Packages")
		for _, ext := range compressions {
			h, ok := listed[base+ext]
			if !ok {
				continue
			}
			f := indexFile{name: base, sha256: h.Hash, fetch: h}
			if plain, ok := listed[base]; ok {
				f.sha256 = plain.Hash
			}
			out = append(out, f)
			break
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("source %q: its Release lists no Packages index for %s", s, arch)
	}
	return out, nil
}
