package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
)

// TestBuilderPrune fills a private daemon's cache with one small build and
// prunes it: the first prune reports what it removed, a second finds
// nothing left.
func TestBuilderPrune(t *testing.T) {
	d := testenv.StartDaemon(t, buildkit.Spec{})
	conn, err := buildkit.DialSpec(t.Context(), buildkit.Spec{Addr: d.Addr}, buildkit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dockerfile := "FROM scratch\nCOPY payload /payload\n"
	payload := []byte(strings.Repeat("cache me ", 100000))
	if out, err := testenv.Check(t, conn, dockerfile, map[string][]byte{"payload": payload}, nil); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	prune := func() pruneReport {
		t.Helper()
		out, _, err := execute(t, nil, "builder", "prune", "--addr", d.Addr, "--all", "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		var r pruneReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		return r
	}
	first := prune()
	if first.Address != d.Addr || first.Records == 0 || first.Bytes < int64(len(payload)) {
		t.Errorf("first prune = %+v, want the %d-byte context removed from %s", first, len(payload), d.Addr)
	}
	if second := prune(); second.Records != 0 || second.Bytes != 0 {
		t.Errorf("second prune = %+v, want nothing left", second)
	}
}

func TestParseKeepStorage(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "10GB": 10 << 30, "500MB": 500 << 20, "1024": 1024} {
		if got, err := parseKeepStorage(in); err != nil || got != want {
			t.Errorf("parseKeepStorage(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"ten", "-1GB", "10XB"} {
		if _, err := parseKeepStorage(in); !IsUsage(err) {
			t.Errorf("parseKeepStorage(%q) = %v, want a usage error", in, err)
		}
	}
}
