package pins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
)

// ErrNotAsked is returned (wrapped) by Files for a registry the Checker
// does not ask.
var ErrNotAsked = errors.New("registry not asked")

// File is one file a registry serves for a pinned version, with the
// checksum the registry publishes for it.
type File struct {
	Name string `json:"name" yaml:"name"`
	// Checksum is as the registry publishes it: npm's Subresource
	// Integrity ("sha512-<base64>"), else "sha256:<hex>" (PyPI, Maven
	// Central when it has one) or "sha1:<hex>" (older Maven Central files).
	Checksum string `json:"checksum" yaml:"checksum"`
}

// Files asks p's registry for the files of the pinned version and their
// checksums, sorted by name: npm's tarball (dist.integrity); every file
// PyPI serves for the release (pip picks one by interpreter, architecture
// and libc, so all are recorded, as pip-compile --generate-hashes does);
// Maven Central's jar. A registry it does not ask gives ErrNotAsked, a
// version the registry does not serve an error saying so.
func (c *Checker) Files(ctx context.Context, p Pin) ([]File, error) {
	var fs []File
	var err error
	switch p.Registry {
	case NPM:
		fs, err = c.npmFiles(ctx, p)
	case PyPI:
		fs, err = c.pypiFiles(ctx, p)
	case MavenCentral:
		fs, err = c.mavenFiles(ctx, p)
	default:
		return nil, fmt.Errorf("%s: %w", p.Registry, ErrNotAsked)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s@%s: %w", p.Registry, p.Package, p.Version, err)
	}
	slices.SortFunc(fs, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return fs, nil
}

func (c *Checker) npmFiles(ctx context.Context, p Pin) ([]File, error) {
	address := c.endpoints[NPM] + "/" + strings.ReplaceAll(p.Package, "/", "%2F")
	body, err := c.getOK(ctx, address, "application/vnd.npm.install-v1+json")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Versions map[string]struct {
			Dist struct {
				Tarball   string `json:"tarball"`
				Integrity string `json:"integrity"`
			} `json:"dist"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("GET %s: reading the package document: %w", address, err)
	}
	v, ok := doc.Versions[p.Version]
	if !ok {
		return nil, fmt.Errorf("npm does not serve version %s", p.Version)
	}
	if v.Dist.Integrity == "" {
		return nil, fmt.Errorf("npm publishes no integrity for it")
	}
	return []File{{Name: path.Base(v.Dist.Tarball), Checksum: v.Dist.Integrity}}, nil
}

func (c *Checker) pypiFiles(ctx context.Context, p Pin) ([]File, error) {
	address := c.endpoints[PyPI] + "/simple/" + normalizePyPI(p.Package) + "/"
	body, err := c.getOK(ctx, address, "application/vnd.pypi.simple.v1+json")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Files []struct {
			Filename string            `json:"filename"`
			Hashes   map[string]string `json:"hashes"`
		} `json:"files"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("GET %s: reading the project page: %w", address, err)
	}
	var out []File
	for _, f := range doc.Files {
		if v, _ := fileVersion(f.Filename); v != p.Version {
			continue
		}
		sum := f.Hashes["sha256"]
		if sum == "" {
			return nil, fmt.Errorf("PyPI publishes no sha256 for %s", f.Filename)
		}
		out = append(out, File{Name: f.Filename, Checksum: "sha256:" + sum})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("PyPI serves no file of version %s", p.Version)
	}
	return out, nil
}

// mavenFiles reads the jar's published checksum: .sha256 where Maven
// Central has one, else .sha1 (which every artifact has).
func (c *Checker) mavenFiles(ctx context.Context, p Pin) ([]File, error) {
	group, artifact, ok := strings.Cut(p.Package, ":")
	if !ok || group == "" || artifact == "" {
		return nil, fmt.Errorf("maven package %q: want group:artifact", p.Package)
	}
	jar := artifact + "-" + p.Version + ".jar"
	base := fmt.Sprintf("%s/%s/%s/%s/%s", c.endpoints[MavenCentral], strings.ReplaceAll(group, ".", "/"), artifact, p.Version, jar)
	for _, algo := range []string{"sha256", "sha1"} {
		code, body, err := c.get(ctx, base+"."+algo, "")
		switch {
		case err != nil:
			return nil, err
		case code == http.StatusNotFound:
			continue
		case code != http.StatusOK:
			return nil, unexpected(base+"."+algo, code)
		}
		sum, _, _ := strings.Cut(strings.TrimSpace(string(body)), " ")
		return []File{{Name: jar, Checksum: algo + ":" + sum}}, nil
	}
	return nil, fmt.Errorf("Maven Central publishes no checksum of %s", jar)
}

// getOK fetches address and returns the body of a 200 answer; any other
// status is an error.
func (c *Checker) getOK(ctx context.Context, address, accept string) ([]byte, error) {
	code, body, err := c.get(ctx, address, accept)
	switch {
	case err != nil:
		return nil, err
	case code == http.StatusNotFound:
		return nil, fmt.Errorf("GET %s: no such package", address)
	case code != http.StatusOK:
		return nil, unexpected(address, code)
	}
	return body, nil
}
