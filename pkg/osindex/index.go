package osindex

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/ulikunitz/xz"
	"pault.ag/go/debian/control"
	"pault.ag/go/debian/version"
)

// State is a digest of the index state of srcs for arch: the SHA256 of
// every Packages file their Release files list for arch, so it changes
// when any package of the sources changes. It reads only the Release
// files.
func (c *Client) State(ctx context.Context, srcs []Source, arch string) (string, error) {
	h := sha256.New()
	n := 0
	for _, s := range srcs {
		if !s.ForArch(arch) {
			continue
		}
		rel, err := c.release(ctx, s)
		if err != nil {
			return "", err
		}
		files, err := rel.indexes(s, arch)
		if err != nil {
			return "", err
		}
		for _, f := range files {
			fmt.Fprintf(h, "%s %s %s %s\n", s.URI, s.Suite, f.name, f.sha256)
			n++
		}
	}
	if n == 0 {
		return "", fmt.Errorf("no APT source serves %s", arch)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// Candidate is the newest version of a package in the sources.
type Candidate struct {
	Version version.Version
	Source  Source // where it is
	depends string // its Pre-Depends and Depends, as the index writes them
}

// Candidates returns, by package name, the newest version srcs offer for
// arch (architecture arch or all). Suites marked NotAutomatic are left
// out.
func (c *Client) Candidates(ctx context.Context, srcs []Source, arch string) (map[string]Candidate, error) {
	idx, err := c.index(ctx, srcs, arch)
	if err != nil {
		return nil, err
	}
	return idx.cands, nil
}

// index is what the sources offer for one architecture.
type index struct {
	cands    map[string]Candidate
	provides map[string][]string // virtual package -> real ones, sorted
}

// index reads the Packages files of srcs for arch and keeps the
// candidate of every package, once per session.
func (c *Client) index(ctx context.Context, srcs []Source, arch string) (*index, error) {
	key := "index " + arch
	for _, s := range srcs {
		key += "\n" + s.Line()
	}
	v, err := c.once(key, func() (any, error) { return c.readIndex(ctx, srcs, arch) })
	if err != nil {
		return nil, err
	}
	return v.(*index), nil
}

func (c *Client) readIndex(ctx context.Context, srcs []Source, arch string) (*index, error) {
	idx := &index{cands: map[string]Candidate{}, provides: map[string][]string{}}
	for _, s := range srcs {
		if !s.ForArch(arch) {
			continue
		}
		rel, err := c.release(ctx, s)
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(rel.NotAutomatic, "yes") {
			continue
		}
		files, err := rel.indexes(s, arch)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			v, err := c.once("packages "+dist(s)+"/"+f.fetch.Filename, func() (any, error) {
				v, err := c.packages(ctx, dist(s)+"/"+rel.path(f.fetch), f.fetch)
				if errors.Is(err, errNotFound) && rel.path(f.fetch) != f.fetch.Filename {
					// Not by hash after all: by name, as apt falls back.
					v, err = c.packages(ctx, dist(s)+"/"+f.fetch.Filename, f.fetch)
				}
				return v, err
			})
			if err != nil {
				return nil, err
			}
			idx.add(v.(*packageFile), s)
		}
	}
	for _, p := range idx.provides {
		sort.Strings(p)
	}
	return idx, nil
}

// add takes the packages of f (from s) that are newer than idx's.
func (idx *index) add(f *packageFile, s Source) {
	for name, e := range f.pkgs {
		if old, ok := idx.cands[name]; !ok || version.Compare(e.version, old.Version) > 0 {
			idx.cands[name] = Candidate{Version: e.version, Source: s, depends: e.depends}
		}
	}
	for virtual, real := range f.provides {
		for _, r := range real {
			if !has(idx.provides[virtual], r) {
				idx.provides[virtual] = append(idx.provides[virtual], r)
			}
		}
	}
}

// packageFile is what one Packages file offers: the newest version of
// each package, with its dependencies, and who provides what.
type packageFile struct {
	pkgs     map[string]entry
	provides map[string][]string
}

type entry struct {
	version version.Version
	depends string
}

// packages downloads one Packages file f from url, checks it against the
// Release's SHA256 and reads it.
func (c *Client) packages(ctx context.Context, url string, f control.SHA256FileHash) (*packageFile, error) {
	out := &packageFile{pkgs: map[string]entry{}, provides: map[string][]string{}}
	err := c.get(ctx, url, func(r io.Reader) error {
		sum := sha256.New()
		tee := io.TeeReader(r, sum)
		plain, err := decompress(tee, f.Filename)
		if err != nil {
			return err
		}
		if err := readPackages(io.LimitReader(plain, c.limit), out); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, tee); err != nil { // the rest, for the hash
			return err
		}
		return checkSum(sum, f)
	})
	return out, err
}

func decompress(r io.Reader, name string) (io.Reader, error) {
	switch {
	case strings.HasSuffix(name, ".xz"):
		return xz.NewReader(r)
	case strings.HasSuffix(name, ".gz"):
		return gzip.NewReader(r)
	}
	return r, nil
}

func checkSum(sum hash.Hash, f control.SHA256FileHash) error {
	if got := hex.EncodeToString(sum.Sum(nil)); got != f.Hash {
		return fmt.Errorf("%s has sha256 %s, but the Release file says %s (a mirror being updated? try again)", f.Filename, got, f.Hash)
	}
	return nil
}

// readPackages adds the newest version of each package of a Packages
// file to out, with its dependencies, and what it provides.
func readPackages(r io.Reader, out *packageFile) error {
	pr, err := control.NewParagraphReader(r, nil)
	if err != nil {
		return err
	}
	for {
		p, err := pr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := p.Values["Package"]
		v, err := version.Parse(p.Values["Version"])
		if err != nil {
			return fmt.Errorf("package %s: version %q: %w", name, p.Values["Version"], err)
		}
		if old, ok := out.pkgs[name]; !ok || version.Compare(v, old.version) > 0 {
			out.pkgs[name] = entry{version: v, depends: joinRelations(p.Values["Pre-Depends"], p.Values["Depends"])}
		}
		for _, virtual := range relationNames(p.Values["Provides"]) {
			if !has(out.provides[virtual], name) {
				out.provides[virtual] = append(out.provides[virtual], name)
			}
		}
	}
}

// Update is an installed package with a newer version in the index.
type Update struct {
	Name      string `json:"name"`
	Installed string `json:"installed"`
	Available string `json:"available"`
	Source    string `json:"source"` // the sources.list line offering it
}

// Newer returns the installed packages (dpkg) whose candidate is newer,
// sorted by name. A version that does not parse is an error naming it.
func Newer(installed []inventory.Package, cands map[string]Candidate) ([]Update, error) {
	var out []Update
	for _, p := range installed {
		c, ok := cands[p.Name]
		if !ok {
			continue
		}
		v, err := version.Parse(p.Version)
		if err != nil {
			return nil, fmt.Errorf("installed package %s: version %q: %w", p.Name, p.Version, err)
		}
		if version.Compare(c.Version, v) > 0 {
			out = append(out, Update{Name: p.Name, Installed: p.Version, Available: c.Version.String(), Source: c.Source.String()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
