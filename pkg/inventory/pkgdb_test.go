package inventory

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

// rpmFixture is what testdata/rpmdb/make.sh installed into both
// databases, as `rpm -qa` lists it there, in Read's order (by name:arch).
var rpmFixture = []Package{
	{Name: "fixture-libs", Version: "2:1.0.1-3.amzn2023", Arch: "x86_64", Source: "fixture", Type: "rpm"},
	{Name: "fixture", Version: "2:1.0.1-3.amzn2023", Arch: "x86_64", Type: "rpm"},
	{Name: "tiny", Version: "0.9-1", Arch: "noarch", Type: "rpm"},
}

func TestReadRpmDB(t *testing.T) {
	for _, tc := range []struct{ name, path string }{
		{name: "sqlite (Amazon Linux 2023)", path: "testdata/rpmdb/sqlite/rpmdb.sqlite"},
		{name: "berkeley db (Amazon Linux 2)", path: "testdata/rpmdb/bdb/Packages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadRpmDB(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			sortPackages(got)
			if diff := cmp.Diff(rpmFixture, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRpmSourceName(t *testing.T) {
	for in, want := range map[string]string{
		"glibc-2.34-52.amzn2023.0.2.src.rpm":    "glibc",
		"python3-pip-21.3.1-2.amzn2023.src.rpm": "python3-pip",
		"(none)":                                "",
		"odd.src.rpm":                           "",
	} {
		if got := rpmSourceName(in); got != want {
			t.Errorf("rpmSourceName(%q) = %q, want %q", in, got, want)
		}
	}
}

// apkInstalled is an installed database as apk writes it: package fields,
// then each directory (F:) and file (R:) with its checksum (Z:).
const apkInstalled = `C:Q1abcdefghijklmnopqrstuvwxyz0=
P:musl
V:1.2.4-r2
A:x86_64
S:383152
I:622592
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Someone <someone@example.org>
t:1700000000
c:0123456789abcdef0123456789abcdef01234567
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1bcdefghijklmnopqrstuvwxyza0=

C:Q1bbcdefghijklmnopqrstuvwxyz0=
P:libcrypto3
V:3.1.4-r5
A:x86_64
o:openssl
D:so:libc.musl-x86_64.so.1
F:usr/lib
R:libcrypto.so.3

P:alpine-baselayout-data
V:3.4.3-r2
A:x86_64
o:alpine-baselayout
`

func TestReadApkDB(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Package
		wantErr string
	}{
		{
			name: "installed database",
			in:   apkInstalled,
			want: []Package{
				{Name: "musl", Version: "1.2.4-r2", Arch: "x86_64", Type: "apk"},
				{Name: "libcrypto3", Version: "3.1.4-r5", Arch: "x86_64", Source: "openssl", Type: "apk"},
				{Name: "alpine-baselayout-data", Version: "3.4.3-r2", Arch: "x86_64", Source: "alpine-baselayout", Type: "apk"},
			},
		},
		{name: "empty", in: "", want: []Package{}},
		{name: "blank lines only", in: "\n\n", want: []Package{}},
		{name: "not apk's format", in: "Package: curl\nVersion: 1\n", wantErr: `line 1: "Package: curl" is not a K:value field`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadApkDB(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadPackageDatabases reads whole images of each kind of database.
func TestReadPackageDatabases(t *testing.T) {
	sqlite, err := os.ReadFile("testdata/rpmdb/sqlite/rpmdb.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := os.ReadFile("testdata/rpmdb/bdb/Packages")
	if err != nil {
		t.Fatal(err)
	}
	osRelease := func(id string) registrytest.File {
		return registrytest.File{Path: "etc/os-release", Data: []byte("NAME=x\nID=\"" + id + "\"\n")}
	}
	alpine := []Package{
		{Name: "alpine-baselayout-data", Version: "3.4.3-r2", Arch: "x86_64", Source: "alpine-baselayout", Type: "apk"},
		{Name: "libcrypto3", Version: "3.1.4-r5", Arch: "x86_64", Source: "openssl", Type: "apk"},
		{Name: "musl", Version: "1.2.4-r2", Arch: "x86_64", Type: "apk"},
	}
	tests := []struct {
		name   string
		layers [][]registrytest.File
		db     string
		distro string
		want   []Package
		repos  string // /etc/apk/repositories
	}{
		{
			name: "alpine: the top layer's installed file",
			layers: [][]registrytest.File{
				{osRelease("alpine"), {Path: "lib/apk/db/installed", Data: []byte("P:musl\nV:1.2.4-r0\nA:x86_64\n")},
					{Path: "etc/apk/repositories", Data: []byte("https://dl-cdn.alpinelinux.org/alpine/v3.19/main\n")}},
				{{Path: "lib/apk/db/installed", Data: []byte(apkInstalled)}},
			},
			db: "apk", distro: "alpine", want: alpine, repos: "https://dl-cdn.alpinelinux.org/alpine/v3.19/main\n",
		},
		{
			name:   "amazon linux 2023: sqlite in var/lib/rpm",
			layers: [][]registrytest.File{{osRelease("amzn"), {Path: "var/lib/rpm/rpmdb.sqlite", Data: sqlite}}},
			db:     "rpm", distro: "amzn", want: rpmFixture,
		},
		{
			name:   "amazon linux 2: berkeley db in var/lib/rpm",
			layers: [][]registrytest.File{{osRelease("amzn"), {Path: "var/lib/rpm/Packages", Data: bdb}}},
			db:     "rpm", distro: "amzn", want: rpmFixture,
		},
		{
			name:   "sqlite in usr/lib/sysimage/rpm",
			layers: [][]registrytest.File{{osRelease("fedora"), {Path: "usr/lib/sysimage/rpm/rpmdb.sqlite", Data: sqlite}}},
			db:     "rpm", distro: "fedora", want: rpmFixture,
		},
		{
			name: "a converted database: sqlite wins over the Packages left behind",
			layers: [][]registrytest.File{{osRelease("amzn"),
				{Path: "var/lib/rpm/Packages", Data: []byte("not read")},
				{Path: "var/lib/rpm/rpmdb.sqlite", Data: sqlite}}},
			db: "rpm", distro: "amzn", want: rpmFixture,
		},
		{
			name: "the database removed by a whiteout",
			layers: [][]registrytest.File{
				{osRelease("amzn"), {Path: "var/lib/rpm/rpmdb.sqlite", Data: sqlite}},
				{{Path: "var/lib/rpm/.wh.rpmdb.sqlite"}},
			},
			distro: "amzn", want: []Package{},
		},
		{
			name: "dpkg wins over an rpm database beside it",
			layers: [][]registrytest.File{{osRelease("debian"),
				{Path: "var/lib/rpm/rpmdb.sqlite", Data: sqlite},
				{Path: "var/lib/dpkg/status", Data: status("rpm=4.18.0+dfsg-1")}}},
			db: "dpkg", distro: "debian", want: []Package{{Name: "rpm", Version: "4.18.0+dfsg-1", Arch: "amd64", Type: "deb"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := Read("test", imageOf(t, tc.layers...), nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tc.db, tc.distro}, []string{inv.Database, inv.Distro}); diff != "" {
				t.Errorf("database, distro (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, inv.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			if inv.ApkRepositories != tc.repos {
				t.Errorf("apk repositories %q, want %q", inv.ApkRepositories, tc.repos)
			}
		})
	}
}

// TestReadBrokenRpmDB: a database rpm cannot read is an error naming the
// file, not an image without packages.
func TestReadBrokenRpmDB(t *testing.T) {
	img := imageOf(t, []registrytest.File{{Path: "var/lib/rpm/Packages", Data: []byte(strings.Repeat("x", 4096))}})
	_, err := Read("test", img, nil)
	if err == nil || !strings.Contains(err.Error(), "reading the rpm database /var/lib/rpm/Packages") {
		t.Fatalf("err = %v, want one naming /var/lib/rpm/Packages", err)
	}
}

// imageOf is an image of one layer per list of files.
func imageOf(t *testing.T, layers ...[]registrytest.File) v1.Image {
	t.Helper()
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	for _, files := range layers {
		l, err := registrytest.Layer(types.OCILayer, files...)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

func sortPackages(p []Package) {
	sort.Slice(p, func(i, j int) bool { return pkgKey(p[i]) < pkgKey(p[j]) })
}
