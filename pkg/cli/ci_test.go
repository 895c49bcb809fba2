package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/ci"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := New(Env{Stderr: &errOut})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// TestCIGitHubCheck writes the workflow, finds it up to date, then
// detects a hand edit with --check.
func TestCIGitHubCheck(t *testing.T) {
	file := filepath.Join(t.TempDir(), ".github", "workflows", "lambdaimg.yml")
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"ci", "github", "--file", file}, file + "\twritten\n"},
		{[]string{"ci", "github", "--file", file}, file + "\tunchanged\n"},
		{[]string{"ci", "github", "--file", file, "--check"}, file + "\tup to date\n"},
	}
	for _, s := range steps {
		got, err := runCLI(t, s.args...)
		if err != nil {
			t.Fatalf("%v: %v", s.args, err)
		}
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", s.args, diff)
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "cron: \"17 4 * * *\"", "cron: \"0 0 * * *\"", 1)
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = runCLI(t, "ci", "github", "--file", file, "--check")
	var drift *ci.DriftError
	if !errors.As(err, &drift) || IsUsage(err) {
		t.Fatalf("--check after a hand edit = %v, want a drift error (exit 1)", err)
	}
	if !strings.Contains(drift.Diff, "-    - cron: \"0 0 * * *\"\n+    - cron: \"17 4 * * *\"") {
		t.Errorf("the diff does not show the edit:\n%s", drift.Diff)
	}
}

func TestCIGitHubUsage(t *testing.T) {
	for _, args := range [][]string{
		{"ci", "github", "--schedule", "hourly"},
		{"ci", "github", "--runtime", "python2.0"},
		{"ci", "github", "-o", "yaml"},
		{"ci", "github", "--builder", "tcp://a:1234,cacert=ca.pem"},
		{"ci", "github", "--builder", "a:1234"},
		{"ci", "github", "--registry", "public.ecr.aws/x"}, // ECR needs --aws-role
		{"ci", "github", "--registry", "docker.io/x", "--aws-role", "admin"},
	} {
		_, err := runCLI(t, append(args, "--file", filepath.Join(t.TempDir(), "wf.yml"))...)
		if !IsUsage(err) {
			t.Errorf("%v = %v, want a usage error", args, err)
		}
	}
}

// TestCIGitHubBuilders: --builder reaches the build jobs, with the TLS
// secrets named and no buildkitd started on the runner.
func TestCIGitHubBuilders(t *testing.T) {
	file := filepath.Join(t.TempDir(), "wf.yml")
	_, err := runCLI(t, "ci", "github", "--file", file,
		"--builder", "tcp://arm64-1:1234,cacert=BUILDKIT_CA,cert=BUILDKIT_CERT,key=BUILDKIT_KEY,platform=linux/arm64",
		"--builder", "tcp://amd64-1:1234")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	wf := string(data)
	for _, s := range []string{
		`--builder "tcp://arm64-1:1234,cacert=$RUNNER_TEMP/lambdaimg-tls/BUILDKIT_CA.pem,cert=$RUNNER_TEMP/lambdaimg-tls/BUILDKIT_CERT.pem,key=$RUNNER_TEMP/lambdaimg-tls/BUILDKIT_KEY.pem,platform=linux/arm64" --builder "tcp://amd64-1:1234"`,
		"TLS_BUILDKIT_KEY: ${{ secrets.BUILDKIT_KEY }}",
	} {
		if !strings.Contains(wf, s) {
			t.Errorf("the workflow lacks %s", s)
		}
	}
	if strings.Contains(wf, "Start BuildKit") {
		t.Error("the workflow starts a buildkitd on the runner")
	}
}
