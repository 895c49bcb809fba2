package render

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"text/template"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

// Layout of a template directory:
//
//	partials/*.tmpl                     named templates shared by all Dockerfiles
//	common/*.tmpl                       files every non-aws context gets (the entry script)
//	aws.Dockerfile.tmpl                 the aws variant of every language
//	<language>/Dockerfile.tmpl          the language's Dockerfile, on any OS
//	<language>/<name>.Dockerfile.tmpl   another one, which a variant or an OS
//	                                    family of the catalog names (template: <name>)
//	<language>/files/*.tmpl             files every non-aws context of the language gets
//
// A file that renders empty is left out of the context.
const (
	partialsDir = "partials"
	commonDir   = "common"
	filesDir    = "files"
	dockerfile  = "Dockerfile.tmpl"
)

// Templates is a parsed template directory.
type Templates struct {
	fsys     fs.FS
	partials *template.Template
	// sums holds the sha256 of every file, so a context's digest covers
	// exactly the templates it was rendered from.
	sums map[string]string
}

var _ catalog.TemplateSet = (*Templates)(nil)

// Load parses the templates in fsys (the root of a templates directory).
func Load(fsys fs.FS) (*Templates, error) {
	t := &Templates{fsys: fsys, sums: map[string]string{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		t.sums[p] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading templates: %w", err)
	}
	t.partials = template.New("partials").Funcs(funcs).Option("missingkey=error")
	matches, err := fs.Glob(fsys, partialsDir+"/*.tmpl")
	if err != nil {
		return nil, err
	}
	for _, m := range matches {
		data, _ := fs.ReadFile(fsys, m)
		if _, err := t.partials.New(m).Parse(string(data)); err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", m, err)
		}
	}
	return t, nil
}

// Dockerfile returns the path of the template a variant of lang, resolved
// to spec, is rendered from (relative to the template directory), and
// whether it exists.
func (t *Templates) Dockerfile(lang catalog.Language, spec catalog.Variant) (string, bool) {
	p := dockerfilePath(lang, spec)
	_, ok := t.sums[p]
	return p, ok
}

func dockerfilePath(lang catalog.Language, spec catalog.Variant) string {
	switch {
	case spec.OS == catalog.AWS:
		return "aws." + dockerfile
	case spec.Template == "":
		return path.Join(string(lang), dockerfile)
	default:
		return path.Join(string(lang), spec.Template+"."+dockerfile)
	}
}

