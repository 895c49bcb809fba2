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
	out := map[string]string{}
	queue := append([]string(nil), names...)
	for len(queue) > 0 {
		name, ok := idx.real(baseName(queue[0]))
		queue = queue[1:]
		if !ok || have(name) {
			continue
		}
		if _, done := out[name]; done {
			continue
		}
		cand := idx.cands[name]
		out[name] = cand.Version.String()
		next, err := idx.depends(name, cand.depends, have)
		if err != nil {
			return nil, err
		}
		queue = append(queue, next...)
	}
	return out, nil
}

// depends returns, of each relation of deps (pkg's) that the image does
// not satisfy already, the alternative to install.
func (idx *index) depends(pkg, deps string, have func(string) bool) ([]string, error) {
	if strings.TrimSpace(deps) == "" {
		return nil, nil
	}
	d, err := dependency.Parse(deps)
	if err != nil {
		return nil, fmt.Errorf("package %s: its dependencies %q: %w", pkg, deps, err)
	}
	var out []string
	for _, rel := range d.Relations {
		if pick := idx.pick(rel, have); pick != "" {
			out = append(out, pick)
		}
	}
	return out, nil
}

// pick is the alternative of rel to install: "" when the image has one,
// else the first the index offers ("" when none is).
func (idx *index) pick(rel dependency.Relation, have func(string) bool) string {
	for _, p := range rel.Possibilities {
		if idx.satisfied(p.Name, have) {
			return ""
		}
	}
	for _, p := range rel.Possibilities {
		if name, ok := idx.real(p.Name); ok {
			return name
		}
	}
	return ""
}

// satisfied reports whether the image has name or a package providing it.
func (idx *index) satisfied(name string, have func(string) bool) bool {
	if have(name) {
		return true
	}
	for _, p := range idx.provides[name] {
		if have(p) {
			return true
		}
	}
	return false
}

// real is name if the index offers it, else its first provider.
func (idx *index) real(name string) (string, bool) {
	if _, ok := idx.cands[name]; ok {
		return name, true
	}
	if p := idx.provides[name]; len(p) > 0 {
		return p[0], true
	}
	return "", false
}

// baseName is an apt-get install argument without =version, /release
// or :arch.
func baseName(arg string) string {
	if i := strings.IndexAny(arg, "=/:"); i >= 0 {
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
