package catalog

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

var handlerPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}$`)

// DownloadURL returns the RIE download address for arch.
func (r RIE) DownloadURL(a Arch) string {
	return strings.NewReplacer("{version}", r.Version, "{arch}", string(a)).Replace(r.URL)
}

// expand replaces {version} in a catalog value.
func expand(s, version string) string { return strings.ReplaceAll(s, "{version}", version) }

func expandAll(list []string, version string) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = expand(s, version)
	}
	return out
}

// resolveVariant merges the language's defaults for a variant with the
// runtime's overrides and fills in what is implied.
func resolveVariant(c *Catalog, r *Runtime, name string) Variant {
	ld := c.Languages[r.Language]
	base, over := ld.Variants[name], r.Variants[name]
	s := base
	if over.OS != "" {
		s.OS = over.OS
	}
	if over.Template != "" {
		s.Template = over.Template
	}
	if over.Base != "" {
		s.Base = over.Base
	}
	if over.BuildBase != "" {
		s.BuildBase = over.BuildBase
	}
	if over.Packages != nil {
		s.Packages = over.Packages
	}
	if over.BuildPackages != nil {
		s.BuildPackages = over.BuildPackages
	}
	if over.RIC != "" {
		s.RIC = over.RIC
	}
	if over.RIE != nil {
		s.RIE = over.RIE
	}
	if over.Architectures != nil {
		s.Architectures = over.Architectures
	}
	s.Extensions = append(append([]string(nil), base.Extensions...), over.Extensions...)
	if len(s.Extensions) == 0 {
		s.Extensions = nil
	}
	s.Labels = mergeMaps(base.Labels, over.Labels)
	s.Args = mergeMaps(base.Args, over.Args)
	for k, v := range s.Args {
		s.Args[k] = expand(v, r.Version)
	}
	if s.OS == "" {
		s.OS = familyOf(name)
	}
	if s.Template == "" {
		s.Template = ld.OS[s.OS].Template
	}
	if s.RIC == "" {
		s.RIC = r.RIC
	}
	if s.RIC == "" {
		s.RIC = ld.RIC
	}
	if s.OS == AWS && s.Base == "" && len(r.Tags) > 0 {
		reg := c.Defaults.AWSRegistry
		if reg == "" {
			reg = "public.ecr.aws/lambda"
		}
		s.Base = reg + "/" + ld.Image + ":" + r.Tags[0]
	}
	s.Base = expand(s.Base, r.Version)
	s.BuildBase = expand(s.BuildBase, r.Version)
	if s.BuildBase == "" {
		s.BuildBase = s.Base
	}
	s.Packages = expandAll(s.Packages, r.Version)
	s.BuildPackages = expandAll(s.BuildPackages, r.Version)
	if len(s.Architectures) == 0 {
		s.Architectures = r.Architectures
	}
	return s
}

// familyOf maps a variant name to its OS family: "alpine3.20" -> alpine,
// "debian-trixie" -> debian. Unknown names map to "".
func familyOf(name string) OS {
	for _, o := range append(append([]OS{}, VariantOSes...), AL201803) {
		n := string(o)
		if name == n {
			return o
		}
		if strings.HasPrefix(name, n) && o != AL2 {
			rest := name[len(n):]
			if rest[0] >= '0' && rest[0] <= '9' || rest[0] == '-' || rest[0] == '.' || rest[0] == '_' {
				return o
			}
		}
	}
	return ""
}

// Target is one image to render and build: a runtime as one variant.
type Target struct {
	Runtime *Runtime
	Variant string
	// Default is true when Variant is the runtime's default variant.
	Default bool
	// Spec is the variant fully resolved: language defaults merged,
	// {version} replaced, base image, template and architectures filled in.
	Spec Variant
	// BuildDepends and Depends are the packages the template installs in
	// the build stage and the final image on this OS ({version} replaced).
	BuildDepends, Depends []string
	// Arches are the architectures selected for this target.
	Arches []Arch
	// Handler is the language's sample handler.
	Handler string
	// RIE is the emulator release to layer in; zero when left out.
	RIE RIE
	// Labels are the catalog's and the variant's labels.
	Labels map[string]string
	// Image is AWS's repository name for the language (python, nodejs, ...).
	Image string
}

// Name is "runtime/variant", e.g. "python3.12/al2023".
func (t *Target) Name() string { return t.Runtime.ID + "/" + t.Variant }

// ExtensionPaths returns the variant's extensions (ReadFile resolved them
// against the directory of the catalog file that names them).
func (t *Target) ExtensionPaths() []string {
	return append([]string(nil), t.Spec.Extensions...)
}

// WithRIE reports whether the emulator is layered in.
func (t *Target) WithRIE() bool {
	return t.Spec.OS != AWS && (t.Spec.RIE == nil || *t.Spec.RIE)
}

// Deprecation returns the deprecation date and whether it has passed at now.
func (r *Runtime) Deprecation(now time.Time) (time.Time, bool) {
	if r.Deprecated == "" {
		return time.Time{}, false
	}
	d, err := ParseDate(r.Deprecated)
	if err != nil {
		return time.Time{}, false
	}
	return d, !now.Before(d)
}

// Errors of Targets that callers branch on; a command line adds the flag
// that would fix them.
var (
	// ErrNoSelection: the selector names no runtime and does not ask for all.
	ErrNoSelection = errors.New("no runtime selected")
	// ErrNoRuntime: the selector names a runtime the catalog lacks.
	ErrNoRuntime = errors.New("no such runtime")
)

// Selector picks targets out of a catalog.
type Selector struct {
	// Runtimes are runtime ids; All selects every runtime instead.
	Runtimes []string
	All      bool
	// Variants restricts the variants (names or OS families). Empty means
	// the default variant of each named runtime, or every variant with All.
	Variants []string
	// Arches restricts the architectures; empty means all the variant has.
	Arches []Arch
}

// Targets expands sel into targets, in catalog order of runtimes and name
// order of variants. Naming a runtime, variant or architecture that does not
// exist is an error that lists what does.
func (c *Catalog) Targets(sel Selector) ([]Target, error) {
	if !sel.All && len(sel.Runtimes) == 0 {
		return nil, ErrNoSelection
	}
	for _, v := range sel.Variants {
		if IsAL1(v) {
			return nil, ErrAL1
		}
	}
	var runtimes []*Runtime
	if sel.All {
		for i := range c.Runtimes {
			runtimes = append(runtimes, &c.Runtimes[i])
		}
	} else {
		for _, id := range sel.Runtimes {
			r, ok := c.Runtime(id)
			if !ok {
				return nil, fmt.Errorf("%w %q in %s", ErrNoRuntime, id, c.file)
			}
			runtimes = append(runtimes, r)
		}
	}
	var out []Target
	for _, r := range runtimes {
		names := c.variantNames(r, sel)
		if len(names) == 0 && !sel.All {
			return nil, c.noVariant(r, sel.Variants)
		}
		for _, name := range names {
			t := c.target(r, name)
			t.Arches = intersect(t.Spec.Architectures, sel.Arches)
			if len(t.Arches) == 0 {
				if sel.All {
					continue // --all builds what exists for the platform
				}
				return nil, fmt.Errorf("%s is built for %s only, not %s", t.Name(), quoteList(t.Spec.Architectures), quoteList(sel.Arches))
			}
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no target matches the selection")
	}
	return out, nil
}

func (c *Catalog) variantNames(r *Runtime, sel Selector) []string {
	all := sortedKeys(r.Variants)
	if len(sel.Variants) == 0 {
		if sel.All {
			return all
		}
		return []string{r.DefaultVariant()}
	}
	var out []string
	for _, name := range all {
		fam := resolveVariant(c, r, name).OS
		for _, want := range sel.Variants {
			if name == want || string(fam) == want {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

func (c *Catalog) target(r *Runtime, name string) Target {
	ld := c.Languages[r.Language]
	t := Target{
		Runtime: r,
		Variant: name,
		Default: name == r.DefaultVariant(),
		Spec:    resolveVariant(c, r, name),
		Handler: ld.Handler,
		Image:   ld.Image,
	}
	needs := ld.OS[t.Spec.OS]
	t.BuildDepends = expandAll(needs.BuildDepends, r.Version)
	t.Depends = expandAll(needs.Depends, r.Version)
	t.Labels = mergeMaps(c.Defaults.Labels, t.Spec.Labels)
	if t.WithRIE() {
		t.RIE = c.Defaults.RIE
	}
	return t
}

func intersect(have, want []Arch) []Arch {
	if len(want) == 0 {
		return append([]Arch(nil), have...)
	}
	var out []Arch
	for _, a := range have {
		if contains(want, a) {
			out = append(out, a)
		}
	}
	return out
}
