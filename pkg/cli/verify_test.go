package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/verify"
)

func runVerifyCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newVerifyCmd(&globalOptions{}, Env{Stderr: &errOut})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestVerifyCommand(t *testing.T) {
	imgs := registrytest.Runtimes([]string{"python3.12"}, "x86_64", "arm64")
	imgs[1].Spec.ConfigArch = "amd64" // arm64 binaries, amd64 config
	st, _ := registrytest.NewStore(t, imgs...)

	out, err := runVerifyCmd(t, "oci:"+st.Dir()+":python3.12/aws/x86_64")
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 13 || !strings.HasPrefix(lines[0], "oci:"+st.Dir()+":python3.12/aws/x86_64 sha256:") {
		t.Errorf("want a header and 12 check lines, got:\n%s", out)
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "  PASS ") && !strings.HasPrefix(l, "  WARN cmd") {
			t.Errorf("unexpected line %q", l)
		}
	}

	out, err = runVerifyCmd(t, "-o", "json", "oci:"+st.Dir())
	if err == nil || !strings.Contains(err.Error(), "1 of 2 images failed verification") {
		t.Fatalf("err = %v, want one failure of two", err)
	}
	var reps []verify.Report
	if err := json.Unmarshal([]byte(out), &reps); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, out)
	}
	if len(reps) != 2 || !reps[0].Failed() || reps[1].Failed() {
		t.Fatalf("reports: %+v", reps)
	}
	if err := reps[0].Err(); !strings.Contains(err.Error(), "FAIL platform: the descriptor says linux/arm64 but the config says linux/amd64") ||
		!strings.Contains(err.Error(), "FAIL binary-arch: the config says amd64 but") {
		t.Errorf("arm64 image: %v", err)
	}

	if _, err := runVerifyCmd(t, "--cmd", "maybe", "oci:"+st.Dir()); !IsUsage(err) {
		t.Errorf("--cmd maybe: err = %v, want a usage error", err)
	}
	if _, err := runVerifyCmd(t, "oci:"+st.Dir()+":nope"); err == nil || !strings.Contains(err.Error(), `no image named "nope"`) {
		t.Errorf("unknown refname: err = %v", err)
	}
}
