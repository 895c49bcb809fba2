package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
)

// TestBuilderLs lists a pool of a builder whose native platform is arm64
// and one that does not answer, as JSON and as a table.
func TestBuilderLs(t *testing.T) {
	d := testenv.StartDaemon(t, buildkit.Spec{}, "--oci-worker-platform", "linux/arm64")
	down := "tcp://127.0.0.1:1"
	args := []string{"builder", "ls", "--builder", d.Addr + ",jobs=2", "--builder", down}
	out, _, err := execute(t, nil, append(args, "-o", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	var infos []buildkit.Info
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(infos) != 2 {
		t.Fatalf("want 2 builders:\n%s", out)
	}
	up, gone := infos[0], infos[1]
	native := map[string]bool{}
	for _, p := range up.Platforms {
		native[p.Platform] = p.Native
	}
	if !up.Reachable || up.Version == "" || up.JobLimit != 2 || up.Running != 0 || !native["linux/arm64"] || native["linux/amd64"] {
		t.Errorf("reachable builder: %+v", up)
	}
	if diff := cmp.Diff(buildkit.Info{Address: down, Source: buildkit.SourcePool, Running: -1}, gone,
		cmpIgnoreError()); diff != "" || !strings.Contains(gone.Error, "connection refused") {
		t.Errorf("unreachable builder (-want +got):\n%s\nerror %q", diff, gone.Error)
	}

	table, errOut, err := execute(t, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ADDRESS", "REACHABLE", d.Addr, ", linux/arm64 ", "linux/amd64 (emulated)", down + "  "} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if !strings.Contains(errOut, down+": ") {
		t.Errorf("stderr does not say why %s is unreachable:\n%s", down, errOut)
	}
}

func cmpIgnoreError() cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Error" }, cmp.Ignore())
}
