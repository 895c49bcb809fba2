package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/moby/buildkit/client"
)

// buildOpts checks the build flags and turns them into build.Options.
func (o *buildOptions) buildOpts(c *catalog.Catalog) (build.Options, error) {
	opts := build.Options{
		Jobs: o.jobs, FailFast: o.failFast, Progress: o.progress, RIEDir: o.rie, CABundle: o.caBundle,
		Pull: o.pull, NoCache: o.noCache, WorkDir: o.contextsDir,
	}
	var err error
	if opts.Mirrors, err = parseMirrors(c.Defaults.RegistryMirrors, o.mirrors); err != nil {
		return opts, err
	}
	if opts.OSIndex, err = aptIndex(o.apt); err != nil {
		return opts, err
	}
	if opts.BuildArgs, err = parseBuildArgs(o.buildArgs); err != nil {
		return opts, err
	}
	if opts.CacheImports, err = parseCaches("--cache-from", o.cacheFrom); err != nil {
		return opts, err
	}
	if opts.CacheExports, err = parseCaches("--cache-to", o.cacheTo); err != nil {
		return opts, err
	}
	for _, v := range o.exports {
		e, err := build.ParseExport(v)
		if err != nil {
			return opts, &UsageError{fmt.Errorf("--export: %w", err)}
		}
		opts.Exports = append(opts.Exports, e)
	}
	if err := o.checkFiles(); err != nil {
		return opts, err
	}
	opts.SourceDateEpoch, err = sourceEpoch(o.sourceEpoch, c.Defaults.SourceDate)
	return opts, err
}

// checkFiles makes sure --rie and --ca-bundle name what they should.
func (o *buildOptions) checkFiles() error {
	if o.rie != "" {
		if st, err := os.Stat(o.rie); err != nil || !st.IsDir() {
			return &UsageError{fmt.Errorf("--rie %s: not a directory", o.rie)}
		}
	}
	if o.caBundle != "" {
		if _, err := os.Stat(o.caBundle); err != nil {
			return &UsageError{fmt.Errorf("--ca-bundle: %w", err)}
		}
	}
	if _, err := progressMode(o.progress); err != nil {
		return err
	}
	return nil
}

// progressMode checks --progress before BuildKit is contacted.
func progressMode(mode string) (string, error) {
	switch mode {
	case "auto", "tty", "plain", "rawjson", "quiet":
		return mode, nil
	}
	return "", &UsageError{fmt.Errorf("--progress %q: use auto, tty, plain, rawjson or quiet", mode)}
}

// parseMirrors merges the catalog's mirrors with --registry-mirror SRC=DST.
func parseMirrors(defaults map[string]string, flags []string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range defaults {
		out[k] = v
	}
	for _, m := range flags {
		src, dst, err := build.ParseMirror(m)
		if err != nil {
			return nil, &UsageError{fmt.Errorf("--registry-mirror: %w", err)}
		}
		out[src] = dst
	}
	return out, nil
}

// parseBuildArgs parses --build-arg KEY=VALUE.
func parseBuildArgs(flags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range flags {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, &UsageError{fmt.Errorf("--build-arg %q: want KEY=VALUE", a)}
		}
		out[k] = v
	}
	return out, nil
}

// parseCaches parses the values of --cache-from or --cache-to.
func parseCaches(flag string, vals []string) ([]client.CacheOptionsEntry, error) {
	var out []client.CacheOptionsEntry
	for _, v := range vals {
		e, err := parseCache(v)
		if err != nil {
			return nil, &UsageError{fmt.Errorf("%s: %w", flag, err)}
		}
		out = append(out, e)
	}
	return out, nil
}

// parseCache parses "type=registry,ref=REF,mode=max".
func parseCache(s string) (client.CacheOptionsEntry, error) {
	e := client.CacheOptionsEntry{Attrs: map[string]string{}}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return e, fmt.Errorf("%q: want type=TYPE,key=value,...", s)
		}
		if k == "type" {
			e.Type = v
		} else {
			e.Attrs[k] = v
		}
	}
	if e.Type == "" {
		return e, fmt.Errorf("%q: type is required (registry, local, inline, gha, s3)", s)
	}
	return e, nil
}

// sourceEpoch is --source-date-epoch, else the catalog's sourceDate.
func sourceEpoch(flag, catalogDate string) (int64, error) {
	switch {
	case flag != "":
		n, err := strconv.ParseInt(flag, 10, 64)
		if err != nil || n < 0 {
			return 0, &UsageError{fmt.Errorf("--source-date-epoch %q: want seconds since 1970", flag)}
		}
		return n, nil
	case catalogDate != "":
		d, err := catalog.ParseDate(catalogDate)
		if err != nil {
			return 0, err
		}
		return d.Unix(), nil
	}
	return 0, nil
}
