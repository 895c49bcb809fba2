package osindex_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/osindex"
	"github.com/lambdaimg/lambdaimg/pkg/osindex/apktest"
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

// TestApkInstalls: on Alpine, what apk add brings in follows D: (a so:
// name to the package providing it), skips what the image has, ignores
// version constraints and conflicts, and moves only with those packages.
func TestApkInstalls(t *testing.T) {
	repo := apktest.Start(t)
	publish := func(libcurl, other string) {
		repo.Publish(
			apktest.Pkg{Name: "curl", Version: "8.9.1-r0", Depends: "ca-certificates-bundle so:libcurl.so.4 so:libc.musl-x86_64.so.1 !curl-old"},
			apktest.Pkg{Name: "libcurl", Version: libcurl, Depends: "so:libz.so.1>=1.3", Provides: "so:libcurl.so.4=4.8.0"},
			apktest.Pkg{Name: "ca-certificates-bundle", Version: "20240705-r0"},
			apktest.Pkg{Name: "zlib", Version: "1.3.1-r1", Provides: "so:libz.so.1=1.3.1"},
			apktest.Pkg{Name: "musl", Version: "1.2.5-r0", Provides: "so:libc.musl-x86_64.so.1=1"},
			apktest.Pkg{Name: "other", Version: other},
		)
	}
	installs := func(names []string, have ...string) map[string]string {
		t.Helper()
		got, err := newClient(t).ApkInstalls(context.Background(), []string{repo.URL}, "amd64", names, func(n string) bool {
			return slices.Contains(have, n)
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	publish("8.9.1-r0", "1-r0")
	want := map[string]string{"curl": "8.9.1-r0", "libcurl": "8.9.1-r0", "ca-certificates-bundle": "20240705-r0", "zlib": "1.3.1-r1"}
	if diff := cmp.Diff(want, installs([]string{"curl>8", "missing"}, "musl")); diff != "" {
		t.Errorf("ApkInstalls(curl) on an image with musl (-want +got):\n%s", diff)
	}
	first := osindex.InstallState(installs([]string{"curl"}, "musl"))
	publish("8.9.1-r0", "2-r0")
	if got := osindex.InstallState(installs([]string{"curl"}, "musl")); got != first {
		t.Errorf("a package curl does not need moved, and the state moved")
	}
	publish("8.9.1-r1", "2-r0")
	if got := osindex.InstallState(installs([]string{"curl"}, "musl")); got == first {
		t.Errorf("libcurl moved and the state did not")
	}
}
