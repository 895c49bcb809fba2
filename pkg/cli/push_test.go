package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/publish"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

// runPushCmd runs `push args` and returns stdout, stderr and the error.
func runPushCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := Env{Now: func() time.Time { return time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) }, Stderr: &errOut}
	g := &globalOptions{}
	cmd := newPushCmd(g, env)
	cmd.Flags().StringVar(&g.catalog, "catalog", "", "")
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// pushDockerConfig gives DefaultKeychain user:pass for host.
func pushDockerConfig(t *testing.T, host, user, pass string) {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	cfg := `{"auths":{"` + host + `":{"auth":"` + auth + `"}}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}

func TestPushCommand(t *testing.T) {
	const user, pass = "pusher", "push-PASSWORD-do-not-print"
	reg := registrytest.Start(t, registrytest.WithBearerAuth(user, pass))
	pushDockerConfig(t, reg.Host, user, pass)
	st, _ := registrytest.NewStore(t, registrytest.Runtimes([]string{"python3.12", "nodejs22.x"}, "x86_64", "arm64")...)
	refsFile := filepath.Join(t.TempDir(), "refs.txt")
	registry := reg.Host + "/ns"

	// A dry run writes nothing and says what it would do.
	out, _, err := runPushCmd(t, "--store", st.Dir(), "--registry", registry, "--dry-run", "--runtime", "python3.12")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "would-push "); n != 6 {
		t.Errorf("dry run printed %d would-push lines, want 6:\n%s", n, out)
	}
	if len(reg.Log().ManifestPuts()) != 0 {
		t.Error("the dry run put manifests")
	}

	out, errOut, err := runPushCmd(t, "--store", st.Dir(), "--registry", registry, "--image-refs", refsFile, "--jobs", "3")
	if err != nil {
		t.Fatalf("push: %v\nstderr:\n%s", err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 12 {
		t.Errorf("push printed %d references, want 12:\n%s", len(lines), out)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, registry+"/") || !strings.Contains(l, "@sha256:") {
			t.Errorf("line %q is not %s/<repo>:<tag>@sha256:...", l, registry)
		}
	}
	if !strings.Contains(out, registry+"/python:3.12-arm64@sha256:") || !strings.Contains(out, registry+"/nodejs:22.2026.11.24@sha256:") {
		t.Errorf("missing expected references:\n%s", out)
	}
	refs, err := os.ReadFile(refsFile)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(out, string(refs)); diff != "" {
		t.Errorf("--image-refs file differs from stdout (-stdout +file):\n%s", diff)
	}
	if !strings.Contains(errOut, "uploaded") || !strings.Contains(errOut, "-> sha256:") {
		t.Errorf("stderr shows no progress:\n%s", errOut)
	}
	for _, secret := range []string{pass, base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)), reg.LastToken()} {
		if strings.Contains(out+errOut, secret) {
			t.Errorf("a credential shows in the output")
		}
	}

	// JSON for CI: everything is in place now.
	out, _, err = runPushCmd(t, "--store", st.Dir(), "--registry", registry, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res publish.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("-o json printed invalid JSON: %v\n%s", err, out)
	}
	if len(res.Refs) != 12 || len(res.Stats) != 1 || res.Stats[0].TagsUnchanged != 12 {
		t.Errorf("second push: %d refs, stats %+v; want 12 unchanged", len(res.Refs), res.Stats)
	}

	// A wrong password fails without showing it.
	const wrong = "wrong-PASSWORD-also-secret"
	pushDockerConfig(t, reg.Host, user, wrong)
	out, errOut, err = runPushCmd(t, "--store", st.Dir(), "--registry", registry)
	if err == nil || !strings.Contains(err.Error(), "docker login "+reg.Host) {
		t.Fatalf("err = %v, want an authentication failure with a hint", err)
	}
	for _, secret := range []string{wrong, base64.StdEncoding.EncodeToString([]byte(user + ":" + wrong))} {
		if strings.Contains(out+errOut+err.Error(), secret) {
			t.Errorf("the wrong credential shows in the output or error")
		}
	}
}

func TestPushRefusesImagesThatFailVerification(t *testing.T) {
	reg := registrytest.Start(t)
	imgs := registrytest.Runtimes([]string{"python3.12", "go1.x"}, "x86_64")
	imgs[0].Spec.Entrypoint = []string{"lambda-entrypoint.sh"} // python3.12
	st, _ := registrytest.NewStore(t, imgs...)
	out, errOut, err := runPushCmd(t, "--store", st.Dir(), "--registry", reg.Host+"/ns")
	if err == nil || !strings.Contains(err.Error(), `python3.12/aws/x86_64 failed verification: FAIL entrypoint: ENTRYPOINT "lambda-entrypoint.sh" is a relative path`) {
		t.Fatalf("err = %v, want python3.12's verification failure\nstderr:\n%s", err, errOut)
	}
	if strings.Contains(out, "/python:") || !strings.Contains(out, "/go:1-x86_64@") {
		t.Errorf("want go pushed and python refused, got:\n%s", out)
	}
	out, _, err = runPushCmd(t, "--store", st.Dir(), "--registry", reg.Host+"/ns", "--no-verify")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "/python:3.12-x86_64@") {
		t.Errorf("--no-verify did not push python:\n%s", out)
	}
}

func TestPushUsageErrors(t *testing.T) {
	st, _ := registrytest.NewStore(t, registrytest.Runtimes([]string{"ruby3.3"}, "arm64")...)
	tests := []struct {
		args  []string
		want  string
		usage bool
	}{
		{[]string{"-o", "yaml"}, `-o "yaml"`, true},
		{[]string{"--jobs", "0"}, "0 concurrent requests", true},
		{[]string{"--tags", "latest"}, `tag kind "latest"`, true},
		{[]string{"--platform", "windows/amd64"}, "--platform", true},
		{[]string{"--runtime", "python3.12"}, "no image in the store", false},
		{[]string{"--store", filepath.Join(t.TempDir(), "none")}, "no image store at", false},
		{[]string{"--dry-run", "--image-refs", "refs.txt"}, "not with --dry-run", true},
		{nil, "give --registry", true}, // a catalog without defaults.registries
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append([]string{"--store", st.Dir(), "--registry", "127.0.0.1:1/ns"}, tc.args...)
			if tc.args == nil {
				// A catalog of its own, so that the test does not depend on
				// whether the built-in one names registries.
				cat := filepath.Join(t.TempDir(), "catalog.yaml")
				if err := os.WriteFile(cat, []byte("extends: builtin\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				args = []string{"--store", st.Dir(), "--catalog", cat}
			}
			_, _, err := runPushCmd(t, args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if IsUsage(err) != tc.usage {
				t.Errorf("IsUsage = %v, want %v", IsUsage(err), tc.usage)
			}
		})
	}
}

func TestPushAndVerifyHelp(t *testing.T) {
	for _, cmd := range []string{"push", "verify"} {
		var out bytes.Buffer
		c := newPushCmd(&globalOptions{}, Env{})
		if cmd == "verify" {
			c = newVerifyCmd(&globalOptions{}, Env{})
		}
		c.SetOut(&out)
		c.SetArgs([]string{"--help"})
		if err := c.Execute(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "Examples:") || !strings.Contains(out.String(), "lambdaimg "+cmd) {
			t.Errorf("%s --help has no examples:\n%s", cmd, out.String())
		}
	}
}
