package inventory

import (
	"io"
	"strings"

	"pault.ag/go/debian/control"
)

// dpkgEntry is one paragraph of dpkg's status file.
type dpkgEntry struct {
	control.Paragraph
	Package      string
	Status       string
	Version      string
	Architecture string
	Source       string
}

// ReadDpkgStatus returns the installed packages of a dpkg status file
// (Status "install ok installed"; removed packages whose configuration
// files remain are left out).
func ReadDpkgStatus(r io.Reader) ([]Package, error) {
	var entries []dpkgEntry
	if err := control.Unmarshal(&entries, r); err != nil {
		return nil, err
	}
	out := []Package{}
	for _, e := range entries {
		if e.Package == "" || !strings.HasSuffix(strings.TrimSpace(e.Status), " installed") {
			continue
		}
		p := Package{Name: e.Package, Version: e.Version, Arch: e.Architecture, Type: "deb"}
		// Source may carry a version in parentheses: "glibc (2.36-9)".
		if src, _, _ := strings.Cut(e.Source, " "); src != "" && src != e.Package {
			p.Source = src
		}
		out = append(out, p)
	}
	return out, nil
}
