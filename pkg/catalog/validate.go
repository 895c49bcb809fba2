package catalog

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lambdaimg/lambdaimg/pkg/buildkit/spec"
)

// TemplateSet says which Dockerfile templates exist; validation rejects a
// variant whose template is missing.
type TemplateSet interface {
	// Dockerfile returns the path of the template a variant of lang,
	// resolved to spec, is rendered from, and whether it exists.
	Dockerfile(lang Language, spec Variant) (path string, ok bool)
}

// Problem is one thing wrong with a catalog.
type Problem struct {
	Where string // "file:line"
	Path  string // YAML path, e.g. runtimes[python3.8].architectures[1]
	Msg   string
}

func (p Problem) Error() string { return oneLine(fmt.Sprintf("%s: %s: %s", p.Where, p.Path, p.Msg)) }

// ValidationError holds every problem found in a catalog.
type ValidationError struct{ Problems []Problem }

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.Is/As see each problem.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

type validator struct {
	c        *Catalog
	tmpl     TemplateSet
	problems []Problem
}

func (v *validator) addf(file, path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Where: v.c.where(file, path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// check reports value at path unless it matches pattern; what names the rule.
func (v *validator) check(file, path, value string, ok bool, what string) {
	if !ok {
		v.addf(file, path, "%q is not %s", value, what)
	}
}

// Validate checks the catalog's meaning and returns a *ValidationError
// listing every problem, or nil.
func Validate(c *Catalog, tmpl TemplateSet) error {
	v := &validator{c: c, tmpl: tmpl}
	if c.Extends != "" && c.Extends != Builtin {
		v.addf(c.file, "extends", "%q is not %q", c.Extends, Builtin)
	}
	v.defaults(c.file, c.Defaults)
	langs := make([]string, 0, len(c.Languages))
	for l := range c.Languages {
		langs = append(langs, string(l))
	}
	sort.Strings(langs)
	for _, l := range langs {
		v.language(Language(l), c.Languages[Language(l)])
	}
	seen := map[string]bool{}
	tags := map[string]string{} // language/tag -> runtime id
	for i := range c.Runtimes {
		r := &c.Runtimes[i]
		path := "runtimes[" + r.ID + "]"
		if r.ID == "" {
			path = fmt.Sprintf("runtimes[%d]", i)
		}
		if seen[r.ID] {
			v.addf(r.file, path+".id", "duplicate runtime id %q", r.ID)
		}
		seen[r.ID] = true
		v.runtime(r, path, tags)
	}
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

func (v *validator) defaults(file string, d Defaults) {
	if d.Namespace != "" {
		v.check(file, "defaults.namespace", d.Namespace, namespacePattern.MatchString(d.Namespace), "a registry namespace")
	}
	if d.AWSRegistry != "" {
		v.check(file, "defaults.awsRegistry", d.AWSRegistry, registryPattern.MatchString(d.AWSRegistry), "a registry host with an optional path")
	}
	if d.SourceDate != "" {
		if _, err := ParseDate(d.SourceDate); err != nil {
			v.addf(file, "defaults.sourceDate", "%v", err)
		}
	}
	v.rie(file, d.RIE)
	v.labels(file, "defaults.labels", d.Labels)
	for _, k := range sortedKeys(d.RegistryMirrors) {
		p := "defaults.registryMirrors." + k
		v.check(file, p, k, registryPattern.MatchString(k), "a registry host")
		v.check(file, p, d.RegistryMirrors[k], registryPattern.MatchString(d.RegistryMirrors[k]), "a registry host with an optional path")
	}
	for i, r := range d.Registries {
		v.check(file, fmt.Sprintf("defaults.registries[%d]", i), r, registryPattern.MatchString(r), "a registry repository prefix")
	}
	for i, b := range d.Builders {
		if _, err := spec.Parse(b); err != nil {
			v.addf(file, fmt.Sprintf("defaults.builders[%d]", i), "%v", err)
		}
	}
}

func (v *validator) rie(file string, r RIE) {
	if r.Version != "" {
		v.check(file, "defaults.rie.version", r.Version, versionPattern.MatchString(r.Version), "a version")
	}
	if r.URL == "" {
		return
	}
	for _, a := range Arches {
		u := r.DownloadURL(a)
		v.check(file, "defaults.rie.url", u, urlPattern.MatchString(u), "an http(s) URL without quotes, spaces or shell characters")
		sum, ok := r.SHA256[a]
		switch {
		case !ok:
			v.addf(file, "defaults.rie.sha256", "missing the sha256 for %s (every download is checked)", a)
		case !sha256Pattern.MatchString(sum):
			v.addf(file, "defaults.rie.sha256."+string(a), "%q is not a sha256 (64 lower-case hex digits)", sum)
		}
	}
	for _, a := range sortedKeys(r.SHA256) {
		if !a.Valid() {
			v.addf(file, "defaults.rie.sha256."+string(a), "arch %q is not one of %s", a, quoteList(Arches))
		}
	}
}

func (v *validator) labels(file, path string, labels map[string]string) {
	for _, k := range sortedKeys(labels) {
		v.check(file, path+"."+k, k, labelKeyPattern.MatchString(k), "a label key (lower-case letters, digits, '.', '-', '_')")
		val := labels[k]
		v.check(file, path+"."+k, val, labelValuePattern.MatchString(val), "a label value (at most 256 characters, no quotes, backslashes, '$', '`' or control characters)")
	}
}

func (v *validator) language(l Language, ld LanguageDefaults) {
	path := "languages." + string(l)
	if !l.Valid() {
		v.addf(v.c.file, path, "language %q is not one of %s", l, quoteList(Languages))
	}
	v.check(v.c.file, path+".image", ld.Image, idPattern.MatchString(ld.Image), "an image repository name")
	if ld.RIC != "" {
		v.check(v.c.file, path+".ric", ld.RIC, versionPattern.MatchString(ld.RIC), "a version")
	}
	if ld.Handler != "" {
		v.check(v.c.file, path+".handler", ld.Handler, handlerPattern.MatchString(ld.Handler), "a handler name")
	}
	for _, name := range sortedKeys(ld.Variants) {
		v.variantFields(v.c.file, path+".variants."+name, ld.Variants[name])
	}
	v.missing(v.c.file, path+".missing", ld.Missing, nil)
	for _, o := range sortedKeys(ld.OS) {
		p := path + ".os." + string(o)
		if !contains(RICOSes, o) {
			v.addf(v.c.file, p, "os %q is not one of %s", o, quoteList(RICOSes))
		}
		v.template(v.c.file, p+".template", ld.OS[o].Template)
		v.packages(v.c.file, p+".buildDepends", ld.OS[o].BuildDepends)
		v.packages(v.c.file, p+".depends", ld.OS[o].Depends)
	}
}

func (v *validator) template(file, path, name string) {
	if name != "" {
		v.check(file, path, name, idPattern.MatchString(name), "a template name (lower-case letters, digits, '.', '-', '_': templates/<language>/<name>.Dockerfile.tmpl)")
	}
}

// packages checks OS package names as they will be after substitution.
func (v *validator) packages(file, path string, pkgs []string) {
	for i, p := range pkgs {
		v.check(file, fmt.Sprintf("%s[%d]", path, i), p, packagePattern.MatchString(expand(p, "1.0")), "an OS package name")
	}
}

// variantFields checks the values of one variant spec; placeholders are
// checked as they will be after substitution.
func (v *validator) variantFields(file, path string, s Variant) {
	if s.OS != "" && !s.OS.ValidVariant() && s.OS != AL201803 {
		v.addf(file, path+".os", "os %q is not one of %s", s.OS, quoteList(VariantOSes))
	}
	for _, f := range []struct{ key, val string }{{"base", s.Base}, {"buildBase", s.BuildBase}} {
		if f.val == "" {
			continue
		}
		img := expand(f.val, "1.0")
		v.check(file, path+"."+f.key, f.val, imagePattern.MatchString(img), "an image reference")
	}
	v.template(file, path+".template", s.Template)
	v.packages(file, path+".packages", s.Packages)
	v.packages(file, path+".buildPackages", s.BuildPackages)
	if s.RIC != "" {
		v.check(file, path+".ric", s.RIC, versionPattern.MatchString(s.RIC), "a version")
	}
	for i, a := range s.Architectures {
		if !a.Valid() {
			v.addf(file, fmt.Sprintf("%s.architectures[%d]", path, i), "arch %q is not one of %s", a, quoteList(Arches))
		}
	}
	v.labels(file, path+".labels", s.Labels)
	for i, e := range s.Extensions {
		if e == "" || strings.ContainsAny(e, "\n\r\x00") {
			v.addf(file, fmt.Sprintf("%s.extensions[%d]", path, i), "%q is not a file path", e)
		}
	}
	for _, k := range sortedKeys(s.Args) {
		v.check(file, path+".args."+k, k, argKeyPattern.MatchString(k), "a build-argument name (upper-case letters, digits, '_')")
		val := expand(s.Args[k], "1.0")
		v.check(file, path+".args."+k, s.Args[k], argValuePattern.MatchString(val), "a build-argument value (no spaces, quotes or shell characters)")
	}
}

func (v *validator) runtime(r *Runtime, path string, tags map[string]string) {
	f := r.file
	v.check(f, path+".id", r.ID, idPattern.MatchString(r.ID), "a runtime id (like python3.12)")
	if !r.Language.Valid() {
		v.addf(f, path+".language", "language %q is not one of %s", r.Language, quoteList(Languages))
	} else if _, ok := v.c.Languages[r.Language]; !ok {
		v.addf(f, path+".language", "language %q has no entry under languages", r.Language)
	}
	v.check(f, path+".version", r.Version, versionPattern.MatchString(r.Version), "a language version")
	if len(r.Tags) == 0 {
		v.addf(f, path+".tags", "a runtime needs at least one image tag")
	}
	for i, t := range r.Tags {
		v.check(f, fmt.Sprintf("%s.tags[%d]", path, i), t, tagPattern.MatchString(t), "an image tag")
		key := string(r.Language) + ":" + t
		if other, ok := tags[key]; ok && other != r.ID {
			v.addf(f, fmt.Sprintf("%s.tags[%d]", path, i), "tag %q is already used by %s", t, other)
		}
		tags[key] = r.ID
	}
	if !r.OS.ValidAWS() {
		v.addf(f, path+".os", "os %q is not one of %s", r.OS, quoteList(AWSOSes))
	}
	v.arches(f, path+".architectures", r.Architectures)
	if r.OS == AL201803 {
		for i, a := range r.Architectures {
			if a != X86_64 {
				v.addf(f, fmt.Sprintf("%s.architectures[%d]", path, i), "AWS builds Amazon Linux 2018.03 runtimes for x86_64 only")
			}
		}
	}
	v.dates(r, path)
	if r.RIC != "" {
		v.check(f, path+".ric", r.RIC, versionPattern.MatchString(r.RIC), "a version")
	}
	if len(r.Variants) == 0 {
		v.addf(f, path+".variants", "a runtime needs at least one variant")
	}
	for _, name := range sortedKeys(r.Variants) {
		v.variant(r, path+".variants."+name, name)
	}
	v.missing(f, path+".missing", r.Missing, r)
	if def := r.DefaultVariant(); len(r.Variants) > 0 && (r.Default != "" || r.OS.ValidAWS()) {
		if _, ok := r.Variants[def]; !ok {
			p := path + ".variants"
			if r.Default != "" {
				p = path + ".default"
			}
			v.addf(f, p, "default variant %q is not among the variants %v", def, sortedKeys(r.Variants))
		}
	}
}

func (v *validator) arches(file, path string, arches []Arch) {
	if len(arches) == 0 {
		v.addf(file, path, "at least one architecture is needed, from %s", quoteList(Arches))
	}
	seen := map[Arch]bool{}
	for i, a := range arches {
		p := fmt.Sprintf("%s[%d]", path, i)
		if !a.Valid() {
			v.addf(file, p, "arch %q is not one of %s", a, quoteList(Arches))
		}
		if seen[a] {
			v.addf(file, p, "arch %q is listed twice", a)
		}
		seen[a] = true
	}
}

func (v *validator) dates(r *Runtime, path string) {
	var prev time.Time
	var prevKey string
	for _, d := range []struct{ key, val string }{{"deprecated", r.Deprecated}, {"blockCreate", r.BlockCreate}, {"blockUpdate", r.BlockUpdate}} {
		if d.val == "" {
			continue
		}
		t, err := ParseDate(d.val)
		if err != nil {
			v.addf(r.file, path+"."+d.key, "%v", err)
			continue
		}
		if !prev.IsZero() && t.Before(prev) {
			v.addf(r.file, path+"."+d.key, "%s is before %s (%s)", d.val, prevKey, prev.Format(dateLayout))
		}
		prev, prevKey = t, d.key
	}
}

// variant checks one variant of r as it resolves (language defaults merged in).
func (v *validator) variant(r *Runtime, path, name string) {
	f := r.file
	if !idPattern.MatchString(name) {
		v.addf(f, path, "variant name %q is not lower-case letters, digits, '.', '-' and '_'", name)
		return
	}
	v.variantFields(f, path, r.Variants[name])
	if !r.Language.Valid() {
		return
	}
	s := resolveVariant(v.c, r, name)
	switch {
	case s.OS == AL201803 || IsAL1(name):
		v.addf(f, path, "%v", ErrAL1)
		return
	case s.OS == "":
		v.addf(f, path+".os", "variant %q needs an os, one of %s", name, quoteList(VariantOSes))
		return
	case !s.OS.ValidVariant():
		return // reported by variantFields
	}
	raw, lang := r.Variants[name], v.c.Languages[r.Language].Variants[name]
	if s.OS == AWS && (raw.RIE != nil || lang.RIE != nil || len(s.Args) > 0 || raw.BuildBase != "" || lang.BuildBase != "" ||
		len(s.BuildPackages) > 0 || s.Template != "") {
		v.addf(f, path, "the aws variant takes AWS's image as it is (it already has the emulator): rie, args, buildBase, buildPackages and template do not apply; use packages, labels or extensions")
	}
	if _, ok := v.c.Languages[r.Language]; ok && s.OS != AWS {
		if _, ok := v.c.Languages[r.Language].OS[s.OS]; !ok {
			v.addf(f, path, "%s is not known to build on %s: languages.%s.os has no entry %s (it has %s)",
				r.Language, s.OS, r.Language, s.OS, quoteList(sortedKeys(v.c.Languages[r.Language].OS)))
		}
	}
	if tp, ok := v.templatePath(r.Language, s); !ok {
		p := path
		if raw.Template != "" {
			p += ".template"
		}
		v.addf(f, p, "no template %s for %s on %s", tp, r.Language, s.OS)
	}
	if s.OS != AWS && s.Base == "" {
		v.addf(f, path+".base", "variant %q has no base image (set base here or under languages.%s.variants.%s)", name, r.Language, name)
	}
	for i, a := range s.Architectures {
		if !contains(r.Architectures, a) {
			v.addf(f, fmt.Sprintf("%s.architectures[%d]", path, i), "arch %q is not one of the runtime's architectures %s", a, quoteList(r.Architectures))
		}
	}
}

func (v *validator) templatePath(lang Language, s Variant) (string, bool) {
	if v.tmpl == nil {
		return "", true
	}
	return v.tmpl.Dockerfile(lang, s)
}

const dateLayout = "2006-01-02"

// ParseDate parses a catalog date (YYYY-MM-DD).
func ParseDate(s string) (time.Time, error) {
	if !datePattern.MatchString(s) {
		return time.Time{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q is not a calendar date", s)
	}
	return t, nil
}
