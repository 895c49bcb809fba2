package lock

import (
	"archive/tar"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/lambdaimg/lambdaimg/pkg/pins"
)

// The files that record the language packages the templates install into
// /var/runtime (the RIC and what it depends on), as paths in a layer tar.
const (
	runtimeDir = "var/runtime/"
	// npmLock is npm's hidden lockfile (npm 7 and later): the version and
	// integrity of each package it installed.
	npmLock = runtimeDir + "node_modules/.package-lock.json"
)

// installed is what an image records of one language package.
type installed struct {
	Version string
	// Integrity is npm's Subresource Integrity of the tarball it
	// installed ("sha512-<base64>", several separated by spaces); empty
	// when the image does not record it.
	Integrity string
}

// checkRIC compares the npm and PyPI packages pkgs pins with what the
// image records of them and notes each outcome in rep. npm records the
// integrity of the tarball it installed, so the locked checksum is
// compared; pip keeps no hash of the wheel or source archive it installed
// (its RECORD hashes the files unpacked from it, which PyPI does not
// publish), so a PyPI package is compared by version only. Packages of
// other registries (Maven, RubyGems, NuGet) are not checked.
func (g *Gate) checkRIC(ctx context.Context, rep *GateReport, pkgs []Package, img v1.Image) error {
	var want []Package
	for _, p := range pkgs {
		if p.Registry == string(pins.NPM) || p.Registry == string(pins.PyPI) {
			want = append(want, p)
		} else if p.Registry != string(pins.NodeJSDist) && p.Registry != string(pins.PythonOrg) && p.Registry != string(pins.RubyLang) {
			rep.RIC = append(rep.RIC, fmt.Sprintf("%s %s %s: not checked (the image keeps no record lambdaimg reads)", p.Registry, p.Name, p.Version))
		}
	}
	if len(want) == 0 {
		return nil
	}
	found, err := readInstalled(ctx, img, want)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range want {
		note, err := compareInstalled(p, found[p.Registry+" "+p.Name])
		if err != nil {
			errs = append(errs, err)
			note = "differs"
		}
		rep.RIC = append(rep.RIC, fmt.Sprintf("%s %s %s: %s", p.Registry, p.Name, p.Version, note))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w\nthe build installs exactly the locked version of each pinned package: "+
			"check what the registry, or a mirror or proxy the build goes through, served", err)
	}
	return nil
}

// compareInstalled compares one pinned package with its record in the
// image (nil when the image has none) and says how it was compared.
func compareInstalled(p Package, got *installed) (string, error) {
	switch {
	case got == nil:
		return "", fmt.Errorf("%s %s: not installed under /%s", p.Registry, p.Name, runtimeDir)
	case got.Version != p.Version:
		return "", fmt.Errorf("%s %s: version %s installed, %s locked", p.Registry, p.Name, got.Version, p.Version)
	case p.Registry == string(pins.PyPI):
		return "as locked (version only: pip keeps no hash of what it installed)", nil
	case len(p.Files) == 0:
		return "as locked (version only: the lock has no checksum)", nil
	case got.Integrity == "":
		return "as locked (version only: the image records no integrity)", nil
	}
	have := strings.Fields(got.Integrity)
	for _, f := range p.Files {
		for _, h := range have {
			if h == f.Checksum {
				return "as locked, integrity " + f.Checksum, nil
			}
		}
	}
	return "", fmt.Errorf("%s %s %s: integrity %s installed, %s locked", p.Registry, p.Name, p.Version, got.Integrity, p.Files[0].Checksum)
}

// metadataFile matches the metadata pip writes for a package installed
// into /var/runtime: a wheel's dist-info, or the egg-info of a legacy
// setup.py install.
var metadataFile = regexp.MustCompile(`^var/runtime/[^/]+\.(dist-info/METADATA|egg-info/PKG-INFO)$`)

