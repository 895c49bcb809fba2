package osindex

import (
	"context"
	"strings"
)

// ApkInstalls is Installs for `apk add names` on an Alpine image with the
// repositories repos: each name and what it depends on (D:, where a
// so:, cmd: or pc: name goes to the first package providing it), less
// what the image has, at the newest version the repositories offer.
// Conflicts (!name) are not followed; version constraints are ignored.
func (c *Client) ApkInstalls(ctx context.Context, repos []string, arch string, names []string, have func(string) bool) (map[string]string, error) {
	g, err := c.apkIndexes(ctx, repos, arch)
	if err != nil {
		return nil, err
	}
	return closure(g, names, have)
}

// apkGraph is the newest version of each package of some repositories.
type apkGraph struct {
	pkgs     map[string]apkEntry
	provides map[string][]string
}

func (g *apkGraph) add(e apkEntry) {
	if old, ok := g.pkgs[e.name]; ok && apkCompare(e.version, old.version) <= 0 {
		return
	}
	g.pkgs[e.name] = e
	for _, p := range e.provides {
		if !has(g.provides[p], e.name) {
			g.provides[p] = append(g.provides[p], e.name)
		}
	}
}

func (g *apkGraph) offers(name string) (string, bool) {
	if _, ok := g.pkgs[name]; ok {
		return name, true
	}
	if p := g.provides[name]; len(p) > 0 {
		return p[0], true
	}
	return "", false
}

func (g *apkGraph) providers(name string) []string { return g.provides[name] }

func (g *apkGraph) version(pkg string) string { return g.pkgs[pkg].version }

// relations are pkg's D: entries, one alternative each, without their
// version constraints; conflicts (!name) are left out.
func (g *apkGraph) relations(pkg string) ([][]string, error) {
	var out [][]string
	for _, d := range g.pkgs[pkg].depends {
		if strings.HasPrefix(d, "!") {
			continue
		}
		if i := strings.IndexAny(d, "<>=~"); i > 0 {
			d = d[:i]
		}
		out = append(out, []string{d})
	}
	return out, nil
}
