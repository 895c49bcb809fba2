package lock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

// dpkgStatus renders a dpkg status file of installed "name=version" (or
// "name:arch=version") packages; the architecture defaults to amd64.
func dpkgStatus(pkgs ...string) []byte {
	var b strings.Builder
	for _, p := range pkgs {
		n, v, _ := strings.Cut(p, "=")
		n, arch, ok := strings.Cut(n, ":")
		if !ok {
			arch = "amd64"
		}
		fmt.Fprintf(&b, "Package: %s\nStatus: install ok installed\nArchitecture: %s\nVersion: %s\n\n", n, arch, v)
	}
	return []byte(b.String())
}

// npmHiddenLock is node_modules/.package-lock.json as npm 9 writes it
// after installing aws-lambda-ric with one dependency.
func npmHiddenLock(version, integrity string) []byte {
	return []byte(fmt.Sprintf(`{
  "name": "runtime",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "node_modules/aws-lambda-ric": {
      "version": %q,
      "resolved": "https://registry.npmjs.org/aws-lambda-ric/-/aws-lambda-ric-%s.tgz",
      "integrity": %q,
      "hasInstallScript": true
    },
    "node_modules/node-addon-api": {"version": "6.1.0", "integrity": "sha512-addon"},
    "node_modules/other/node_modules/aws-lambda-ric": {"version": "0.0.1", "integrity": "sha512-nested"}
  }
}
`, version, version, integrity))
}