// records is what readInstalled found, keyed by "registry name".
type records struct {
	// npm and pypi are the packages wanted: npm's by name, PyPI's by
	// normalized name to the name in the lock.
	npm  map[string]bool
	pypi map[string]string
	// found are from npm's hidden lockfile and Python metadata;
	// packageJSON from npm packages' own package.json, for images
	// without the lockfile.
	found, packageJSON map[string]*installed
}

// readInstalled reads the image's files as the container sees them (the
// top layer first) and returns what it records of want, keyed by
// "registry name". It stops once every package is found.
func readInstalled(ctx context.Context, img v1.Image, want []Package) (map[string]*installed, error) {
	rs := &records{npm: map[string]bool{}, pypi: map[string]string{},
		found: map[string]*installed{}, packageJSON: map[string]*installed{}}
	for _, p := range want {
		if p.Registry == string(pins.NPM) {
			rs.npm[p.Name] = true
		} else {
			rs.pypi[normalizePython(p.Name)] = p.Name
		}
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for len(rs.found) < len(want) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the image's files: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		if err := rs.read(path.Clean(hdr.Name), tr); err != nil {
			return nil, err
		}
	}
	for k, rec := range rs.packageJSON {
		if rs.found[k] == nil {
			rs.found[k] = rec
		}
	}
	return rs.found, nil
}

// read adds what the file name (read from r) records of the packages
// wanted.
func (rs *records) read(name string, r io.Reader) error {
	switch {
	case name == npmLock:
		recs, err := readNPMLock(r)
		if err != nil {
			return fmt.Errorf("reading /%s: %w", name, err)
		}
		for n := range rs.npm {
			if rec, ok := recs[n]; ok {
				rs.found[string(pins.NPM)+" "+n] = rec
			}
		}
	case strings.HasPrefix(name, runtimeDir+"node_modules/") && path.Base(name) == "package.json":
		// npm 6 writes no hidden lockfile but adds _integrity to the
		// package's own package.json.
		n := strings.TrimSuffix(strings.TrimPrefix(name, runtimeDir+"node_modules/"), "/package.json")
		if !rs.npm[n] {
			return nil
		}
		var doc struct {
			Version   string `json:"version"`
			Integrity string `json:"_integrity"`
		}
		if err := json.NewDecoder(r).Decode(&doc); err != nil {
			return fmt.Errorf("reading /%s: %w", name, err)
		}
		rs.packageJSON[string(pins.NPM)+" "+n] = &installed{Version: doc.Version, Integrity: doc.Integrity}
	case metadataFile.MatchString(name):
		n, v := readMetadata(r)
		if lockName, ok := rs.pypi[normalizePython(n)]; ok && n != "" {
			rs.found[string(pins.PyPI)+" "+lockName] = &installed{Version: v}
		}
	}
	return nil
}

// readNPMLock returns the packages npm's hidden lockfile records directly
// under node_modules, by name.
func readNPMLock(r io.Reader) (map[string]*installed, error) {
	var doc struct {
		Packages map[string]struct {
			Version   string `json:"version"`
			Integrity string `json:"integrity"`
		} `json:"packages"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, err
	}
	out := map[string]*installed{}
	for k, p := range doc.Packages {
		n, ok := strings.CutPrefix(k, "node_modules/")
		if ok && !strings.Contains(n, "/node_modules/") {
			out[n] = &installed{Version: p.Version, Integrity: p.Integrity}
		}
	}
	return out, nil
}

// readMetadata returns the Name and Version of a Python package's
// metadata (email-header form; the headers end at the first empty line).
func readMetadata(r io.Reader) (name, version string) {
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for sc.Scan() && sc.Text() != "" {
		k, v, ok := strings.Cut(sc.Text(), ":")
		switch {
		case !ok:
		case strings.EqualFold(k, "Name"):
			name = strings.TrimSpace(v)
		case strings.EqualFold(k, "Version"):
			version = strings.TrimSpace(v)
		}
	}
	return name, version
}

var pythonSeparators = regexp.MustCompile(`[-_.]+`)

// normalizePython is PEP 503's project name normalization.
func normalizePython(n string) string {
	return strings.ToLower(pythonSeparators.ReplaceAllString(n, "-"))
}