// sources returns the template files a context is rendered from, sorted:
// the Dockerfile template df, every partial, and for non-aws variants the
// common and language files.
func (t *Templates) sources(df string, lang catalog.Language, os catalog.OS) []string {
	out := []string{df}
	for p := range t.sums {
		dir := path.Dir(p)
		switch {
		case dir == partialsDir:
			out = append(out, p)
		case os != catalog.AWS && (dir == commonDir || dir == path.Join(string(lang), filesDir)):
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// digest hashes the resolved inputs of a context with the sums of the
// templates it is rendered from.
func (t *Templates) digest(inputs []byte, sources []string) string {
	h := sha256.New()
	h.Write(inputs)
	for _, s := range sources {
		fmt.Fprintf(h, "\n%s %s", t.sums[s], s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

var funcs = template.FuncMap{
	"install":    install,
	"installAWS": installAWS,
	"join":       strings.Join,
	"json":       jsonList,
	"concat":     concat,
	"has":        has,
	"list":       list,
}

// list makes a list of its arguments, for install.
func list(items ...string) []string { return items }

// has reports whether list holds one of items.
func has(list []string, items ...string) bool {
	for _, l := range list {
		for _, i := range items {
			if l == i {
				return true
			}
		}
	}
	return false
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// installAWS installs pkgs on an AWS base image of os: AL2023-based images
// are built on AL2023 minimal, which has microdnf rather than dnf.
func installAWS(os string, pkgs []string) (string, error) {
	if catalog.OS(os) == catalog.AL2023 && len(pkgs) > 0 {
		return packager{install: "microdnf install -y", clean: []string{"microdnf clean all"}}.command(pkgs), nil
	}
	return install(os, pkgs)
}

// packager is how one OS installs packages: an optional step before
// (refreshing the index), the install command and the cleanup steps after
// it, in the same RUN so that no cache reaches a layer.
type packager struct {
	update, install string
	clean           []string
}

var packagers = map[catalog.OS]packager{
	catalog.Debian:   {"apt-get update", "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends", aptClean},
	catalog.Ubuntu:   {"apt-get update", "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends", aptClean},
	catalog.Alpine:   {"", "apk add --no-cache", nil},
	catalog.AL2023:   {"", "dnf install -y", []string{"dnf clean all && rm -rf /var/cache/dnf"}},
	catalog.CentOS:   {"", "dnf install -y", []string{"dnf clean all && rm -rf /var/cache/dnf"}},
	catalog.AL2:      {"", "yum install -y", []string{"yum clean all && rm -rf /var/cache/yum"}},
	catalog.AL201803: {"", "yum install -y", []string{"yum clean all && rm -rf /var/cache/yum"}},
}

// aptClean removes, after an APT install, what would make two builds of
// the same packages differ (the "packages" partial says why in the
// Dockerfile): the downloaded .debs and APT's binary caches
// (pkgcache.bin and srcpkgcache.bin, stamped with the index files' times;
// apt-get clean), the package index, APT's logs (history.log and term.log
// hold the start and end dates, eipp.log.xz the solver's request with its
// date), dpkg's and update-alternatives' logs (a timestamp per line),
// ldconfig's aux-cache (the inode numbers and change times of the
// libraries it scanned; ld.so.cache itself is what the loader reads and
// stays) and debconf's backups of its database from before the install.
var aptClean = []string{
	"apt-get clean && rm -rf /var/lib/apt/lists/*",
	"rm -rf /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log",
	"rm -f /var/cache/ldconfig/aux-cache /var/cache/debconf/*-old",
}

// install returns the shell command that installs pkgs on os, cleaning the
// package cache in the same step.
func install(os string, pkgs []string) (string, error) {
	if len(pkgs) == 0 {
		return "true", nil
	}
	p, ok := packagers[catalog.OS(os)]
	if !ok {
		return "", fmt.Errorf("no package manager known for %s", os)
	}
	return p.command(pkgs), nil
}

// Widths of generated commands: the steps and the package list stay on one
// line while it is at most inlineWidth long, else they go one per line and
// the packages are wrapped at packagesWidth, so that no Dockerfile line is
// much over 100 characters.
const (
	inlineWidth   = 110
	packagesWidth = 80
)

// command is written for a RUN line whose continuation lines are indented
// by four spaces.
func (p packager) command(pkgs []string) string {
	var steps []string
	if p.update != "" {
		steps = append(steps, p.update)
	}
	line := p.install + " " + strings.Join(pkgs, " ")
	if len(line) > inlineWidth {
		line = p.install + " \\\n        " + strings.Join(wrap(pkgs, packagesWidth), " \\\n        ")
	}
	steps = append(steps, line)
	steps = append(steps, p.clean...)
	if one := strings.Join(steps, " && "); len(one) <= inlineWidth {
		return one
	}
	return strings.Join(steps, " && \\\n    ")
}

// wrap joins words into lines of at most width characters (a longer word
// gets a line of its own).
func wrap(words []string, width int) []string {
	var lines []string
	cur := ""
	for _, w := range words {
		switch {
		case cur == "":
			cur = w
		case len(cur)+1+len(w) > width:
			lines = append(lines, cur)
			cur = w
		default:
			cur += " " + w
		}
	}
	return append(lines, cur)
}

// jsonList renders an exec-form array: ["a", "b"]. Values are catalog
// values already checked against strict patterns.
func jsonList(items ...string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = `"` + s + `"`
	}
	return "[" + strings.Join(q, ", ") + "]"
}
