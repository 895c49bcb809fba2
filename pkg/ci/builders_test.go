package ci

import (
	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit/spec"
)

// TestPoolSteps runs the build job of a workflow generated with
// --builder: the TLS step writes each secret to a file only the runner's
// user reads, the build gets the builders with those files (as --builder
// parses them), and no buildkitd is started nor BUILDKIT_HOST set.
func TestPoolSteps(t *testing.T) {
	g := cases["pool"]
	gen, err := Generate(g)
	if err != nil {
		t.Fatal(err)
	}
	wf := string(gen)
	for _, s := range []string{"Start BuildKit", "BUILDKIT_HOST", "ca.pem", "BEGIN"} {
		if strings.Contains(wf, s) {
			t.Errorf("the workflow has %q", s)
		}
	}
	for _, s := range []string{"${{ secrets.BUILDKIT_CA }}", "${{ secrets.ARM_KEY }}", "tcp://amd64-1.internal:1234", "tcp://arm64-1.internal:1234", "kube-pod://buildkitd-0?namespace=ci"} {
		if !strings.Contains(wf, s) {
			t.Errorf("the workflow lacks %q", s)
		}
	}
	steps := jobSteps(t, gen, "build")
	dir := t.TempDir()
	tmp := filepath.Join(dir, "runner-temp")
	env := []string{"RUNNER_TEMP=" + tmp}
	secrets := map[string]string{}
	for _, name := range []string{"ARM_CERT", "ARM_KEY", "BUILDKIT_CA", "BUILDKIT_CERT", "BUILDKIT_KEY"} {
		secrets[name] = "-----BEGIN " + name + "-----"
		env = append(env, "TLS_"+name+"="+secrets[name])
	}
	tls := steps["Write the builders' TLS files from secrets"]
	for k, v := range tls.Env {
		if want := "${{ secrets." + strings.TrimPrefix(k, "TLS_") + " }}"; v != want {
			t.Errorf("TLS step env %s = %q, want %q", k, v, want)
		}
	}
	runStep(t, dir, tls.Run, env...)
	for name, v := range secrets {
		f := filepath.Join(tmp, "lambdaimg-tls", name+".pem")
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != v+"\n" {
			t.Errorf("%s = %q, want the secret", f, data)
		}
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}

	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	fake := "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > \"$ARGS\"\n"
	if err := os.WriteFile(filepath.Join(bin, "lambdaimg"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	build := steps["Build and smoke-test"]
	if _, ok := build.Env["BUILDKIT_HOST"]; ok {
		t.Error("the build step sets BUILDKIT_HOST")
	}
	// lambdaimg's user cache is the directory the cache steps keep
	cacheDir := "${{ runner.temp }}/lambdaimg-cache"
	if got := build.Env["LAMBDAIMG_CACHE_DIR"]; got != cacheDir {
		t.Errorf("the build step's LAMBDAIMG_CACHE_DIR = %q, want %q", got, cacheDir)
	}
	restore, save := steps["Restore lambdaimg's scans of base images"], steps["Save lambdaimg's scans of base images"]
	if restore.With["path"] != cacheDir || save.With["path"] != cacheDir || restore.With["key"] != save.With["key"] ||
		!strings.HasPrefix(restore.With["key"], restore.With["restore-keys"]) || save.If != "always()" {
		t.Errorf("the cache steps do not keep the build's user cache: restore %+v, save %+v", restore, save)
	}
	argsFile := filepath.Join(dir, "args")
	runStep(t, dir, build.Run, "RUNNER_TEMP="+tmp, "LAMBDAIMG_CACHE_DIR="+filepath.Join(tmp, "lambdaimg-cache"),
		"ARGS="+argsFile, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if fi, err := os.Stat(filepath.Join(tmp, "lambdaimg-cache")); err != nil || !fi.IsDir() {
		t.Errorf("the build step did not make the cache directory for the save step: %v", err)
	}
	data, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimSpace(string(data)), "\n")
	var got []spec.Builder
	for i, a := range args {
		if a == "--builder" && i+1 < len(args) {
			sp, err := spec.Parse(args[i+1])
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, sp)
		}
	}
	pem := func(name string) string { return filepath.Join(tmp, "lambdaimg-tls", name+".pem") }
	want := []spec.Builder{
		{Addr: "tcp://amd64-1.internal:1234", CACert: pem("BUILDKIT_CA"), Cert: pem("BUILDKIT_CERT"), Key: pem("BUILDKIT_KEY"), ServerName: "buildkitd"},
		{Addr: "tcp://arm64-1.internal:1234", CACert: pem("BUILDKIT_CA"), Cert: pem("ARM_CERT"), Key: pem("ARM_KEY"), Platforms: []string{"linux/arm64"}, Jobs: 2},
		{Addr: "kube-pod://buildkitd-0?namespace=ci"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("builders of the build (-want +got):\n%s", diff)
	}
}

// TestPoolStepRefusesEmptySecret: a secret not set in the repository
// reaches the job empty; the TLS step fails naming it.
func TestPoolStepRefusesEmptySecret(t *testing.T) {
	gen, err := Generate(cases["pool"])
	if err != nil {
		t.Fatal(err)
	}
	tls := jobSteps(t, gen, "build")["Write the builders' TLS files from secrets"]
	dir := t.TempDir()
	if _, err := exec.LookPath("bash"); err != nil {
		testenv.Unavailable(t, "bash is not installed (scripts/install-buildkit.sh installs it)")
	}
	cmd := exec.Command("bash", "-e", "-c", tls.Run)
	cmd.Env = append(os.Environ(), "RUNNER_TEMP="+dir, "TLS_ARM_CERT=x", "TLS_ARM_KEY=x", "TLS_BUILDKIT_CA=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("the TLS step passed with an empty secret")
	}
	if want := "::error::secret BUILDKIT_CA is empty"; !strings.Contains(string(out), want) {
		t.Errorf("output %q lacks %q", out, want)
	}
}
