package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/buildkit/spec"
	"go.yaml.in/yaml/v3"
)

// EnvVar names the config file when --config does not.
const EnvVar = "LAMBDAIMG_CONFIG"

// MaxSize bounds the config file: it names a few builders.
const MaxSize = 1 << 20

// File is a user config file.
type File struct {
	// Path is where it was read from.
	Path string `yaml:"-"`
	// Builders are BuildKit builders in --builder's text form
	// (spec.Builder), as the catalog's defaults.builders; their TLS files
	// are relative to the file's directory.
	Builders []string `yaml:"builders"`
}

// Locate says which config file to read: flag (--config), else
// $LAMBDAIMG_CONFIG, else config.yaml in lambdaimg's folder of the user's
// config directory (os.UserConfigDir: $XDG_CONFIG_HOME, else ~/.config on
// Linux). Named means flag or the variable named it, so it must exist; ""
// means there is no config directory, hence no file.
func Locate(flag string, getenv func(string) string) (path string, named bool) {
	if flag != "" {
		return flag, true
	}
	if p := getenv(EnvVar); p != "" {
		return p, true
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", false
	}
	return filepath.Join(dir, "lambdaimg", "config.yaml"), false
}

// Load reads and checks the config file at path. A file that does not
// exist is no config (nil) unless named; a named file must exist.
func Load(path string, named bool) (*File, error) {
	if path == "" {
		return nil, nil
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !named:
		return nil, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("config file %s does not exist (named by --config or $%s)", path, EnvVar)
	case err != nil:
		return nil, fmt.Errorf("config file: %w", err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("config file %s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("config file %s is larger than %d bytes", path, MaxSize)
	}
	return Parse(path, data)
}

// Parse decodes a config file strictly and checks every builder; the
// problems are reported at once, each as "file:line: message".
func Parse(path string, data []byte) (*File, error) {
	c := &File{Path: path}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(path, err)
	}
	lines := builderLines(data)
	var errs []error
	for i, b := range c.Builders {
		if _, err := spec.Parse(b); err != nil {
			line := "?"
			if i < len(lines) {
				line = fmt.Sprint(lines[i])
			}
			errs = append(errs, errors.New(oneLine(fmt.Sprintf("%s:%s: builders[%d]: %v", path, line, i, err))))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Specs returns the builders, parsed, each with Source saying it comes
// from this file and its TLS files relative to the file's directory.
// Parse has checked them.
func (c *File) Specs() []spec.Builder {
	if c == nil {
		return nil
	}
	out := make([]spec.Builder, 0, len(c.Builders))
	for _, b := range c.Builders {
		sp, _ := spec.Parse(b)
		sp.Source = c.Path
		for _, f := range []*string{&sp.CACert, &sp.Cert, &sp.Key} {
			if *f != "" && !filepath.IsAbs(*f) {
				*f = filepath.Join(filepath.Dir(c.Path), *f)
			}
		}
		out = append(out, sp)
	}
	return out
}

// builderLines returns the line of each item of builders:.
func builderLines(data []byte) []int {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "builders" {
			var out []int
			for _, item := range m.Content[i+1].Content {
				out = append(out, item.Line)
			}
			return out
		}
	}
	return nil
}

var (
	yamlLine     = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type config\.File$`)
)

// yamlError rewrites yaml.v3's messages as "file:line: message", one per
// problem, naming an unknown key plainly.
func yamlError(path string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		msg := oneLine(strings.TrimPrefix(err.Error(), "yaml: "))
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			return fmt.Errorf("%s:%s: %s", path, m[1], m[2])
		}
		return fmt.Errorf("%s: %s", path, msg)
	}
	errs := make([]error, 0, len(te.Errors))
	for _, e := range te.Errors {
		line, msg := "?", oneLine(e)
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, msg = m[1], m[2]
		}
		if m := unknownField.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("unknown key %q (the config file knows builders)", m[1])
		}
		msg = strings.ReplaceAll(msg, "into config.File", "into the config (want a mapping, e.g. builders: [...])")
		errs = append(errs, fmt.Errorf("%s:%s: %s", path, line, msg))
	}
	return errors.Join(errs...)
}
