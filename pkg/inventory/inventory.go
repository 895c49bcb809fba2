package inventory

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/internal/layerscan"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
)

// The files Read looks for, as paths in a layer tar.
const (
	DpkgStatus   = layerscan.DpkgStatus
	ApkInstalled = layerscan.ApkInstalled
	// ApkRepositoriesPath lists the repositories apk installs from.
	ApkRepositoriesPath = layerscan.ApkRepositories
	// RpmSQLite is rpm 4.16+'s database (Amazon Linux 2023), RpmBDB rpm
	// 4.15's and earlier (Amazon Linux 2); Fedora-style images keep them
	// in usr/lib/sysimage/rpm instead, which Read also looks in.
	RpmSQLite = "var/lib/rpm/rpmdb.sqlite"
	RpmBDB    = "var/lib/rpm/Packages"
	RIEPath   = layerscan.RIEPath
)

// rpmFiles are the rpm database files Read copies out of the image (the
// SQLite database's write-ahead log holds transactions not yet folded
// into it), by path in a layer tar. layerscan keeps their contents
// (TestKeptFiles).
var rpmFiles = func() map[string]bool {
	m := map[string]bool{}
	for _, dir := range []string{"var/lib/rpm/", "usr/lib/sysimage/rpm/"} {
		for _, f := range []string{"rpmdb.sqlite", "rpmdb.sqlite-wal", "Packages"} {
			m[dir+f] = true
		}
	}
	return m
}()

// Package is one installed OS package.
type Package struct {
	Name string `json:"name"`
	// Version is as the database's tool prints it: dpkg's and rpm's
	// [epoch:]version-revision, apk's version.
	Version string `json:"version"`
	Arch    string `json:"arch,omitempty"`
	// Source is the source package, when it differs from Name.
	Source string `json:"source,omitempty"`
	// Type is the package URL type of the database it came from: "deb",
	// "apk" or "rpm".
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
	// Database names the package database read ("dpkg", "apk" or
	// "rpm"), "" when the image has none Read understands.
	Database string    `json:"database,omitempty"`
	Packages []Package `json:"packages"`
	// AptSources are the image's APT source files by path in the image
	// (etc/apt/sources.list, etc/apt/sources.list.d/*.list and
	// *.sources): where a plan looks for newer versions (pkg/osindex).
	AptSources map[string]string `json:"aptSources,omitempty"`
	// ApkRepositories is the image's /etc/apk/repositories: where a plan
	// looks for newer versions of apk packages (pkg/osindex).
	ApkRepositories string `json:"apkRepositories,omitempty"`
}

// ReaderVersion changes whenever Read comes to read more of an image (2:
// apk and rpm databases, apk repositories), so that inventories kept by
// an earlier one (the build's base image cache) are read again.
const ReaderVersion = "2"

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
// applied) and picks out the package database and the RIE. An image with
// more than one database is taken to use dpkg's, else apk's, else rpm's
// (a Debian image with rpm installed keeps an rpm database of nothing).
func (inv *Inventory) scan(img v1.Image) error {
	ls, err := img.Layers()
	if err != nil {
		return fmt.Errorf("retrieving image layers: %w", err)
	}
	scans := make([]*layerScan, len(ls))
	for i, l := range ls {
		if scans[i], err = scanOf(l); err != nil {
			return fmt.Errorf("reading the image's files: %w", err)
		}
	}
	c := &collector{inv: inv}
	defer c.rpm.remove()
	if err := merge(scans, c.visit); err != nil {
		return err
	}
	return c.finish()
}

// collector takes what an inventory needs from the image's files, in the
// order the container sees them (top layer first).
type collector struct {
	inv       *Inventory
	dpkg, apk []Package
	rpm       rpmCopy
}

func (c *collector) visit(f *wanted) error {
	name, inv := f.tarName, c.inv
	r := bytes.NewReader(f.data)
	var err error
	switch {
	case aptSource(name):
		if inv.AptSources == nil {
			inv.AptSources = map[string]string{}
		}
		inv.AptSources[name] = string(f.data)
	case rpmFiles[name]:
		if err := c.rpm.add(name, r); err != nil {
			return fmt.Errorf("reading /%s: %w", name, err)
		}
	case name == DpkgStatus:
		if c.dpkg, err = ReadDpkgStatus(r); err != nil {
			return fmt.Errorf("reading /%s: %w", DpkgStatus, err)
		}
	case name == ApkRepositoriesPath:
		inv.ApkRepositories = string(f.data)
	case name == ApkInstalled:
		if c.apk, err = ReadApkDB(r); err != nil {
			return fmt.Errorf("reading /%s: %w", ApkInstalled, err)
		}
	case name == "etc/os-release", name == "usr/lib/os-release":
		if id, err := osReleaseID(r); err == nil && (inv.Distro == "" || name != "usr/lib/os-release") {
			inv.Distro = id
		}
	case name == RIEPath:
		inv.RIE = f.sum
	}
	return nil
}

// finish picks the package database and sorts its packages.
func (c *collector) finish() error {
	inv := c.inv
	switch {
	case c.dpkg != nil:
		inv.Database, inv.Packages = "dpkg", c.dpkg
	case c.apk != nil:
		inv.Database, inv.Packages = "apk", c.apk
	default:
		db, ok := c.rpm.database()
		if !ok {
			break
		}
		pkgs, err := ReadRpmDB(db)
		if err != nil {
			return fmt.Errorf("reading the rpm database /%s: %w", c.rpm.names[filepath.Base(db)], err)
		}
		inv.Database, inv.Packages = "rpm", pkgs
	}
	sort.Slice(inv.Packages, func(i, j int) bool { return pkgKey(inv.Packages[i]) < pkgKey(inv.Packages[j]) })
	return nil
}

// rpmCopy holds the rpm database files of an image, copied to a temporary
// directory: the rpm library opens a database by file name.
type rpmCopy struct {
	dir string
	// names are the copied files' paths in the image, by base name.
	names map[string]string
}

// add copies the file name (a path in a layer tar) from r. Of the two
// places a database may be (var/lib/rpm and usr/lib/sysimage/rpm, where
// the first is often a link to the second) the first file found wins.
func (c *rpmCopy) add(name string, r io.Reader) error {
	base := path.Base(name)
	if _, ok := c.names[base]; ok {
		return nil
	}
	if c.dir == "" {
		dir, err := os.MkdirTemp("", "lambdaimg-rpmdb-")
		if err != nil {
			return err
		}
		c.dir, c.names = dir, map[string]string{}
	}
	f, err := os.Create(filepath.Join(c.dir, base))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	c.names[base] = name
	return f.Close()
}

// database is the copied database file to open: the SQLite one when the
// image has both (rpm 4.16+ converted it and left the old one behind).
func (c *rpmCopy) database() (string, bool) {
	for _, f := range []string{"rpmdb.sqlite", "Packages"} {
		if _, ok := c.names[f]; ok {
			return filepath.Join(c.dir, f), true
		}
	}
	return "", false
}

func (c *rpmCopy) remove() {
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
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
