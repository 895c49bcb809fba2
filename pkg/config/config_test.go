package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit/spec"
)

func TestParse(t *testing.T) {
	data := "# my pool\nbuilders:\n  - tcp://amd64-1:1234,cacert=/etc/ca.pem,cert=c.pem,key=tls/k.pem\n  - docker-container://buildkitd,platform=linux/arm64,jobs=2\n"
	c, err := Parse("/home/u/.config/lambdaimg/config.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	dir := "/home/u/.config/lambdaimg/"
	want := []spec.Builder{
		{Addr: "tcp://amd64-1:1234", CACert: "/etc/ca.pem", Cert: dir + "c.pem", Key: dir + "tls/k.pem", Source: dir + "config.yaml"},
		{Addr: "docker-container://buildkitd", Platforms: []string{"linux/arm64"}, Jobs: 2, Source: dir + "config.yaml"},
	}
	if diff := cmp.Diff(want, c.Specs()); diff != "" {
		t.Errorf("Specs (-want +got):\n%s", diff)
	}
	empty, err := Parse("config.yaml", []byte("# nothing yet\n"))
	if err != nil || len(empty.Specs()) != 0 {
		t.Errorf("an empty file = %+v, %v; want no builders, no error", empty, err)
	}
}

// TestParseErrors: every problem at once, each with the file and line.
func TestParseErrors(t *testing.T) {
	for name, c := range map[string]struct{ data, want string }{
		"unknown key": {
			"builders: []\nbuilder:\n  - tcp://a:1234\n",
			`c.yaml:2: unknown key "builder" (the config file knows builders)`,
		},
		"defaults like the catalog": {
			"defaults:\n  builders: [tcp://a:1234]\n",
			`c.yaml:1: unknown key "defaults" (the config file knows builders)`,
		},
		"bad builders": {
			"builders:\n  - tcp://a:1234\n  - a:1234\n  - tcp://b:1234,jobs=0\n",
			"c.yaml:3: builders[1]: builder \"a:1234\": want an address SCHEME://..., e.g. tcp://host:1234 or docker-container://name\n" +
				"c.yaml:4: builders[2]: builder \"tcp://b:1234\": jobs \"0\": want a number of at least 1",
		},
		"a string, not a list": {
			"builders: tcp://a:1234\n",
			"c.yaml:1: cannot unmarshal !!str `tcp://a...` into []string",
		},
		"not a mapping": {
			"- tcp://a:1234\n",
			"c.yaml:1: cannot unmarshal !!seq into the config (want a mapping, e.g. builders: [...])",
		},
		"broken YAML": {
			"builders: [tcp://a\n",
			"c.yaml:1: did not find expected ',' or ']'",
		},
		"newline in a value": {
			"builders:\n  - \"a\\nforged: line\"\n",
			`c.yaml:2: builders[0]: builder "a\nforged: line": want an address SCHEME://..., e.g. tcp://host:1234 or docker-container://name`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(c.data))
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			if diff := cmp.Diff(c.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	type loc struct {
		Path  string
		Named bool
	}
	got := func(flag string) loc { p, n := Locate(flag, getenv); return loc{p, n} }
	if diff := cmp.Diff(loc{filepath.Join(dir, "lambdaimg", "config.yaml"), false}, got("")); diff != "" {
		t.Errorf("default (-want +got):\n%s", diff)
	}
	env[EnvVar] = "/etc/lambdaimg.yaml"
	if diff := cmp.Diff(loc{"/etc/lambdaimg.yaml", true}, got("")); diff != "" {
		t.Errorf("$%s (-want +got):\n%s", EnvVar, diff)
	}
	if diff := cmp.Diff(loc{"mine.yaml", true}, got("mine.yaml")); diff != "" {
		t.Errorf("--config over $%s (-want +got):\n%s", EnvVar, diff)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")
	if c, err := Load(missing, false); c != nil || err != nil {
		t.Errorf("a missing default file = %v, %v; want no config, no error", c, err)
	}
	if _, err := Load(missing, true); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing named file = %v, want an error saying so", err)
	}
	good := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(good, []byte("builders: [tcp://a:1234]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(good, false)
	if err != nil || len(c.Specs()) != 1 || c.Specs()[0].Source != good {
		t.Errorf("Load = %+v, %v; want one builder from %s", c, err, good)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxSize)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big, true); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a file over MaxSize = %v, want an error", err)
	}
	if _, err := Load(dir, true); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory = %v, want an error", err)
	}
}
