package pipeline

import (
	"fmt"
	"path/filepath"

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
// dir/<runtime>/<variant>.
func Generate(c *catalog.Catalog, tm *render.Templates, sel catalog.Selector, dir string) ([]Generated, error) {
	targets, err := Targets(c, sel, nil)
	if err != nil {
		return nil, err
	}
	var out []Generated
	for i := range targets {
		t := &targets[i]
		ctx, err := renderTarget(tm, t, false, len(t.ExtensionPaths()) > 0)
		if err != nil {
			return nil, err
		}
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
