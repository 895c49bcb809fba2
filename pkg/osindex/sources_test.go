package osindex

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
)

func TestParseSourceFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []Source
	}{
		{"one-line, options, deb-src and comments", map[string]string{
			"etc/apt/sources.list": "# a comment\ndeb http://deb.debian.org/debian bookworm main contrib\n" +
				"deb-src http://deb.debian.org/debian bookworm main\n" +
				"deb [trusted=yes arch=amd64,arm64] http://127.0.0.1:8080/ test main # local\n",
		}, []Source{
			{URI: "http://deb.debian.org/debian", Suite: "bookworm", Components: []string{"main", "contrib"}},
			{URI: "http://127.0.0.1:8080", Suite: "test", Components: []string{"main"}, Archs: []string{"amd64", "arm64"}},
		}},
		{"deb822, as debian:bookworm ships it", map[string]string{
			"etc/apt/sources.list.d/debian.sources": "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n" +
				"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n" +
				"Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n\n" +
				"Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\n\n" +
				"Enabled: no\nTypes: deb\nURIs: http://off.example\nSuites: x\nComponents: main\n",
			"etc/apt/sources.list.d/README": "not a source file",
		}, []Source{
			{URI: "http://deb.debian.org/debian", Suite: "bookworm", Components: []string{"main"}},
			{URI: "http://deb.debian.org/debian", Suite: "bookworm-updates", Components: []string{"main"}},
			{URI: "http://deb.debian.org/debian-security", Suite: "bookworm-security", Components: []string{"main"}},
		}},
		{"flat repository; a duplicate across files", map[string]string{
			"etc/apt/sources.list":          "deb http://repo.example/flat ./\n",
			"etc/apt/sources.list.d/x.list": "deb http://repo.example/flat ./\n",
		}, []Source{{URI: "http://repo.example/flat", Suite: "./"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSourceFiles(tc.files)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("sources (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSourceFilesRefuses(t *testing.T) {
	for name, list := range map[string]string{
		"no suite":             "deb http://deb.debian.org/debian\n",
		"unterminated options": "deb [trusted=yes http://x bookworm main\n",
		"not http":             "deb file:/srv/repo bookworm main\n",
		"suite without comps":  "deb http://x bookworm\n",
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := ParseSourceFiles(map[string]string{"etc/apt/sources.list": list}); err == nil {
				t.Errorf("parsed %q as %+v, want an error", list, got)
			}
		})
	}
}

func TestRecordRoundTrip(t *testing.T) {
	inv := &inventory.Inventory{Database: "dpkg",
		AptSources: map[string]string{"etc/apt/sources.list": "deb [trusted=yes arch=amd64] http://a/debian bookworm main\ndeb http://b/ ./\n"},
		Packages: []inventory.Package{
			{Name: "libc6", Version: "2.36-9", Arch: "amd64"},
			{Name: "libc6", Version: "2.36-9", Arch: "i386"},
			{Name: "tzdata", Version: "2024a-0+deb12u1", Arch: "all"},
		}}
	base := &inventory.Inventory{Database: "dpkg", Packages: []inventory.Package{
		{Name: "libc6", Version: "2.36-9", Arch: "amd64"}, // as in the image: the base's
		{Name: "tzdata", Version: "2023c-5", Arch: "all"}, // upgraded by the build
		{Name: "gone", Version: "1", Arch: "all"}}}
	r, err := NewRecord(inv, base, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseRecord(s)
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := back.SourceList()
	if err != nil {
		t.Fatal(err)
	}
	want := []Source{
		{URI: "http://a/debian", Suite: "bookworm", Components: []string{"main"}, Archs: []string{"amd64"}},
		{URI: "http://b", Suite: "./"},
	}
	if diff := cmp.Diff(want, srcs); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	wantPkgs := []inventory.Package{{Name: "tzdata", Version: "2024a-0+deb12u1", Type: "deb"}}
	if diff := cmp.Diff(wantPkgs, back.Installed()); diff != "" {
		t.Errorf("installed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"libc6:i386": "2.36-9", "tzdata": "2024a-0+deb12u1"}, back.Packages); diff != "" {
		t.Errorf("recorded packages (-want +got):\n%s", diff)
	}
	r, err = NewRecord(&inventory.Inventory{Database: "apk"}, nil, "amd64")
	if err != nil || len(r.Sources) != 0 || len(r.Packages) != 0 {
		t.Errorf("an image without dpkg: record %+v, %v; want an empty one", r, err)
	}
}

func TestIndexesArchAll(t *testing.T) {
	src := Source{URI: "http://x", Suite: "s", Components: []string{"main"}}
	sums := "SHA256:\n 1 1 main/binary-amd64/Packages\n 2 1 main/binary-amd64/Packages.xz\n 3 1 main/binary-all/Packages\n 4 1 main/binary-all/Packages.gz\n"
	for _, tc := range []struct {
		name, fields string
		want         []string
	}{
		{"Debian's main archive: arch all in every index", "Architectures: all amd64\nNo-Support-for-Architecture-all: Packages\n", []string{"main/binary-amd64/Packages.xz"}},
		{"a Release naming all", "Architectures: all amd64\n", []string{"main/binary-amd64/Packages.xz", "main/binary-all/Packages.gz"}},
		{"security: all not named", "Architectures: amd64 arm64\n", []string{"main/binary-amd64/Packages.xz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rel, err := parseRelease([]byte(tc.fields + sums))
			if err != nil {
				t.Fatal(err)
			}
			files, err := rel.indexes(src, "amd64")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range files {
				got = append(got, f.fetch.Filename)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("index files (-want +got):\n%s", diff)
			}
		})
	}
}
