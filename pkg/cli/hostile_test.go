package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// execute runs lambdaimg with args and environment env (nil: empty).
func execute(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := New(Env{Stderr: &errOut, Getenv: func(k string) string { return env[k] }})
	cmd.SetOut(&out)
	cmd.SetArgs(args)
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

// userCatalog writes a catalog overlay whose python3.12 alpine variant
// takes ext as an extension, with ext/agent beside it.
func userCatalog(t *testing.T, ext string) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "ext"), 0o755)
	os.WriteFile(filepath.Join(dir, "ext", "agent"), []byte("#!/bin/sh\n"), 0o755)
	p := filepath.Join(dir, "catalog.yaml")
	text := fmt.Sprintf("extends: builtin\nruntimes:\n  - id: python3.12\n    variants:\n      alpine: {extensions: [%q]}\n", ext)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGenerateListsHostFiles: what a catalog takes from this machine is
// shown by generate, and a catalog cannot reach outside its directory
// unless the user allows it.
func TestGenerateListsHostFiles(t *testing.T) {
	inside := userCatalog(t, "ext/agent")
	out, stderr, err := execute(t, nil, "generate", "--catalog", inside, "-r", "python3.12", "--os", "alpine", "--dir", t.TempDir(), "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var gens []struct{ Extensions []string }
	if err := json.Unmarshal([]byte(out), &gens); err != nil {
		t.Fatal(err)
	}
	agent := filepath.Join(filepath.Dir(inside), "ext", "agent")
	if diff := cmp.Diff([]string{agent}, gens[0].Extensions); diff != "" {
		t.Errorf("extensions in -o json (-want +got):\n%s", diff)
	}
	if want := "note: python3.12/alpine takes extensions from this machine: " + agent; !strings.Contains(stderr, want) {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}

	outside := userCatalog(t, "/etc/passwd")
	_, _, err = execute(t, nil, "generate", "--catalog", outside, "-r", "python3.12", "--os", "alpine", "--dir", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), `"/etc/passwd" is an absolute path`) {
		t.Fatalf("generate with /etc/passwd = %v, want it refused", err)
	}
	_, stderr, err = execute(t, nil, "generate", "--allow-host-paths", "--catalog", outside, "-r", "python3.12", "--os", "alpine", "--dir", t.TempDir())
	if err != nil || !strings.Contains(stderr, "from this machine: /etc/passwd") {
		t.Fatalf("generate --allow-host-paths = %v, stderr %q: want /etc/passwd listed", err, stderr)
	}
}

// TestLimitFlags: --limit and $LAMBDAIMG_LIMITS reach the catalog reader,
// and bad values are usage errors.
func TestLimitFlags(t *testing.T) {
	cat := userCatalog(t, "ext/agent")
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		want  string
		usage bool
	}{
		{"flag", nil, []string{"--limit", "catalog-size=10"}, "is larger than the limit of 10 bytes", false},
		{"env", map[string]string{"LAMBDAIMG_LIMITS": "catalog-entries=1"}, nil, "over the limit of 1 (raise it with --limit catalog-entries=N)", false},
		{"flag over env", map[string]string{"LAMBDAIMG_LIMITS": "catalog-size=10"}, []string{"--limit", "catalog-size=1MiB"}, "", false},
		{"unknown name", nil, []string{"--limit", "disk=1"}, `--limit "disk": no such limit`, true},
		{"not a number", nil, []string{"--limit", "catalog-size=big"}, `--limit catalog-size: "big" is not a positive number`, true},
		{"zero", nil, []string{"--limit", "extension-files=0"}, "is not a positive number", true},
		{"no value", nil, []string{"--limit", "catalog-size"}, "want NAME=N", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"list", "--catalog", cat}, tc.args...)
			_, _, err := execute(t, tc.env, args...)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if IsUsage(err) != tc.usage {
				t.Errorf("IsUsage = %v, want %v", IsUsage(err), tc.usage)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	l, err := parseLimits("extension-size=2GiB, path-length=200", []string{"extension-zip-size=64MiB", "extension-files=5", "catalog-size=1KiB", "catalog-entries=7"})
	if err != nil {
		t.Fatal(err)
	}
	got := []int64{l.extension.Size, int64(l.extension.PathLen), l.extension.ZipSize, int64(l.extension.Files), l.catalog.MaxSize, int64(l.catalog.MaxEntries)}
	if diff := cmp.Diff([]int64{2 << 30, 200, 64 << 20, 5, 1 << 10, 7}, got); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}
}

// TestCatalogDevZero: --catalog /dev/zero is refused without being read.
func TestCatalogDevZero(t *testing.T) {
	_, _, err := execute(t, nil, "list", "--catalog", "/dev/zero")
	if err == nil || !strings.Contains(err.Error(), "/dev/zero is not a regular file") {
		t.Fatalf("err = %v", err)
	}
}
