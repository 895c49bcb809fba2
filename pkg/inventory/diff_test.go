package inventory

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	spdxjson "github.com/spdx/tools-golang/json"
)

// TestDiffOfStoreAndRegistry: the old image is in a registry, the new
// one in an OCI layout like the store; diff reads both.
func TestDiffOfStoreAndRegistry(t *testing.T) {
	oldImg := testImage(t, status("curl=7.88.1-10", "libssl3=3.0.11-1", "gone=1.0", "same=1"), "rie-1", nil)
	newImg := testImage(t, status("curl=7.88.1-10+deb12u5", "libssl3=3.0.9-1", "new=0.1", "same=1"), "rie-2", nil)

	reg := registrytest.Start(t)
	oldRef := reg.Host + "/ns/python:3.12-x86_64"
	ref, err := name.ParseReference(oldRef)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, oldImg); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	ann := map[string]string{labels.RefName: "python3.12/debian/x86_64", labels.BaseName: "debian:12", labels.BaseDigest: "sha256:bbb", labels.RIC: "3.1.0"}
	if err := p.AppendImage(newImg, layout.WithAnnotations(ann)); err != nil {
		t.Fatal(err)
	}

	l, err := NewLoader(false)
	if err != nil {
		t.Fatal(err)
	}
	old, err := l.Load(context.Background(), oldRef)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := l.Load(context.Background(), "oci:"+dir+":python3.12/debian/x86_64")
	if err != nil {
		t.Fatal(err)
	}
	c := Diff(old, cur)
	want := &Changelog{
		Base: &Change{Old: "", New: "debian:12@sha256:bbb"},
		RIC:  &Change{Old: "", New: "3.1.0"},
		Changed: []PackageChange{
			{Name: "curl", Arch: "amd64", Old: "7.88.1-10", New: "7.88.1-10+deb12u5"},
			{Name: "libssl3", Arch: "amd64", Old: "3.0.11-1", New: "3.0.9-1", Downgrade: true},
		},
		Added:    []Package{{Name: "new", Version: "0.1", Arch: "amd64", Type: "deb"}},
		Removed:  []Package{{Name: "gone", Version: "1.0", Arch: "amd64", Type: "deb"}},
		Same:     1,
		Database: "dpkg",
	}
	if diff := cmp.Diff(want, c, cmpopts.IgnoreFields(Changelog{}, "Old", "New", "RIE")); diff != "" {
		t.Errorf("changelog (-want +got):\n%s", diff)
	}
	if c.RIE == nil || c.RIE.Old == c.RIE.New {
		t.Errorf("RIE change = %+v, want the binary's digest to differ", c.RIE)
	}
	if !strings.HasPrefix(c.Old, oldRef+"@sha256:") {
		t.Errorf("Old = %q, want %s@sha256:...", c.Old, oldRef)
	}

	var md bytes.Buffer
	if err := c.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"| upgraded | `curl` | `7.88.1-10` | `7.88.1-10+deb12u5` |", "| downgraded | `libssl3` |", "| added | `new` | - | `0.1` |", "| removed | `gone` | `1.0` | - |", "| base |"} {
		if !strings.Contains(md.String(), line) {
			t.Errorf("markdown lacks %q:\n%s", line, md.String())
		}
	}
}

