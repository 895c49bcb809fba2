package osindex

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"pault.ag/go/debian/dependency"
)

// Installs returns what `apt-get install --no-install-recommends names`
// would bring into an image for arch whose installed packages are those
// have reports, by package name with the candidate version srcs offer:
// each name and, recursively, what it pre-depends and depends on, taking
// of each alternative the first the image has or else the first the
// index offers (a virtual package: its first provider by name). What the
// image has already is left out, with what it depends on. Names may carry
// :arch or =version (apt's syntax; both are ignored); a name the index
// does not offer is left out (apt fails the build on it, with a better
// message than this would).
//
// It is an approximation of apt's resolver that errs on the side of
// more: a version constraint that would make apt upgrade a package the
// image has is not followed (callers add the packages an earlier build
// installed or upgraded to names, and have answers false for them).
func (c *Client) Installs(ctx context.Context, srcs []Source, arch string, names []string, have func(string) bool) (map[string]string, error) {
	idx, err := c.index(ctx, srcs, arch)
	if err != nil {
		return nil, err
	}
	return closure(idx, names, have)
}

// graph is an index as closure walks it.
type graph interface {
	// offers is the package installing name installs: name, or else its
	// first provider; false when the index has neither.
	offers(name string) (string, bool)
	// providers are the packages that provide name, sorted.
	providers(name string) []string
	version(pkg string) string
	// relations are pkg's dependencies, each a list of alternatives.
	relations(pkg string) ([][]string, error)
}

// closure is Installs over g: names and what they need, less what the
// image has.
func closure(g graph, names []string, have func(string) bool) (map[string]string, error) {
	out := map[string]string{}
	queue := append([]string(nil), names...)
	for len(queue) > 0 {
		name, ok := g.offers(baseName(queue[0]))
		queue = queue[1:]
		if !ok || have(name) {
			continue
		}
		if _, done := out[name]; done {
			continue
		}
		out[name] = g.version(name)
		rels, err := g.relations(name)
		if err != nil {
			return nil, err
		}
		for _, alts := range rels {
			if pick := pick(g, alts, have); pick != "" {
				queue = append(queue, pick)
			}
		}
	}
	return out, nil
}

// pick is the alternative to install: "" when the image has one (or a
// package providing one), else the first the index offers ("" when none
// is).
func pick(g graph, alts []string, have func(string) bool) string {
	for _, a := range alts {
		if have(a) || slices.ContainsFunc(g.providers(a), have) {
			return ""
		}
	}
	for _, a := range alts {
		if name, ok := g.offers(a); ok {
			return name
		}
	}
	return ""
}

func (idx *index) offers(name string) (string, bool) {
	if _, ok := idx.cands[name]; ok {
		return name, true
	}
	if p := idx.provides[name]; len(p) > 0 {
		return p[0], true
	}
	return "", false
}

func (idx *index) providers(name string) []string { return idx.provides[name] }

func (idx *index) version(pkg string) string { return idx.cands[pkg].Version.String() }

// relations parses pkg's Pre-Depends and Depends (Debian's syntax).
func (idx *index) relations(pkg string) ([][]string, error) {
	deps := idx.cands[pkg].depends
	if strings.TrimSpace(deps) == "" {
		return nil, nil
	}
	d, err := dependency.Parse(deps)
	if err != nil {
		return nil, fmt.Errorf("package %s: its dependencies %q: %w", pkg, deps, err)
	}
	out := make([][]string, 0, len(d.Relations))
	for _, rel := range d.Relations {
		var alts []string
		for _, p := range rel.Possibilities {
			alts = append(alts, p.Name)
		}
		out = append(out, alts)
	}
	return out, nil
}

// baseName is an apt-get install argument without =version, /release
// or :arch, or an apk add argument without its version constraint or
// @tag.
func baseName(arg string) string {
	if i := strings.IndexAny(arg, "=/:@<>~"); i >= 0 {
		return arg[:i]
	}
	return arg
}

// InstallState is a digest of installs (Installs's result): the same
// packages at the same versions give the same digest.
func InstallState(installs map[string]string) string {
	h := sha256.New()
	for _, n := range slices.Sorted(maps.Keys(installs)) {
		fmt.Fprintf(h, "%s %s\n", n, installs[n])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// joinRelations joins dependency fields (Pre-Depends, Depends), leaving
// out empty ones.
func joinRelations(fields ...string) string {
	var parts []string
	for _, f := range fields {
		if f = strings.TrimSpace(f); f != "" {
			parts = append(parts, f)
		}
	}
	return strings.Join(parts, ", ")
}

// relationNames are the package names of a relation field such as
// Provides ("foo (= 1.0), bar"), versions and qualifiers left out.
func relationNames(field string) []string {
	var out []string
	for _, part := range strings.Split(field, ",") {
		f := strings.Fields(part)
		if len(f) > 0 {
			out = append(out, baseName(strings.TrimSuffix(f[0], "(")))
		}
	}
	return out
}