// gateImage is an amd64 image of a random base layer and a layer of files,
// written to an OCI layout; it returns the layout and the descriptor a
// build would give the gate.
func gateImage(t *testing.T, files ...registrytest.File) (string, v1.Descriptor) {
	t.Helper()
	base, err := random.Layer(512, types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	top, err := registrytest.Layer(types.OCILayer, files...)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.AppendLayers(img, base, top); err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return dir, v1.Descriptor{Digest: d, MediaType: types.OCIManifestSchema1,
		Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}
}

func statusFile(pkgs ...string) registrytest.File {
	return registrytest.File{Path: "var/lib/dpkg/status", Data: dpkgStatus(pkgs...)}
}

func npmLockFile(version, integrity string) registrytest.File {
	return registrytest.File{Path: "var/runtime/node_modules/.package-lock.json", Data: npmHiddenLock(version, integrity)}
}

func pythonMetadata(dir, name, version string) registrytest.File {
	return registrytest.File{Path: "var/runtime/" + dir + "/METADATA",
		Data: []byte("Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\nSummary: x\n\nVersion: 0-in-the-description\n")}
}

var (
	lockedOS = &OSPackages{Image: "sha256:stored", Database: "dpkg",
		Packages: []string{"base-files=12.4", "libc6=2.36-9", "libgcc-s1:i386=12.2.0-14", "zlib1g=1:1.2.13"}}
	builtOS = []string{"base-files=12.4", "libc6=2.36-9", "libgcc-s1:i386=12.2.0-14", "zlib1g=1:1.2.13"}
	ricNPM  = Package{Registry: "npm", Name: "aws-lambda-ric", Version: "3.3.0",
		Files: []Artifact{{Name: "aws-lambda-ric-3.3.0.tgz", Checksum: "sha512-good"}}}
	ricPyPI = Package{Registry: "pypi", Name: "awslambdaric", Version: "3.0.0",
		Files: []Artifact{{Name: "awslambdaric-3.0.0-cp312-cp312-manylinux_2_17_x86_64.whl", Checksum: "sha256:aa"}}}
)

// TestGate: a locked build's image passes when its OS packages and RIC are
// the lock's, and fails naming what differs.
func TestGate(t *testing.T) {
	nodejs := &catalog.Target{Runtime: &catalog.Runtime{ID: "nodejs22.x"}, Variant: "debian"}
	python := &catalog.Target{Runtime: &catalog.Runtime{ID: "python3.12"}, Variant: "debian"}
	many := []string{}
	for i := range 12 {
		many = append(many, fmt.Sprintf("pkg%02d=1", i))
	}
	cases := []struct {
		name    string
		target  *catalog.Target
		entry   Target
		files   []registrytest.File
		wantRep *GateReport
		wantErr []string // substrings of the error; none: passes
	}{
		{
			name:   "OS packages and npm integrity as locked",
			target: nodejs,
			entry:  Target{OS: map[string]*OSPackages{"linux/amd64": lockedOS}, Packages: []Package{ricNPM}},
			files:  []registrytest.File{statusFile(builtOS...), npmLockFile("3.3.0", "sha512-good sha1-also")},
			wantRep: &GateReport{Platform: "linux/amd64", OS: "4 dpkg packages as locked",
				RIC: []string{"npm aws-lambda-ric 3.3.0: as locked, integrity sha512-good"}},
		},
		{
			name:   "OS packages differ: each is named, with what to do",
			target: nodejs,
			entry:  Target{OS: map[string]*OSPackages{"linux/amd64": lockedOS}, Packages: []Package{ricNPM}},
			files: []registrytest.File{
				statusFile("base-files=12.4", "curl=7.88.1-10", "libc6=2.36-9+deb12u7", "libgcc-s1:i386=12.2.0-14"),
				npmLockFile("3.3.0", "sha512-good")},
			wantRep: &GateReport{Platform: "linux/amd64", OS: "3 of 4 packages differ",
				RIC: []string{"npm aws-lambda-ric 3.3.0: as locked, integrity sha512-good"}},
			wantErr: []string{
				"3 OS package(s) differ from lambdaimg.lock (locked -> built):\n" +
					"  curl: added 7.88.1-10\n  libc6 2.36-9 -> 2.36-9+deb12u7\n  zlib1g: removed (locked 1:1.2.13)\n",
				"Debian's and Alpine's keep only the newest", "run 'lambdaimg lock --update' to accept them, then review the lock diff"},
		},
		{
			name:    "more than ten differ: the rest are counted",
			target:  nodejs,
			entry:   Target{OS: map[string]*OSPackages{"linux/amd64": {Database: "dpkg", Packages: many}}},
			files:   []registrytest.File{statusFile()},
			wantRep: &GateReport{Platform: "linux/amd64", OS: "12 of 12 packages differ"},
			wantErr: []string{"12 OS package(s) differ", "  pkg09: removed (locked 1)\n  ... and 2 more\n"},
		},
		{
			name:   "no locked OS packages for the platform: not checked, passes",
			target: nodejs,
			entry:  Target{OS: map[string]*OSPackages{"linux/arm64": lockedOS}, Packages: []Package{ricNPM}},
			files:  []registrytest.File{statusFile("anything=1"), npmLockFile("3.3.0", "sha512-good")},
			wantRep: &GateReport{Platform: "linux/amd64",
				OS:  "not checked: lambdaimg.lock has no OS packages for linux/amd64 ('lambdaimg lock' records them from a stored image of the same inputs)",
				RIC: []string{"npm aws-lambda-ric 3.3.0: as locked, integrity sha512-good"}},
		},
		{
			name:   "npm installed other bytes",
			target: nodejs,
			entry:  Target{Packages: []Package{ricNPM}},
			files:  []registrytest.File{npmLockFile("3.3.0", "sha512-evil")},
			wantRep: &GateReport{Platform: "linux/amd64", OS: "not checked: lambdaimg.lock has no OS packages for linux/amd64 ('lambdaimg lock' records them from a stored image of the same inputs)",
				RIC: []string{"npm aws-lambda-ric 3.3.0: differs"}},
			wantErr: []string{"npm aws-lambda-ric 3.3.0: integrity sha512-evil installed, sha512-good locked", "mirror or proxy"},
		},
		{
			name:    "npm installed another version",
			target:  nodejs,
			entry:   Target{Packages: []Package{ricNPM}},
			files:   []registrytest.File{npmLockFile("3.2.1", "sha512-good")},
			wantErr: []string{"npm aws-lambda-ric: version 3.2.1 installed, 3.3.0 locked"},
		},
		{
			name:    "the RIC is missing",
			target:  nodejs,
			entry:   Target{Packages: []Package{ricNPM}},
			files:   []registrytest.File{statusFile()},
			wantErr: []string{"npm aws-lambda-ric: not installed under /var/runtime/"},
		},
		{
			name:   "npm 6: no hidden lockfile, _integrity in package.json",
			target: nodejs,
			entry:  Target{Packages: []Package{ricNPM}},
			files: []registrytest.File{{Path: "var/runtime/node_modules/aws-lambda-ric/package.json",
				Data: []byte(`{"name":"aws-lambda-ric","version":"3.3.0","_integrity":"sha512-good"}`)}},
			wantRep: &GateReport{Platform: "linux/amd64", OS: "not checked: lambdaimg.lock has no OS packages for linux/amd64 ('lambdaimg lock' records them from a stored image of the same inputs)",
				RIC: []string{"npm aws-lambda-ric 3.3.0: as locked, integrity sha512-good"}},
		},
		{
			name:   "pip: the version is as locked (no hash to compare)",
			target: python,
			entry:  Target{Packages: []Package{ricPyPI, {Registry: "python.org", Name: "Python", Version: "3.12.1"}}},
			files:  []registrytest.File{pythonMetadata("awslambdaric-3.0.0.dist-info", "awslambdaric", "3.0.0"), pythonMetadata("simplejson-3.19.dist-info", "simplejson", "3.19")},
			wantRep: &GateReport{Platform: "linux/amd64", OS: "not checked: lambdaimg.lock has no OS packages for linux/amd64 ('lambdaimg lock' records them from a stored image of the same inputs)",
				RIC: []string{"pypi awslambdaric 3.0.0: as locked (version only: pip keeps no hash of what it installed)"}},
		},
		{
			name:    "pip installed another version",
			target:  python,
			entry:   Target{Packages: []Package{ricPyPI}},
			files:   []registrytest.File{pythonMetadata("awslambdaric-2.2.1.dist-info", "awslambdaric", "2.2.1")},
			wantErr: []string{"pypi awslambdaric: version 2.2.1 installed, 3.0.0 locked"},
		},
		{
			name:   "OS and RIC both differ: both are reported",
			target: python,
			entry:  Target{OS: map[string]*OSPackages{"linux/amd64": lockedOS}, Packages: []Package{ricPyPI}},
			files: []registrytest.File{statusFile("base-files=12.5", "libc6=2.36-9", "libgcc-s1:i386=12.2.0-14", "zlib1g=1:1.2.13"),
				pythonMetadata("awslambdaric-3.0.1.dist-info", "AWSLambdaRIC", "3.0.1")},
			wantErr: []string{"base-files 12.4 -> 12.5", "pypi awslambdaric: version 3.0.1 installed, 3.0.0 locked"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, desc := gateImage(t, tc.files...)
			f := New()
			entry := tc.entry
			f.Targets[tc.target.Name()] = &entry
			rep, err := NewGate(f, DefaultFile).Check(context.Background(), dir, desc, tc.target)
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("Check = %v, want it to pass", err)
			}
			if len(tc.wantErr) > 0 && (!errors.Is(err, ErrMismatch) || !errors.Is(err, build.ErrUnwanted)) {
				t.Fatalf("Check = %v, want an error wrapping ErrMismatch and build.ErrUnwanted (a stored image stays)", err)
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("the error does not say %q:\n%v", s, err)
				}
			}
			if tc.wantRep == nil {
				return
			}
			if diff := cmp.Diff(tc.wantRep, rep); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
		})
	}
}
