package inventory

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
)

// The files Read looks for, as paths in a layer tar.
const (
	DpkgStatus = "var/lib/dpkg/status"
	RIEPath    = "usr/local/bin/aws-lambda-rie"
)

// Package is one installed OS package.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Arch    string `json:"arch,omitempty"`
	// Source is the source package, when it differs from Name.
	Source string `json:"source,omitempty"`
	// Type is the package database it came from: "deb".
	Type string `json:"type"`
}

// Base is the image an image was built on, as the build recorded it.
type Base struct {
	Name   string `json:"name,omitempty"`
	Digest string `json:"digest,omitempty"`
}

// Inventory is what one image holds.
type Inventory struct {
	Ref      string `json:"ref"`
	Digest   string `json:"digest"`
	Platform string `json:"platform,omitempty"`
	Base     Base   `json:"base"`
	// RIC is the Runtime Interface Client version the build recorded.
	RIC string `json:"ric,omitempty"`
	// RIE is the sha256 of the Runtime Interface Emulator binary, if any.
	RIE string `json:"rie,omitempty"`
	// Distro is the ID of /etc/os-release (debian, ubuntu, ...).
	Distro string `json:"distro,omitempty"`
	// Database names the package database read ("dpkg"), "" when the
	// image has none Read understands.
	Database string    `json:"database,omitempty"`
	Packages []Package `json:"packages"`
	// AptSources are the image's APT source files by path in the image
	// (etc/apt/sources.list, etc/apt/sources.list.d/*.list and
	// *.sources): where a plan looks for newer versions (pkg/osindex).
	AptSources map[string]string `json:"aptSources,omitempty"`
}

// aptSource reports whether name (a path in a layer tar) is an APT source
// file apt reads.
func aptSource(name string) bool {
	if name == "etc/apt/sources.list" {
		return true
	}
	dir, file := path.Split(name)
	ext := path.Ext(file)
	return dir == "etc/apt/sources.list.d/" && (ext == ".list" || ext == ".sources")
}

// Read takes the inventory of img. ann are the annotations the build
// recorded (the store's index entry, or the manifest's): the base and the
// RIC come from them, or else from the image config's labels.
func Read(ref string, img v1.Image, ann map[string]string) (*Inventory, error) {
	inv := &Inventory{Ref: ref, Packages: []Package{}}
	h, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	inv.Digest = h.String()
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the config: %w", ref, err)
	}
	inv.Platform = cf.OS + "/" + cf.Architecture
	meta := map[string]string{}
	for k, v := range cf.Config.Labels {
		meta[k] = v
	}
	for k, v := range ann {
		meta[k] = v
	}
	inv.Base = Base{Name: meta[labels.BaseName], Digest: meta[labels.BaseDigest]}
	inv.RIC = meta[labels.RIC]
	if err := inv.scan(img); err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return inv, nil
}

// scan reads the image's files as the container sees them (whiteouts
// applied) and picks out the package database and the RIE.
func (inv *Inventory) scan(img v1.Image) error {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the image's files: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		if name := path.Clean(hdr.Name); aptSource(name) {
			b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
			if err != nil {
				return fmt.Errorf("reading /%s: %w", name, err)
			}
			if inv.AptSources == nil {
				inv.AptSources = map[string]string{}
			}
			inv.AptSources[name] = string(b)
			continue
		}
		switch path.Clean(hdr.Name) {
		case DpkgStatus:
			pkgs, err := ReadDpkgStatus(tr)
			if err != nil {
				return fmt.Errorf("reading /%s: %w", DpkgStatus, err)
			}
			inv.Database, inv.Packages = "dpkg", pkgs
		case "etc/os-release", "usr/lib/os-release":
			if id, err := osReleaseID(tr); err == nil && (inv.Distro == "" || hdr.Name != "usr/lib/os-release") {
				inv.Distro = id
			}
		case RIEPath:
			sum := sha256.New()
			if _, err := io.Copy(sum, tr); err != nil {
				return fmt.Errorf("reading /%s: %w", RIEPath, err)
			}
			inv.RIE = "sha256:" + hex.EncodeToString(sum.Sum(nil))
		}
	}
	sort.Slice(inv.Packages, func(i, j int) bool { return pkgKey(inv.Packages[i]) < pkgKey(inv.Packages[j]) })
	return nil
}

// pkgKey identifies a package within an image: name and, for multi-arch
// installs, architecture.
func pkgKey(p Package) string { return p.Name + ":" + p.Arch }

// osReleaseID returns the ID of an os-release file.
func osReleaseID(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "ID="); ok {
			return strings.Trim(v, `"'`), nil
		}
	}
	return "", nil
}
