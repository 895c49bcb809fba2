package osindex

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/inventory"
)

// Record is what a build records of a dpkg-based image, so that a plan
// needs only the store's index (not the image's layers): the APT sources
// the image uses, its installed packages and the index state the sources
// had when it was built.
type Record struct {
	// Sources are sources.list lines (deb [arch=...] URI SUITE COMPONENT...).
	Sources []string `json:"sources"`
	// Packages are the installed packages: name (name:arch for packages
	// of a foreign architecture) -> version.
	Packages map[string]string `json:"packages"`
	// State is State of the sources for the image's architecture.
	State string `json:"state,omitempty"`
}

// NewRecord makes the record of inv: nil when inv has no dpkg database
// or no APT sources (nothing to check).
func NewRecord(inv *inventory.Inventory, arch string) (*Record, error) {
	if inv.Database != "dpkg" || len(inv.AptSources) == 0 {
		return nil, nil
	}
	srcs, err := ParseSourceFiles(inv.AptSources)
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		return nil, nil
	}
	r := &Record{Packages: map[string]string{}}
	for _, s := range srcs {
		r.Sources = append(r.Sources, s.Line())
	}
	for _, p := range inv.Packages {
		name := p.Name
		if p.Arch != "" && p.Arch != "all" && p.Arch != arch {
			name += ":" + p.Arch
		}
		r.Packages[name] = p.Version
	}
	return r, nil
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
	out := []inventory.Package{}
	for name, v := range r.Packages {
		if !strings.Contains(name, ":") {
			out = append(out, inventory.Package{Name: name, Version: v, Type: "deb"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
