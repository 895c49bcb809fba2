package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
)

// Label keys lambdaimg sets on every image (names from pkg/labels).
const (
	LabelRuntime = labels.Runtime
	LabelVariant = labels.Variant
	LabelInputs  = labels.Inputs
)

// Options are what a context holds beyond its catalog target. They are
// inputs like the target: the context digest covers them.
type Options struct {
	// CA makes the steps that download trust the CA bundle the build passes
	// as the BuildKit secret "ca" (lambdaimg build --ca-bundle): each stage
	// that downloads declares it once, and those steps mount the secret, so
	// it ends up in no layer. Render with CA only for builds that pass the
	// secret: without it, the tools find no bundle where they are told to look.
	CA bool
	// Extensions copies the build's named context "extensions", a directory
	// laid out as /opt (extensions/<name> executables), into /opt of the
	// final image.
	Extensions bool
}

// File is one file of a build context.
type File struct {
	Path string // slash-separated, relative to the context root
	Mode fs.FileMode
	Data []byte
}

// Context is a rendered build context.
type Context struct {
	Target *catalog.Target
	// Options it was rendered with: the build supplies the secret and the
	// named contexts they call for.
	Options Options
	Files   []File
	// Digest is the sha256 of the resolved catalog entry, the options and
	// the templates it was rendered from; it is also the
	// io.lambdaimg.inputs.sha256 label.
	Digest string
}

// KV is a key and a value, for sorted rendering of maps.
type KV struct{ Key, Value string }

// RIEStage is the download of the emulator for one architecture.
type RIEStage struct {
	Arch   string // TARGETARCH spelling: amd64, arm64
	URL    string
	SHA256 string
}

// Data is what templates see.
type Data struct {
	Runtime       string
	Language      string
	Version       string
	Variant       string
	OS            string
	AWSOS         string
	Tags          []string
	Base          string
	BuildBase     string
	Packages      []string
	BuildPackages []string
	// Depends and BuildDepends are the packages the template itself needs
	// on this OS (the catalog's os entries), before Packages and
	// BuildPackages.
	Depends      []string
	BuildDepends []string
	RIC          string
	Handler      string
	Arches       []string
	Args         []KV
	// RIE is true when the emulator is layered in; RIEStages is empty when
	// the catalog pins no release (then --rie must supply a binary).
	RIE        bool
	RIEVersion string
	RIEStages  []RIEStage
	Labels     []KV
	// Template is the Dockerfile template's path, for the header comment.
	Template string
	// CA and Extensions are the Options.
	CA         bool
	Extensions bool
	// Digest is filled in after hashing the rest.
	Digest string
}

func newData(t *catalog.Target, o Options, template string) Data {
	r := t.Runtime
	d := Data{
		Runtime:       r.ID,
		Language:      string(r.Language),
		Version:       r.Version,
		Variant:       t.Variant,
		OS:            string(t.Spec.OS),
		AWSOS:         string(r.OS),
		Tags:          r.Tags,
		Base:          t.Spec.Base,
		BuildBase:     t.Spec.BuildBase,
		Packages:      t.Spec.Packages,
		BuildPackages: t.Spec.BuildPackages,
		Depends:       t.Depends,
		BuildDepends:  t.BuildDepends,
		RIC:           t.Spec.RIC,
		Handler:       t.Handler,
		RIE:           t.WithRIE(),
		Template:      "templates/" + template,
		CA:            o.CA,
		Extensions:    o.Extensions,
	}
	for _, a := range t.Spec.Architectures {
		d.Arches = append(d.Arches, string(a))
	}
	d.Args = sortedKV(t.Spec.Args)
	if d.RIE && t.RIE.URL != "" {
		d.RIEVersion = t.RIE.Version
		for _, a := range catalog.Arches {
			d.RIEStages = append(d.RIEStages, RIEStage{Arch: a.GoArch(), URL: t.RIE.DownloadURL(a), SHA256: t.RIE.SHA256[a]})
		}
	}
	labels := map[string]string{
		"org.opencontainers.image.title":       "lambdaimg " + r.ID + " (" + t.Variant + ")",
		"org.opencontainers.image.description": "AWS Lambda " + r.ID + " runtime image, " + t.Variant + " variant",
		"org.opencontainers.image.version":     r.Version,
		"org.opencontainers.image.base.name":   t.Spec.Base,
		LabelRuntime:                           r.ID,
		LabelVariant:                           t.Variant,
	}
	for k, v := range t.Labels {
		labels[k] = v
	}
	d.Labels = sortedKV(labels)
	return d
}

