package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
)

// writeFile writes text to name in a new temporary directory.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBuilderLsSources: builder ls lists the builders of the first place
// that names some (--builder, the config file from --config or
// $LAMBDAIMG_CONFIG, the catalog) and says which. Nothing listens on
// 127.0.0.1:1, so no BuildKit is needed.
func TestBuilderLsSources(t *testing.T) {
	t.Setenv("BUILDKIT_HOST", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no config file by default
	cfg := writeFile(t, "config.yaml", "builders:\n  - tcp://127.0.0.1:1,jobs=2\n")
	other := writeFile(t, "other.yaml", "builders: [tcp://127.0.0.1:2]\n")
	cat := writeFile(t, "catalog.yaml", "extends: builtin\ndefaults:\n  builders: [tcp://127.0.0.1:3]\n")
	type row struct{ Address, Source string }
	for name, c := range map[string]struct {
		env  map[string]string
		args []string
		want []row
	}{
		"--builder over all": {
			env:  map[string]string{"LAMBDAIMG_CONFIG": other},
			args: []string{"--config", cfg, "--catalog", cat, "--builder", "tcp://127.0.0.1:4"},
			want: []row{{"tcp://127.0.0.1:4", buildkit.SourcePool}},
		},
		"--config over $LAMBDAIMG_CONFIG and the catalog": {
			env:  map[string]string{"LAMBDAIMG_CONFIG": other},
			args: []string{"--config", cfg, "--catalog", cat},
			want: []row{{"tcp://127.0.0.1:1", cfg}},
		},
		"$LAMBDAIMG_CONFIG": {
			env:  map[string]string{"LAMBDAIMG_CONFIG": other},
			args: []string{"--catalog", cat},
			want: []row{{"tcp://127.0.0.1:2", other}},
		},
		"the catalog": {
			args: []string{"--catalog", cat},
			want: []row{{"tcp://127.0.0.1:3", "catalog"}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			out, _, err := execute(t, c.env, append([]string{"builder", "ls", "-o", "json"}, c.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			var infos []buildkit.Info
			if err := json.Unmarshal([]byte(out), &infos); err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			var got []row
			for _, in := range infos {
				got = append(got, row{in.Address, in.Source})
				if in.Reachable || !strings.Contains(in.Error, "("+in.Source+")") {
					t.Errorf("%s: reachable %v, error %q; want unreachable, naming its source", in.Address, in.Reachable, in.Error)
				}
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("builders (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConfigFileErrors: a bad config file fails the commands that read it
// with its file and line; a named file that is missing says so.
func TestConfigFileErrors(t *testing.T) {
	t.Setenv("BUILDKIT_HOST", "")
	bad := writeFile(t, "config.yaml", "builders: []\nbuilder: [tcp://a:1234]\n")
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	for name, c := range map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"unknown key":       {args: []string{"--config", bad}, want: bad + `:2: unknown key "builder"`},
		"from the variable": {env: map[string]string{"LAMBDAIMG_CONFIG": bad}, want: bad + `:2: unknown key "builder"`},
		"missing":           {args: []string{"--config", missing}, want: "config file " + missing + " does not exist"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := execute(t, c.env, append([]string{"builder", "ls"}, c.args...)...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("builder ls = %v, want an error with %q", err, c.want)
			}
		})
	}
}

func TestPrintBuildersSource(t *testing.T) {
	var out, errOut bytes.Buffer
	infos := []buildkit.Info{{Address: "tcp://a:1234", Source: "/home/u/.config/lambdaimg/config.yaml", Running: -1, Error: "refused"}}
	if err := printBuilders(&out, &errOut, infos); err != nil {
		t.Fatal(err)
	}
	want := "ADDRESS       REACHABLE  VERSION  PLATFORMS  RUNNING  SOURCE\n" +
		"tcp://a:1234  no         -                   -        /home/u/.config/lambdaimg/config.yaml\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}
