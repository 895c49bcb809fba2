package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

func runRollbackCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	g := &globalOptions{}
	cmd := newRollbackCmd(g)
	cmd.Flags().StringVar(&g.catalog, "catalog", "", "")
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// TestRollbackCommand: two builds on one day, then back to the first.
func TestRollbackCommand(t *testing.T) {
	reg := registrytest.Start(t)
	registry := reg.Host + "/ns"
	for _, size := range []int{10, 20} {
		imgs := registrytest.Runtimes([]string{"python3.12"}, "x86_64", "arm64")
		for i := range imgs {
			imgs[i].Spec.Size = size
		}
		st, _ := registrytest.NewStore(t, imgs...)
		if _, errOut, err := runPushCmd(t, "--store", st.Dir(), "--registry", registry); err != nil {
			t.Fatalf("push: %v\n%s", err, errOut)
		}
	}
	if _, _, err := runRollbackCmd(t, "python3.12", "--registry", registry); err == nil || !strings.Contains(err.Error(), "--to") {
		t.Errorf("without --to: err = %v, want a usage error naming --to", err)
	}
	out, errOut, err := runRollbackCmd(t, "python3.12", "--to", "2026.11.24.1", "--registry", registry)
	if err != nil {
		t.Fatalf("rollback: %v\n%s", err, errOut)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		tag, _, _ := strings.Cut(strings.TrimPrefix(f[1], registry+"/"), "@")
		got = append(got, f[0]+" "+tag)
	}
	want := []string{"pushed python:3.12-x86_64", "pushed python:3.12-arm64", "pushed python:3.12"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rollback output (-want +got):\n%s", diff)
	}
}
