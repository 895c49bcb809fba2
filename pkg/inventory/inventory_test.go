package inventory

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

func TestReadDpkgStatus(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Package
	}{
		{
			name: "installed packages, with source and multi-line fields",
			in: "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc (2.36-9)\nVersion: 2.36-9+deb12u4\n" +
				"Description: GNU C Library\n Contains the standard libraries.\n .\n More.\n\n" +
				"Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u5\n",
			want: []Package{
				{Name: "libc6", Version: "2.36-9+deb12u4", Arch: "amd64", Source: "glibc", Type: "deb"},
				{Name: "curl", Version: "7.88.1-10+deb12u5", Arch: "amd64", Type: "deb"},
			},
		},
		{
			name: "removed packages with configuration files left are not installed",
			in: "Package: old\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1\n\n" +
				"Package: half\nStatus: install ok half-configured\nArchitecture: amd64\nVersion: 1\n\n" +
				"Package: ok\nStatus: install ok installed\nArchitecture: all\nVersion: 2\n",
			want: []Package{{Name: "ok", Version: "2", Arch: "all", Type: "deb"}},
		},
		{name: "empty", in: "", want: []Package{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadDpkgStatus(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRead(t *testing.T) {
	img := testImage(t, status("zlib1g=1:1.2.13", "curl=7.88.1-10"), "rie-1", map[string]string{labels.RIC: "3.0.0"})
	inv, err := Read("test", img, map[string]string{labels.BaseName: "debian:12", labels.BaseDigest: "sha256:aaa"})
	if err != nil {
		t.Fatal(err)
	}
	// The top layer's status file wins over the base's.
	want := []Package{
		{Name: "curl", Version: "7.88.1-10", Arch: "amd64", Type: "deb"},
		{Name: "zlib1g", Version: "1:1.2.13", Arch: "amd64", Type: "deb"},
	}
	if diff := cmp.Diff(want, inv.Packages); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	got := []string{inv.Platform, inv.Distro, inv.Database, inv.Base.Name, inv.Base.Digest, inv.RIC}
	if diff := cmp.Diff([]string{"linux/amd64", "debian", "dpkg", "debian:12", "sha256:aaa", "3.0.0"}, got); diff != "" {
		t.Errorf("platform, distro, database, base, RIC (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(inv.RIE, "sha256:") {
		t.Errorf("RIE = %q, want the binary's sha256", inv.RIE)
	}
}

func TestReadAptSources(t *testing.T) {
	base, err := registrytest.Layer(types.OCILayer,
		registrytest.File{Path: "etc/apt/sources.list.d/debian.sources", Data: []byte("Types: deb\n")},
		registrytest.File{Path: "etc/apt/sources.list.d/old.list", Data: []byte("deb http://old a main\n")},
		registrytest.File{Path: "etc/apt/sources.list.d/README", Data: []byte("not a source")},
		registrytest.File{Path: "var/lib/dpkg/status", Data: status("base-files=12.4")})
	if err != nil {
		t.Fatal(err)
	}
	top, err := registrytest.Layer(types.OCILayer,
		registrytest.File{Path: "etc/apt/sources.list", Data: []byte("deb http://new b main\n")},
		registrytest.File{Path: "etc/apt/sources.list.d/.wh.old.list"})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, base, top)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Read("test", img, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The whiteout removed old.list, as apt in the container sees it.
	want := map[string]string{
		"etc/apt/sources.list":                  "deb http://new b main\n",
		"etc/apt/sources.list.d/debian.sources": "Types: deb\n",
	}
	if diff := cmp.Diff(want, inv.AptSources); diff != "" {
		t.Errorf("APT sources (-want +got):\n%s", diff)
	}
}
