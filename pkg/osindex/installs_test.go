package osindex_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/osindex"
	"github.com/lambdaimg/lambdaimg/pkg/osindex/apttest"
)

// TestInstalls: the packages an install brings in follow Depends (an
// alternative's first offered choice, a virtual package's provider), skip
// what the image has, and their state moves only when one of them moves.
func TestInstalls(t *testing.T) {
	repo := apttest.Start(t, "testing")
	srcs := sources(t, repo)
	publish := func(libhello, other string) {
		repo.Publish(
			apttest.Pkg{Name: "hello", Version: "1", Depends: "libhello (>= 1) | libalt, awk"},
			apttest.Pkg{Name: "libhello", Version: libhello},
			apttest.Pkg{Name: "libalt", Version: "1"},
			apttest.Pkg{Name: "mawk", Version: "1", Provides: "awk"},
			apttest.Pkg{Name: "other", Version: other},
		)
	}
	installs := func(names []string, have ...string) map[string]string {
		t.Helper()
		got, err := newClient(t).Installs(context.Background(), srcs, "amd64", names, func(n string) bool {
			for _, h := range have {
				if h == n {
					return true
				}
			}
			return false
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	publish("1", "1")
	for _, tc := range []struct {
		names, have []string
		want        map[string]string
	}{
		{[]string{"hello"}, []string{"mawk"}, map[string]string{"hello": "1", "libhello": "1"}},
		{[]string{"hello=1", "missing"}, nil, map[string]string{"hello": "1", "libhello": "1", "mawk": "1"}},
		{[]string{"hello:amd64"}, []string{"libalt", "mawk"}, map[string]string{"hello": "1"}},
		{[]string{"awk"}, nil, map[string]string{"mawk": "1"}},
		{[]string{"hello"}, []string{"hello"}, map[string]string{}},
	} {
		if diff := cmp.Diff(tc.want, installs(tc.names, tc.have...)); diff != "" {
			t.Errorf("Installs(%v) with %v (-want +got):\n%s", tc.names, tc.have, diff)
		}
	}
	first := osindex.InstallState(installs([]string{"hello"}, "mawk"))
	publish("1", "2")
	if got := osindex.InstallState(installs([]string{"hello"}, "mawk")); got != first {
		t.Errorf("a package hello does not need moved, and the state moved: %s -> %s", first, got)
	}
	publish("2", "2")
	if got := osindex.InstallState(installs([]string{"hello"}, "mawk")); got == first {
		t.Errorf("libhello moved to 2 and the state %s did not", got)
	}
}
