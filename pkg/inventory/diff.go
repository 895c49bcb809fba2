package inventory

import (
	apkversion "github.com/knqyf263/go-apk-version"
	rpmversion "github.com/knqyf263/go-rpm-version"
	"pault.ag/go/debian/version"
)

// Change is a value that differs between two images.
type Change struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// PackageChange is a package whose version changed.
type PackageChange struct {
	Name string `json:"name"`
	Arch string `json:"arch,omitempty"`
	Old  string `json:"old"`
	New  string `json:"new"`
	// Downgrade is set when New sorts before Old in the order of the
	// package database (dpkg's, apk's or rpm's).
	Downgrade bool `json:"downgrade,omitempty"`
}

// Changelog says what changed from one image to another.
type Changelog struct {
	Old string `json:"old"` // ref@digest
	New string `json:"new"`
	// Base, RIC and RIE are set only when they changed.
	Base     *Change         `json:"base,omitempty"`
	RIC      *Change         `json:"ric,omitempty"`
	RIE      *Change         `json:"rie,omitempty"`
	Changed  []PackageChange `json:"changed"`
	Added    []Package       `json:"added"`
	Removed  []Package       `json:"removed"`
	Same     int             `json:"unchanged"`
	Database string          `json:"database,omitempty"`
}

// Empty reports whether nothing changed.
func (c *Changelog) Empty() bool {
	return c.Base == nil && c.RIC == nil && c.RIE == nil && len(c.Changed)+len(c.Added)+len(c.Removed) == 0
}

// Diff compares two inventories.
func Diff(old, cur *Inventory) *Changelog {
	c := &Changelog{Old: old.Ref + "@" + old.Digest, New: cur.Ref + "@" + cur.Digest,
		Changed: []PackageChange{}, Added: []Package{}, Removed: []Package{}, Database: cur.Database}
	c.Base = change(old.Base.Digest, cur.Base.Digest)
	if c.Base != nil && old.Base.Name != cur.Base.Name {
		c.Base = &Change{Old: old.Base.String(), New: cur.Base.String()}
	}
	c.RIC = change(old.RIC, cur.RIC)
	c.RIE = change(old.RIE, cur.RIE)
	before := map[string]Package{}
	for _, p := range old.Packages {
		before[pkgKey(p)] = p
	}
	for _, p := range cur.Packages {
		o, ok := before[pkgKey(p)]
		delete(before, pkgKey(p))
		switch {
		case !ok:
			c.Added = append(c.Added, p)
		case o.Version == p.Version:
			c.Same++
		default:
			c.Changed = append(c.Changed, PackageChange{Name: p.Name, Arch: p.Arch, Old: o.Version, New: p.Version, Downgrade: older(cur.Database, p.Version, o.Version)})
		}
	}
	for _, p := range old.Packages {
		if _, ok := before[pkgKey(p)]; ok {
			c.Removed = append(c.Removed, p)
		}
	}
	return c
}

func change(old, cur string) *Change {
	if old == cur {
		return nil
	}
	return &Change{Old: old, New: cur}
}

// older reports whether version a sorts before b in the order of the
// package database db; versions that do not parse are not ordered.
func older(db, a, b string) bool {
	switch db {
	case "apk":
		va, err := apkversion.NewVersion(a)
		if err != nil {
			return false
		}
		vb, err := apkversion.NewVersion(b)
		if err != nil {
			return false
		}
		return va.LessThan(vb)
	case "rpm":
		// rpm's order accepts any string, as rpmvercmp does.
		return rpmversion.NewVersion(a).LessThan(rpmversion.NewVersion(b))
	default:
		va, err := version.Parse(a)
		if err != nil {
			return false
		}
		vb, err := version.Parse(b)
		if err != nil {
			return false
		}
		return version.Compare(va, vb) < 0
	}
}

// String is name@digest, or what of it is known.
func (b Base) String() string {
	if b.Name == "" || b.Digest == "" {
		return b.Name + b.Digest
	}
	return b.Name + "@" + b.Digest
}
