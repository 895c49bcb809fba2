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
//	partials/*.tmpl                    named templates shared by all Dockerfiles
//	common/*.tmpl                      files every non-aws context gets (the entry script)
//	<language>/<os>.Dockerfile.tmpl    the Dockerfile of one language on one OS
//	<language>/files/*.tmpl            files every non-aws context of the language gets
const (
	partialsDir = "partials"
	commonDir   = "common"
	filesDir    = "files"
	dockerfile  = ".Dockerfile.tmpl"
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

// Has reports whether a Dockerfile template exists for lang on os.
func (t *Templates) Has(lang catalog.Language, os catalog.OS) bool {
	_, ok := t.sums[dockerfilePath(lang, os)]
	return ok
}

func dockerfilePath(lang catalog.Language, os catalog.OS) string {
	return path.Join(string(lang), string(os)+dockerfile)
}

// sources returns the template files a context of lang on os is rendered
// from, sorted: the Dockerfile template, every partial, and for non-aws
// variants the common and language files.
func (t *Templates) sources(lang catalog.Language, os catalog.OS) []string {
	out := []string{dockerfilePath(lang, os)}
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
	"words":      strings.Fields,
	"concat":     concat,
	"list":       func(items ...string) []string { return items },
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
		return "microdnf install -y " + strings.Join(pkgs, " ") + " && microdnf clean all", nil
	}
	return install(os, pkgs)
}

// install returns the shell command that installs pkgs on os, cleaning the
// package cache in the same step.
func install(os string, pkgs []string) (string, error) {
	if len(pkgs) == 0 {
		return "true", nil
	}
	list := strings.Join(pkgs, " ")
	switch catalog.OS(os) {
	case catalog.Debian, catalog.Ubuntu:
		return "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends " + list + " && rm -rf /var/lib/apt/lists/*", nil
	case catalog.Alpine:
		return "apk add --no-cache " + list, nil
	case catalog.AL2023, catalog.CentOS:
		return "dnf install -y " + list + " && dnf clean all && rm -rf /var/cache/dnf", nil
	case catalog.AL2, catalog.AL201803:
		return "yum install -y " + list + " && yum clean all && rm -rf /var/cache/yum", nil
	}
	return "", fmt.Errorf("no package manager known for %s", os)
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
