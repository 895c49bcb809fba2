package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/render"
)

// Generated is one build context written by Generate.
type Generated struct {
	Target    string   `json:"target"`
	Runtime   string   `json:"runtime"`
	Variant   string   `json:"variant"`
	Dir       string   `json:"dir"`
	Platforms []string `json:"platforms"`
	Digest    string   `json:"inputsDigest"`
	// Extensions are the files the target's extensions come from: what
	// the catalog takes from this machine into the image.
	Extensions []string `json:"extensions,omitempty"`
}

// Generate renders the build context of each selected target into
// dir/<runtime>/<variant>, replacing a context written before; it refuses,
// before writing anything, when such a directory holds files it would not
// write itself.
func Generate(c *catalog.Catalog, tm *render.Templates, sel catalog.Selector, dir string) ([]Generated, error) {
	targets, err := Targets(c, sel, nil)
	if err != nil {
		return nil, err
	}
	// Render and check every directory before writing any: a context
	// directory is replaced whole, so it may hold only what lambdaimg
	// writes there.
	ctxs := make([]*render.Context, len(targets))
	for i := range targets {
		t := &targets[i]
		if ctxs[i], err = renderTarget(tm, t, false, len(t.ExtensionPaths()) > 0); err != nil {
			return nil, err
		}
		d := filepath.Join(dir, t.Runtime.ID, t.Variant)
		if err := checkOwnDir(d, ctxs[i]); err != nil {
			return nil, err
		}
	}
	var out []Generated
	for i := range targets {
		t, ctx := &targets[i], ctxs[i]
		d := filepath.Join(dir, t.Runtime.ID, t.Variant)
		if err := ctx.Write(d); err != nil {
			return nil, fmt.Errorf("writing %s: %w", d, err)
		}
		gen := Generated{Target: t.Name(), Runtime: t.Runtime.ID, Variant: t.Variant, Dir: d, Digest: ctx.Digest,
			Extensions: t.ExtensionPaths()}
		for _, a := range t.Arches {
			gen.Platforms = append(gen.Platforms, a.Platform())
		}
		out = append(out, gen)
	}
	return out, nil
}

// checkOwnDir makes sure dir is absent or holds only files of ctx, so
// replacing it loses nothing of the user's.
func checkOwnDir(dir string, ctx *render.Context) error {
	st, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !st.IsDir():
		return requestErr(FieldDir, "%s is not a directory: lambdaimg writes a build context there", dir)
	}
	ours, parents := map[string]bool{}, map[string]bool{}
	for _, f := range ctx.Files {
		ours[f.Path] = true
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			parents[d] = true
		}
	}
	var foreign []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir() && parents[rel]:
			return nil
		case d.IsDir():
			foreign = append(foreign, strconv.Quote(rel+"/"))
			return filepath.SkipDir
		case !ours[rel] || !d.Type().IsRegular():
			foreign = append(foreign, strconv.Quote(rel))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(foreign) > 0 {
		if len(foreign) > 5 {
			foreign = append(foreign[:5], fmt.Sprintf("and %d more", len(foreign)-5))
		}
		return requestErr(FieldDir, "%s holds files lambdaimg did not write (%s): it replaces that directory whole, so move them away or choose another --dir",
			dir, strings.Join(foreign, ", "))
	}
	return nil
}
