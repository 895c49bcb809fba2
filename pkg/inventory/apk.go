package inventory

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ReadApkDB returns the packages of an apk database: the installed file
// (/lib/apk/db/installed) or an APKINDEX, which share one format: records
// of "K:value" lines separated by blank lines, P: the name, V: the
// version, A: the architecture, o: the origin (source) package.
//
// There is no apk library on the Go module proxy that this project can
// use (Alpine's gitlab.alpinelinux.org/alpine/go and chainguard.dev/go-apk
// are not served here), and the format is a few lines to read: one field
// per line, a single letter, a colon and the value.
func ReadApkDB(r io.Reader) ([]Package, error) {
	out := []Package{}
	var p Package
	flush := func() {
		if p.Name != "" {
			if p.Source == p.Name {
				p.Source = ""
			}
			p.Type = "apk"
			out = append(out, p)
		}
		p = Package{}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || len(k) != 1 {
			return nil, fmt.Errorf("line %d: %q is not a K:value field", n, line)
		}
		switch k {
		case "P":
			p.Name = v
		case "V":
			p.Version = v
		case "A":
			p.Arch = v
		case "o":
			p.Source = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	flush()
	return out, nil
}