func sortedKV(m map[string]string) []KV {
	out := make([]KV, 0, len(m))
	for k, v := range m {
		out = append(out, KV{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Render renders the build context of t with the options o.
func (tm *Templates) Render(t *catalog.Target, o Options) (*Context, error) {
	lang := t.Runtime.Language
	df, ok := tm.Dockerfile(lang, t.Spec)
	if !ok {
		return nil, fmt.Errorf("rendering %s: no template %s", t.Name(), df)
	}
	d := newData(t, o, df)
	// The CA bundle is a network setting and puts nothing in the image: a
	// build with it and one without make the same image, so it stays out
	// of the digest (and an image built with --ca-bundle stays unchanged
	// for a test or plan without it).
	hashed := d
	hashed.CA = false
	inputs, err := json.Marshal(hashed)
	if err != nil {
		return nil, err
	}
	sources := tm.sources(df, lang, t.Spec.OS)
	d.Digest = tm.digest(inputs, sources)
	d.Labels = append(d.Labels, KV{LabelInputs, d.Digest})
	sort.Slice(d.Labels, func(i, j int) bool { return d.Labels[i].Key < d.Labels[j].Key })

	ctx := &Context{Target: t, Options: o, Digest: d.Digest}
	for _, src := range sources {
		dir := path.Dir(src)
		var dest string
		mode := fs.FileMode(0o644)
		switch {
		case src == df:
			dest = "Dockerfile"
		case dir == partialsDir:
			continue
		default: // common/ and <lang>/files/
			dest = strings.TrimSuffix(path.Base(src), ".tmpl")
			if strings.HasSuffix(dest, ".sh") || dest == "bootstrap" {
				mode = 0o755
			}
		}
		data, err := tm.execute(src, d)
		if err != nil {
			return nil, fmt.Errorf("rendering %s: %w", t.Name(), err)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			continue // not needed with these options
		}
		ctx.Files = append(ctx.Files, File{Path: dest, Mode: mode, Data: data})
	}
	sort.Slice(ctx.Files, func(i, j int) bool { return ctx.Files[i].Path < ctx.Files[j].Path })
	return ctx, nil
}

func (tm *Templates) execute(src string, d Data) ([]byte, error) {
	text, err := fs.ReadFile(tm.fsys, src)
	if err != nil {
		return nil, err
	}
	tpl, err := tm.partials.Clone()
	if err != nil {
		return nil, err
	}
	if _, err := tpl.New(src).Parse(string(text)); err != nil {
		return nil, fmt.Errorf("parsing template %s: %w", src, err)
	}
	var buf bytes.Buffer
	if err := tpl.ExecuteTemplate(&buf, src, d); err != nil {
		return nil, fmt.Errorf("template %s: %w", src, err)
	}
	return squeezeBlankLines(buf.Bytes()), nil
}

// squeezeBlankLines folds runs of blank lines left by template actions into
// one, and ends the file with exactly one newline.
func squeezeBlankLines(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	out := make([]string, 0, len(lines))
	blank := false
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank || len(out) == 0 {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return []byte(strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n")
}

// Write writes the context into dir, replacing what is there. It renders
// into a sibling temporary directory first and swaps it in, so a failure
// never leaves a half-written context behind.
func (c *Context) Write(dir string) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, f := range c.Files {
		p := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			return err
		}
		if err := os.Chmod(p, f.Mode); err != nil { // umask-proof
			return err
		}
	}
	// Swap: the old context moves aside and is removed only once the new
	// one is in place.
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(old, dir)
		return err
	}
	return os.RemoveAll(old)
}