func TestDiffOfTheSameImageIsEmpty(t *testing.T) {
	img := testImage(t, status("curl=1"), "", nil)
	a, err := Read("a", img, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := Diff(a, a)
	if !c.Empty() || c.Same != 1 {
		t.Errorf("diff of an image with itself: %+v", c)
	}
}

func TestSPDX(t *testing.T) {
	img := testImage(t, status("curl=7.88.1-10", "zlib1g=1:1.2.13"), "", nil)
	inv, err := Read("python:3.12-x86_64", img, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := inv.WriteSPDX(&buf, time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), "lambdaimg-test"); err != nil {
		t.Fatal(err)
	}
	doc, err := spdxjson.Read(&buf)
	if err != nil {
		t.Fatalf("reading the SBOM back: %v", err)
	}
	var got []string
	for _, p := range doc.Packages {
		for _, r := range p.PackageExternalReferences {
			got = append(got, r.Locator)
		}
	}
	want := []string{"pkg:deb/debian/curl@7.88.1-10?arch=amd64", "pkg:deb/debian/zlib1g@1:1.2.13?arch=amd64"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("package URLs (-want +got):\n%s", diff)
	}
	if doc.SPDXVersion != "SPDX-2.3" || len(doc.Relationships) != 3 || doc.CreationInfo.Created != "2026-11-24T00:00:00Z" {
		t.Errorf("document: version %s, %d relationships, created %s", doc.SPDXVersion, len(doc.Relationships), doc.CreationInfo.Created)
	}
}

// TestOlder: each database orders versions its own way; the cases are
// ones where the orders disagree.
func TestOlder(t *testing.T) {
	tests := []struct {
		name, db, a, b string
		want           bool
	}{
		{name: "apk: _rc is a pre-release", db: "apk", a: "1.0_rc1-r0", b: "1.0-r0", want: true},
		{name: "dpkg: _rc sorts after the end", db: "dpkg", a: "1.0_rc1-0", b: "1.0-0", want: false},
		{name: "apk: revisions are numbers", db: "apk", a: "3.1.4-r5", b: "3.1.4-r10", want: true},
		{name: "apk: not a version", db: "apk", a: "abc", b: "1.0-r0", want: false},
		{name: "rpm: separators are all alike", db: "rpm", a: "1.0+1-1", b: "1.0.1-1", want: false},
		{name: "dpkg: + sorts before .", db: "dpkg", a: "1.0+1-1", b: "1.0.1-1", want: true},
		{name: "rpm: the epoch first", db: "rpm", a: "9.9-1.amzn2023", b: "1:0.1-1.amzn2023", want: true},
		{name: "rpm: release numbers", db: "rpm", a: "2.34-52.amzn2023.0.2", b: "2.34-52.amzn2023.0.10", want: true},
		{name: "rpm: tilde is a pre-release", db: "rpm", a: "1.0~rc1-1", b: "1.0-1", want: true},
		{name: "dpkg: not a version", db: "dpkg", a: "1:", b: "1", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := older(tc.db, tc.a, tc.b); got != tc.want {
				t.Errorf("older(%s, %q, %q) = %v, want %v", tc.db, tc.a, tc.b, got, tc.want)
			}
		})
	}
}

// TestDiffOrdersByDatabase: a changelog of apk images calls an apk
// upgrade an upgrade, where Debian's order would call it a downgrade.
func TestDiffOrdersByDatabase(t *testing.T) {
	old := &Inventory{Database: "apk", Packages: []Package{{Name: "busybox", Version: "1.36.1_rc1-r0", Arch: "x86_64", Type: "apk"}}}
	cur := &Inventory{Database: "apk", Packages: []Package{{Name: "busybox", Version: "1.36.1-r0", Arch: "x86_64", Type: "apk"}}}
	want := []PackageChange{{Name: "busybox", Arch: "x86_64", Old: "1.36.1_rc1-r0", New: "1.36.1-r0"}}
	if diff := cmp.Diff(want, Diff(old, cur).Changed); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
}

func TestPackageURL(t *testing.T) {
	tests := []struct {
		name   string
		distro string
		p      Package
		want   string
	}{
		{
			name: "rpm with an epoch and a source", distro: "amzn",
			p:    Package{Name: "fixture-libs", Version: "2:1.0.1-3.amzn2023", Arch: "x86_64", Source: "fixture", Type: "rpm"},
			want: "pkg:rpm/amzn/fixture-libs@1.0.1-3.amzn2023?arch=x86_64&epoch=2&upstream=fixture",
		},
		{
			name: "rpm without an epoch", distro: "amzn",
			p:    Package{Name: "tiny", Version: "0.9-1", Arch: "noarch", Type: "rpm"},
			want: "pkg:rpm/amzn/tiny@0.9-1?arch=noarch",
		},
		{
			name: "apk", distro: "alpine",
			p:    Package{Name: "libcrypto3", Version: "3.1.4-r5", Arch: "x86_64", Source: "openssl", Type: "apk"},
			want: "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&upstream=openssl",
		},
		{
			name: "deb keeps its epoch in the version", distro: "debian",
			p:    Package{Name: "zlib1g", Version: "1:1.2.13", Arch: "amd64", Type: "deb"},
			want: "pkg:deb/debian/zlib1g@1:1.2.13?arch=amd64",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := &Inventory{Distro: tc.distro}
			if got := inv.purl(tc.p); got != tc.want {
				t.Errorf("purl = %s, want %s", got, tc.want)
			}
		})
	}
}
