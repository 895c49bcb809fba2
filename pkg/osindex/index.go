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
}

// Candidates returns, by package name, the newest version srcs offer for
// arch (architecture arch or all). Suites marked NotAutomatic are left
// out.
func (c *Client) Candidates(ctx context.Context, srcs []Source, arch string) (map[string]Candidate, error) {
	out := map[string]Candidate{}
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
			for name, ver := range v.(map[string]version.Version) {
				if old, ok := out[name]; !ok || version.Compare(ver, old.Version) > 0 {
					out[name] = Candidate{Version: ver, Source: s}
				}
			}
		}
	}
	return out, nil
}

// packages downloads one Packages file f from url, checks it against the
// Release's SHA256 and returns the newest version of each package in it.
func (c *Client) packages(ctx context.Context, url string, f control.SHA256FileHash) (map[string]version.Version, error) {
	out := map[string]version.Version{}
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
// file to out.
func readPackages(r io.Reader, out map[string]version.Version) error {
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
		if old, ok := out[name]; !ok || version.Compare(v, old) > 0 {
			out[name] = v
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
