package osindex

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"pault.ag/go/debian/control"
)

// Source is one binary package source of APT: a repository URI and a
// suite with components, as a "deb" line or a deb822 stanza names it.
type Source struct {
	URI string
	// Suite is a distribution (bookworm, bookworm-security) or, for a flat
	// repository, a path ending in "/" with no components.
	Suite      string
	Components []string
	// Archs limits the source to these architectures (arch=...); empty:
	// any.
	Archs []string
}

// String is the source as a sources.list line, without options.
func (s Source) String() string {
	return strings.TrimSpace(fmt.Sprintf("deb %s %s %s", s.URI, s.Suite, strings.Join(s.Components, " ")))
}

// Line is the source as a sources.list line, with its architectures.
func (s Source) Line() string {
	if len(s.Archs) == 0 {
		return s.String()
	}
	return strings.Replace(s.String(), "deb ", "deb [arch="+strings.Join(s.Archs, ",")+"] ", 1)
}

// Flat reports whether s is a flat repository (no dists/ tree).
func (s Source) Flat() bool { return strings.HasSuffix(s.Suite, "/") }

// ForArch reports whether s serves arch (a Debian architecture: amd64).
func (s Source) ForArch(arch string) bool {
	if len(s.Archs) == 0 {
		return true
	}
	for _, a := range s.Archs {
		if a == arch {
			return true
		}
	}
	return false
}

// ParseSourceFiles parses APT source files by path (etc/apt/sources.list,
// etc/apt/sources.list.d/NAME.list or NAME.sources; other names are
// ignored as apt ignores them) into their "deb" sources, in path order,
// without duplicates.
func ParseSourceFiles(files map[string]string) ([]Source, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var out []Source
	seen := map[string]bool{}
	for _, p := range paths {
		var srcs []Source
		var err error
		switch path.Ext(p) {
		case ".list":
			srcs, err = ParseList(files[p])
		case ".sources":
			srcs, err = ParseDeb822(files[p])
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("/%s: %w", strings.TrimPrefix(p, "/"), err)
		}
		for _, s := range srcs {
			if k := s.String(); !seen[k] {
				seen[k] = true
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// ParseList parses the one-line format of sources.list:
// "deb [opt=val ...] URI SUITE [COMPONENT...]". deb-src lines and comments
// are skipped.
func ParseList(data string) ([]Source, error) {
	var out []Source
	for n, line := range strings.Split(data, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		var archs []string
		if len(f) > 0 && strings.HasPrefix(f[0], "[") {
			end := 0
			for end < len(f) && !strings.HasSuffix(f[end], "]") {
				end++
			}
			if end == len(f) {
				return nil, fmt.Errorf("line %d: unterminated [options]", n+1)
			}
			opts := strings.Fields(strings.Trim(strings.Join(f[:end+1], " "), "[]"))
			for _, o := range opts {
				if v, ok := strings.CutPrefix(o, "arch="); ok {
					archs = strings.Split(v, ",")
				}
			}
			f = f[end+1:]
		}
		if len(f) < 2 {
			return nil, fmt.Errorf("line %d: want deb URI SUITE [COMPONENT...], got %q", n+1, strings.TrimSpace(line))
		}
		s := Source{URI: strings.TrimRight(f[0], "/"), Suite: f[1], Archs: archs}
		if len(f) > 2 {
			s.Components = f[2:]
		}
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// ParseDeb822 parses the deb822 format of *.sources files: stanzas with
// Types, URIs, Suites, Components, Architectures and Enabled.
func ParseDeb822(data string) ([]Source, error) {
	r, err := control.NewParagraphReader(strings.NewReader(data), nil)
	if err != nil {
		return nil, err
	}
	paras, err := r.All()
	if err != nil {
		return nil, err
	}
	var out []Source
	for _, p := range paras {
		v := p.Values
		if !has(strings.Fields(v["Types"]), "deb") || strings.EqualFold(v["Enabled"], "no") {
			continue
		}
		for _, uri := range strings.Fields(v["URIs"]) {
			for _, suite := range strings.Fields(v["Suites"]) {
				s := Source{URI: strings.TrimRight(uri, "/"), Suite: suite,
					Components: fields(v["Components"]), Archs: fields(v["Architectures"])}
				if err := s.check(); err != nil {
					return nil, err
				}
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// check refuses sources this package cannot read.
func (s Source) check() error {
	switch {
	case !strings.HasPrefix(s.URI, "http://") && !strings.HasPrefix(s.URI, "https://"):
		return fmt.Errorf("source %q: only http and https repositories can be read", s)
	case s.Flat() != (len(s.Components) == 0):
		return fmt.Errorf("source %q: a suite ending in / (flat repository) takes no components, any other needs them", s)
	}
	return nil
}

// fields is strings.Fields, nil for none.
func fields(s string) []string {
	if f := strings.Fields(s); len(f) > 0 {
		return f
	}
	return nil
}

func has(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}
