package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Builtin is the value of Extends that overlays the embedded catalog.
const Builtin = "builtin"

// Parse decodes a catalog strictly: unknown keys, wrong types and duplicate
// keys are errors naming file and line, all reported at once. It does not
// validate meaning; call Validate for that.
func Parse(file string, data []byte) (*Catalog, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(file, err)
	}
	c := &Catalog{file: file, pos: map[string]map[string]int{file: {}}}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: the catalog is empty", file)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	positions(root.Content[0], "", c.pos[file])
	for i := range c.Runtimes {
		c.Runtimes[i].file = file
	}
	return c, nil
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)
var unknownField = regexp.MustCompile(`^field (\S+) not found in type catalog\.(\w+)$`)

// yamlError rewrites yaml.v3's messages as "file:line: message", one per
// problem, naming unknown keys plainly.
func yamlError(file string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		msg := oneLine(strings.TrimPrefix(err.Error(), "yaml: "))
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			return errors.New(oneLine(fmt.Sprintf("%s:%s: %s", file, m[1], m[2])))
		}
		return errors.New(oneLine(fmt.Sprintf("%s: %s", file, msg)))
	}
	errs := make([]error, 0, len(te.Errors))
	for _, e := range te.Errors {
		line, msg := "?", oneLine(e) // a value echoed may hold a newline
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, msg = m[1], m[2]
		}
		if m := unknownField.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("unknown key %q in %s", m[1], strings.ToLower(m[2]))
		}
		errs = append(errs, errors.New(oneLine(fmt.Sprintf("%s:%s: %s", file, line, msg))))
	}
	return errors.Join(errs...)
}

// positions records the line of every mapping key and sequence item under
// path, e.g. "runtimes[python3.8].variants.debian.base". Sequence items that
// are mappings with an id are named by it, so positions survive an overlay.
func positions(n *yaml.Node, path string, out map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			out[p] = k.Line
			positions(v, p, out)
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			p := path + "[" + itemKey(v, i) + "]"
			out[p] = v.Line
			positions(v, p, out)
		}
	case yaml.AliasNode:
		if n.Alias != nil {
			positions(n.Alias, path, out)
		}
	}
}

func itemKey(n *yaml.Node, i int) string {
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == "id" && n.Content[j+1].Kind == yaml.ScalarNode {
				return n.Content[j+1].Value
			}
		}
	}
	return strconv.Itoa(i)
}

// where returns "file:line" for the deepest recorded part of path, looking
// in file's positions first and then in the other files the catalog came from
// (an overlay's variant of a builtin runtime is found in the overlay).
func (c *Catalog) where(file, path string) string {
	files := []string{file}
	for f := range c.pos {
		if f != file {
			files = append(files, f)
		}
	}
	sort.Strings(files[1:])
	for p := path; p != ""; {
		for _, f := range files {
			if l, ok := c.pos[f][p]; ok {
				return f + ":" + strconv.Itoa(l)
			}
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return file
}

// Overlay returns base with c's runtimes, variants, languages and non-empty
// defaults laid over it. Neither input is modified.
func Overlay(base, c *Catalog) *Catalog {
	out := &Catalog{
		Defaults:  base.Defaults,
		Languages: map[Language]LanguageDefaults{},
		file:      c.file,
		pos:       map[string]map[string]int{},
	}
	for f, p := range base.pos {
		out.pos[f] = p
	}
	for f, p := range c.pos {
		out.pos[f] = p
	}
	out.Defaults = overlayDefaults(base.Defaults, c.Defaults)
	for l, ld := range base.Languages {
		out.Languages[l] = ld
	}
	for l, ld := range c.Languages {
		if old, ok := out.Languages[l]; ok {
			ld.Variants = mergeMaps(old.Variants, ld.Variants)
			ld.OS = mergeMaps(old.OS, ld.OS)
			ld.Missing = mergeMaps(old.Missing, ld.Missing)
			if ld.Image == "" {
				ld.Image = old.Image
			}
			if ld.RIC == "" {
				ld.RIC = old.RIC
			}
			if ld.Handler == "" {
				ld.Handler = old.Handler
			}
		}
		out.Languages[l] = ld
	}
	out.Runtimes = append(make([]Runtime, 0, len(base.Runtimes)+len(c.Runtimes)), base.Runtimes...)
	// Where each id is in out, so the overlay is linear: a catalog of
	// 64k runtimes took minutes when each entry searched the list.
	index := make(map[string][]int, len(out.Runtimes))
	for i, r := range out.Runtimes {
		index[r.ID] = append(index[r.ID], i)
	}
	for _, r := range c.Runtimes {
		at, ok := index[r.ID]
		if !ok {
			index[r.ID] = []int{len(out.Runtimes)}
			out.Runtimes = append(out.Runtimes, r)
			continue
		}
		for _, i := range at {
			// A runtime with only id and variants adds variants; one with
			// a language replaces the entry.
			if r.Language == "" {
				merged := out.Runtimes[i]
				merged.Variants = mergeMaps(merged.Variants, r.Variants)
				out.Runtimes[i] = merged
			} else {
				out.Runtimes[i] = r
			}
		}
	}
	return out
}

func mergeMaps[K comparable, V any](a, b map[K]V) map[K]V {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := make(map[K]V, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// overlayDefaults lays the defaults d over base: maps merge, set values
// replace.
func overlayDefaults(base, d Defaults) Defaults {
	out := base
	if d.Namespace != "" {
		out.Namespace = d.Namespace
	}
	if d.AWSRegistry != "" {
		out.AWSRegistry = d.AWSRegistry
	}
	if d.RIE.Version != "" || d.RIE.URL != "" || len(d.RIE.SHA256) > 0 {
		out.RIE = d.RIE
	}
	out.Labels = mergeMaps(base.Labels, d.Labels)
	out.RegistryMirrors = mergeMaps(base.RegistryMirrors, d.RegistryMirrors)
	if d.SourceDate != "" {
		out.SourceDate = d.SourceDate
	}
	if len(d.Registries) > 0 {
		out.Registries = d.Registries
	}
	if len(d.Builders) > 0 {
		out.Builders = d.Builders
	}
	return out
}
