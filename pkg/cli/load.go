package cli

import (
	"context"
	"fmt"
	"io/fs"
	"os"

	"github.com/lambdaimg/lambdaimg"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/config"
	"github.com/lambdaimg/lambdaimg/pkg/render"
)

type globalOptions struct {
	catalog        string
	templates      string
	config         string
	allowHostPaths bool
	limitFlags     []string
	getenv         func(string) string
}

// limits returns the limits of $LAMBDAIMG_LIMITS and --limit.
func (g *globalOptions) limits() (limits, error) {
	getenv := g.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return parseLimits(getenv(limitsEnv), g.limitFlags)
}

// configBuilders reads the user config file (--config, else
// $LAMBDAIMG_CONFIG, else the default place) and returns its builders.
func (g *globalOptions) configBuilders() ([]buildkit.Spec, error) {
	getenv := g.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	c, err := config.Load(config.Locate(g.config, getenv))
	if err != nil {
		return nil, err
	}
	return c.Specs(), nil
}

// load reads, merges and validates the catalog and the templates; a
// cancelled ctx stops the reading.
func (g *globalOptions) load(ctx context.Context) (*catalog.Catalog, *render.Templates, error) {
	lim, err := g.limits()
	if err != nil {
		return nil, nil, err
	}
	tm, err := g.loadTemplates()
	if err != nil {
		return nil, nil, err
	}
	c, err := catalog.Parse(lambdaimg.CatalogName, lambdaimg.Catalog)
	if err != nil {
		return nil, nil, err
	}
	if g.catalog != "" {
		opts := lim.catalog
		opts.AllowHostPaths = g.allowHostPaths
		user, err := catalog.Read(ctx, g.catalog, opts)
		if err != nil {
			return nil, nil, err
		}
		if user.Extends == catalog.Builtin {
			c = catalog.Overlay(c, user)
		} else {
			c = user
		}
	}
	if err := catalog.Validate(c, tm); err != nil {
		return nil, nil, fmt.Errorf("the catalog has problems:\n%w", err)
	}
	return c, tm, nil
}

// loadTemplates loads --templates, else the built-in templates.
func (g *globalOptions) loadTemplates() (*render.Templates, error) {
	if g.templates == "" {
		sub, err := fs.Sub(lambdaimg.Templates, "templates")
		if err != nil {
			return nil, err
		}
		return render.Load(sub)
	}
	if st, err := os.Stat(g.templates); err != nil || !st.IsDir() {
		return nil, &UsageError{fmt.Errorf("--templates %s: not a directory", g.templates)}
	}
	return render.Load(os.DirFS(g.templates))
}
