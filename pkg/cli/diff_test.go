package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

func TestDiffCommand(t *testing.T) {
	st, _ := registrytest.NewStore(t, registrytest.Runtimes([]string{"python3.12"}, "x86_64", "arm64")...)
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		cmd := newDiffCmd()
		cmd.SetArgs(args)
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.ExecuteContext(context.Background())
		return out.String(), err
	}
	oldRef, newRef := "oci:"+st.Dir()+":python3.12/aws/x86_64", "oci:"+st.Dir()+":python3.12/aws/arm64"
	out, err := run("-o", "json", oldRef, newRef)
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Old, New string }
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if !strings.HasPrefix(c.Old, oldRef+"@sha256:") || !strings.HasPrefix(c.New, newRef+"@sha256:") {
		t.Errorf("old %q, new %q: want the refs with their digests", c.Old, c.New)
	}
	if _, err := run("oci:"+st.Dir(), newRef); err == nil || !strings.Contains(err.Error(), "REFNAME") {
		t.Errorf("a whole layout: err = %v, want one asking for oci:DIR:REFNAME", err)
	}
	if _, err := run("-o", "yaml", oldRef, newRef); err == nil {
		t.Error("-o yaml: no error")
	}
}
