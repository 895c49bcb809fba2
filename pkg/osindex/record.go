package osindex

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/inventory"
)

// Record is what a build records of a dpkg- or apk-based image, so that
// a plan needs only the store's index (not the image's layers): the APT
// sources or apk repositories the image uses, its installed packages and
// (APT) the index state the sources had when it was built.
type Record struct {
	// Database is the image's package database: "apk", or "" for dpkg
	// (what every record was before apk's).
	Database string `json:"database,omitempty"`
	// Sources are sources.list lines (deb [arch=...] URI SUITE COMPONENT...).
	Sources []string `json:"sources"`
	// Repositories are the apk repositories (URLs) apk upgrades from.
	Repositories []string `json:"repositories,omitempty"`
	// Packages are the packages the build's own steps installed or
	// changed (not in the base image at that version): name (name:arch
	// for packages of a foreign architecture) -> version. A rebuild can
	// move only those; the base's packages move with the base image.
	Packages map[string]string `json:"packages"`
	// State is State of the sources for the image's architecture: plan
	// reads their Packages files only when it moved.
	State string `json:"state,omitempty"`
	// Installs is the InstallState the image was built with (build's
	// PACKAGE_INDEX argument); empty when it installed nothing with apt.
	Installs string `json:"installs,omitempty"`
}

// NewRecord makes the record of the image inv built on base (nil: no
// base, every package counts) for arch: its APT sources or apk
// repositories and the packages it has that base has not at the same
// version. An image without a dpkg or apk database gets an empty record
// (nothing to check).
func NewRecord(inv, base *inventory.Inventory, arch string) (*Record, error) {
	r := &Record{Sources: []string{}, Packages: map[string]string{}}
	switch inv.Database {
	case "apk":
		r.Database = "apk"
		r.Repositories = ParseApkRepositories(inv.ApkRepositories)
		// apk installs one architecture: names are enough.
		arch = ""
	case "dpkg":
	default:
		return r, nil
	}
	if r.Database == "" {
		srcs, err := ParseSourceFiles(inv.AptSources)
		if err != nil {
			return nil, err
		}
		for _, s := range srcs {
			r.Sources = append(r.Sources, s.Line())
		}
	}
	inBase := map[string]string{}
	if base != nil {
		for _, p := range base.Packages {
			inBase[pkgName(p, arch)] = p.Version
		}
	}
	for _, p := range inv.Packages {
		if name := pkgName(p, arch); inBase[name] != p.Version {
			r.Packages[name] = p.Version
		}
	}
	return r, nil
}

// pkgName is the package's name, with :arch for a foreign architecture
// (none when arch is "").
func pkgName(p inventory.Package, arch string) string {
	if arch != "" && p.Arch != "" && p.Arch != "all" && p.Arch != arch {
		return p.Name + ":" + p.Arch
	}
	return p.Name
}

// ParseRecord reads a record as Marshal wrote it.
func ParseRecord(s string) (*Record, error) {
	var r Record
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, fmt.Errorf("reading the recorded OS packages: %w", err)
	}
	return &r, nil
}

// Marshal is r as compact JSON (map keys sorted).
func (r *Record) Marshal() (string, error) {
	b, err := json.Marshal(r)
	return string(b), err
}

// SourceList parses the recorded sources.
func (r *Record) SourceList() ([]Source, error) {
	return ParseList(strings.Join(r.Sources, "\n"))
}

// Installed is the recorded packages as inventory packages, by name; the
// packages of a foreign architecture are left out (the index of the
// image's architecture does not list them).
func (r *Record) Installed() []inventory.Package {
	typ := "deb"
	if r.Database == "apk" {
		typ = "apk"
	}
	out := []inventory.Package{}
	for name, v := range r.Packages {
		if !strings.Contains(name, ":") {
			out = append(out, inventory.Package{Name: name, Version: v, Type: typ})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
