package osindex

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/lambdaimg/lambdaimg/pkg/osindex/apktest"
)

func TestParseApkRepositories(t *testing.T) {
	file := `# the image's repositories
https://dl-cdn.alpinelinux.org/alpine/v3.20/main
https://dl-cdn.alpinelinux.org/alpine/v3.20/community/

@edge https://dl-cdn.alpinelinux.org/alpine/edge/main
/media/cdrom/apks
https://dl-cdn.alpinelinux.org/alpine/v3.20/main
`
	want := []string{"https://dl-cdn.alpinelinux.org/alpine/v3.20/main", "https://dl-cdn.alpinelinux.org/alpine/v3.20/community"}
	if diff := cmp.Diff(want, ParseApkRepositories(file)); diff != "" {
		t.Errorf("repositories (-want +got):\n%s", diff)
	}
}

func TestApkCandidates(t *testing.T) {
	main := apktest.Start(t)
	community := apktest.Start(t)
	main.Publish(apktest.Pkg{Name: "musl", Version: "1.2.5-r0"}, apktest.Pkg{Name: "libcrypto3", Version: "3.3.1-r0", Origin: "openssl"},
		apktest.Pkg{Name: "busybox", Version: "1.36.1-r29"})
	// The newest version wins whichever repository has it, in apk's order
	// (r10 after r9; a _rc before the release).
	community.Publish(apktest.Pkg{Name: "busybox", Version: "1.36.1-r9"}, apktest.Pkg{Name: "musl", Version: "1.2.5_rc1-r0"},
		apktest.Pkg{Name: "libcrypto3", Version: "3.3.1-r10", Origin: "openssl"})
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		got, err := c.ApkCandidates(context.Background(), []string{main.URL, community.URL}, arch)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]ApkCandidate{
			"busybox":    {Version: "1.36.1-r29", Repository: main.URL},
			"libcrypto3": {Version: "3.3.1-r10", Repository: community.URL},
			"musl":       {Version: "1.2.5-r0", Repository: main.URL},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: candidates (-want +got):\n%s", arch, diff)
		}
	}
	wantPaths := []string{"/alpine/v3.20/main/x86_64/APKINDEX.tar.gz", "/alpine/v3.20/main/aarch64/APKINDEX.tar.gz"}
	if diff := cmp.Diff(wantPaths, main.Paths()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	// Read once per session.
	if _, err := c.ApkCandidates(context.Background(), []string{main.URL}, "amd64"); err != nil {
		t.Fatal(err)
	}
	if p := main.Paths(); len(p) != 0 {
		t.Errorf("the session read %v again", p)
	}
}

func TestApkIndexErrors(t *testing.T) {
	repo := apktest.Start(t)
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, repo, want string
	}{
		{"no such repository", repo.URL + "/nowhere", "nowhere/x86_64/APKINDEX.tar.gz: not found"},
		{"unreachable", "http://127.0.0.1:1/alpine/v3.20/main", "127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Session().ApkCandidates(context.Background(), []string{tc.repo}, "amd64")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestNewerApk(t *testing.T) {
	installed := []inventory.Package{
		{Name: "musl", Version: "1.2.5-r0", Type: "apk"},
		{Name: "libcrypto3", Version: "3.3.1-r9", Type: "apk"},
		{Name: "busybox", Version: "1.36.1-r29", Type: "apk"},
		{Name: "local-only", Version: "1.0-r0", Type: "apk"},
	}
	cands := map[string]ApkCandidate{
		"musl":       {Version: "1.2.5_rc1-r0", Repository: "r"},
		"libcrypto3": {Version: "3.3.1-r10", Repository: "r"},
		"busybox":    {Version: "1.36.1-r29", Repository: "r"},
	}
	got, err := NewerApk(installed, cands)
	if err != nil {
		t.Fatal(err)
	}
	want := []Update{{Name: "libcrypto3", Installed: "3.3.1-r9", Available: "3.3.1-r10", Source: "r"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("updates (-want +got):\n%s", diff)
	}
	_, err = NewerApk([]inventory.Package{{Name: "musl", Version: "not a version"}}, cands)
	if err == nil || !strings.Contains(err.Error(), `musl: version "not a version"`) {
		t.Errorf("err = %v, want one naming the version", err)
	}
}

func TestNewRecordApk(t *testing.T) {
	inv := &inventory.Inventory{Database: "apk", ApkRepositories: "https://dl-cdn.alpinelinux.org/alpine/v3.20/main\n",
		Packages: []inventory.Package{
			{Name: "musl", Version: "1.2.5-r0", Arch: "x86_64", Type: "apk"},
			{Name: "curl", Version: "8.9.1-r0", Arch: "x86_64", Type: "apk"},
			{Name: "ca-certificates-bundle", Version: "20240705-r0", Arch: "noarch", Type: "apk"},
		}}
	base := &inventory.Inventory{Database: "apk", Packages: []inventory.Package{
		{Name: "musl", Version: "1.2.5-r0", Arch: "x86_64", Type: "apk"},
		{Name: "ca-certificates-bundle", Version: "20240226-r0", Arch: "noarch", Type: "apk"},
	}}
	r, err := NewRecord(inv, base, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	want := &Record{Database: "apk", Sources: []string{}, Repositories: []string{"https://dl-cdn.alpinelinux.org/alpine/v3.20/main"},
		Packages: map[string]string{"curl": "8.9.1-r0", "ca-certificates-bundle": "20240705-r0"}}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	s, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseRecord(s)
	if err != nil {
		t.Fatal(err)
	}
	wantInstalled := []inventory.Package{
		{Name: "ca-certificates-bundle", Version: "20240705-r0", Type: "apk"},
		{Name: "curl", Version: "8.9.1-r0", Type: "apk"},
	}
	if diff := cmp.Diff(wantInstalled, back.Installed()); diff != "" {
		t.Errorf("installed (-want +got):\n%s", diff)
	}
}

// TestApkMirror: --apt-mirror's URI=URL applies to apk repositories too.
func TestApkMirror(t *testing.T) {
	repo := apktest.Start(t)
	repo.Publish(apktest.Pkg{Name: "musl", Version: "1.2.5-r0"})
	from := "https://dl-cdn.alpinelinux.org/alpine/v3.20/main"
	c, err := New(WithMirrors(map[string]string{"https://dl-cdn.alpinelinux.org/alpine": strings.TrimSuffix(repo.URL, "/v3.20/main")}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ApkCandidates(context.Background(), []string{from}, "arm64")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]ApkCandidate{"musl": {Version: "1.2.5-r0", Repository: from}}, got); diff != "" {
		t.Errorf("candidates (-want +got):\n%s", diff)
	}
}
