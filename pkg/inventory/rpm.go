package inventory

import (
	"fmt"
	"strconv"
	"strings"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
	// go-rpmdb opens SQLite databases with database/sql's "sqlite"
	// driver and leaves the choice of driver to its user: modernc's is
	// pure Go, so lambdaimg stays a static CGO_ENABLED=0 binary.
	_ "modernc.org/sqlite"
)

// ReadRpmDB returns the installed packages of the rpm database file at
// path: SQLite (rpmdb.sqlite, rpm 4.16 and later: Amazon Linux 2023) or
// Berkeley DB (Packages, rpm 4.15 and earlier: Amazon Linux 2, CentOS 7),
// read with github.com/knqyf263/go-rpmdb, which tells them apart by their
// first bytes. Versions are as rpm prints %{EPOCH}:%{VERSION}-%{RELEASE}:
// the epoch only when the package has one. gpg-pubkey entries are the
// signing keys rpm imported, not packages, and are left out.
func ReadRpmDB(path string) ([]Package, error) {
	db, err := rpmdb.Open(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	infos, err := db.ListPackages()
	if err != nil {
		return nil, fmt.Errorf("listing packages: %w", err)
	}
	out := []Package{}
	for _, i := range infos {
		if i.Name == "" || i.Name == "gpg-pubkey" {
			continue
		}
		v := i.Version + "-" + i.Release
		if i.Epoch != nil {
			v = strconv.Itoa(*i.Epoch) + ":" + v
		}
		p := Package{Name: i.Name, Version: v, Arch: i.Arch, Type: "rpm"}
		if src := rpmSourceName(i.SourceRpm); src != "" && src != i.Name {
			p.Source = src
		}
		out = append(out, p)
	}
	return out, nil
}

// rpmSourceName is the name in a source rpm's file name:
// "glibc-2.34-52.amzn2023.0.2.src.rpm" -> "glibc". Neither version nor
// release may contain a hyphen, so the name is what precedes the last two.
func rpmSourceName(file string) string {
	s, ok := strings.CutSuffix(file, ".src.rpm")
	if !ok {
		return ""
	}
	for range 2 {
		i := strings.LastIndex(s, "-")
		if i <= 0 {
			return ""
		}
		s = s[:i]
	}
	return s
}
