package lock

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sample() *File {
	f := New()
	f.Targets["python3.12/debian"] = &Target{
		Inputs: "sha256:1111111111111111111111111111111111111111111111111111111111111111",
		Images: map[string]*Image{
			"BASE_IMAGE": {Ref: "docker.io/library/python:3.12-slim-bookworm", Digest: "sha256:aaaa",
				Platforms: map[string]string{"linux/arm64": "sha256:a64", "linux/amd64": "sha256:a86"}},
		},
		Packages: []Package{{Registry: "pypi", Name: "awslambdaric", Version: "3.1.1",
			Files: []Artifact{{Name: "awslambdaric-3.1.1.tar.gz", Checksum: "sha256:ff"}}}},
		RIE: &RIE{Version: "v1.22", SHA256: map[string]string{"x86_64": "aa", "arm64": "bb"}},
		OS: map[string]*OSPackages{"linux/amd64": {Image: "sha256:img", Database: "dpkg",
			Packages: []string{"bash=5.2.15-2+b7", "libc6=2.36-9+deb12u9"}}},
	}
	f.Targets["nodejs22.x/debian"] = &Target{Inputs: "sha256:22", Images: map[string]*Image{
		"BASE_IMAGE": {Ref: "node:22-bookworm-slim", Digest: "sha256:bbbb", Platforms: map[string]string{"linux/amd64": "sha256:b86"}},
	}}
	return f
}

// TestMarshalIsDeterministicAndRoundTrips: the same lock gives the same
// bytes every time (Go randomises map order), and reading them back gives
// the same lock.
func TestMarshalIsDeterministicAndRoundTrips(t *testing.T) {
	first, err := sample().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		again, err := sample().Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(first), string(again)); diff != "" {
			t.Fatalf("marshal %d differs (-first +again):\n%s", i, diff)
		}
	}
	back, err := Parse("test.lock", first)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sample(), back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// Sorted keys: nodejs before python, amd64 before arm64.
	s := string(first)
	if strings.Index(s, "nodejs22.x/debian") > strings.Index(s, "python3.12/debian") ||
		strings.Index(s, "linux/amd64: sha256:a86") > strings.Index(s, "linux/arm64: sha256:a64") {
		t.Errorf("keys are not sorted:\n%s", s)
	}
}

func TestWriteIsAtomicAndRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, DefaultFile)
	if _, err := Read(p); !errors.Is(err, ErrNoLock) || !strings.Contains(err.Error(), "lambdaimg lock") {
		t.Errorf("Read of no file = %v, want ErrNoLock saying what to run", err)
	}
	if err := sample().Write(p); err != nil {
		t.Fatal(err)
	}
	got, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sample(), got); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		t.Errorf("the directory holds %d files, want only the lock (no temporary file left)", len(ents))
	}
}

func TestParseRefuses(t *testing.T) {
	for name, tc := range map[string]struct{ data, want string }{
		"unknown key": {"version: 1\ntargets: {}\nextra: 1\n", "field extra not found"},
		"new version": {"version: 2\ntargets: {}\n", "lambdaimg lock --update"},
		"misspelt":    {"version: 1\ntargets:\n  a/b:\n    input: x\n", "field input not found"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("x.lock", []byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	f := sample()
	in := f.Targets["python3.12/debian"].Inputs
	for name, tc := range map[string]struct {
		target, inputs string
		platforms      []string
		want           string // "" for no error
	}{
		"locked":           {"python3.12/debian", in, []string{"linux/amd64", "linux/arm64"}, ""},
		"catalog changed":  {"python3.12/debian", "sha256:2222", []string{"linux/amd64"}, "run 'lambdaimg lock --update'"},
		"no entry":         {"python3.12/al2023", in, []string{"linux/amd64"}, "no entry for python3.12/al2023"},
		"platform missing": {"nodejs22.x/debian", "sha256:22", []string{"linux/arm64"}, "not locked for linux/arm64"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.Check(tc.target, tc.inputs, tc.platforms)
			if tc.want == "" {
				if err != nil {
					t.Errorf("Check = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrStale) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check = %v, want ErrStale containing %q", err, tc.want)
			}
		})
	}
}

func TestPinnedImages(t *testing.T) {
	got, err := sample().Targets["python3.12/debian"].PinnedImages()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"BASE_IMAGE": "index.docker.io/library/python@sha256:aaaa"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PinnedImages (-want +got):\n%s", diff)
	}
}

func TestChanges(t *testing.T) {
	old, new := sample(), sample()
	new.Targets["python3.12/debian"].Images["BASE_IMAGE"].Platforms["linux/arm64"] = "sha256:a64new"
	new.Targets["python3.12/debian"].OS["linux/amd64"].Packages[1] = "libc6=2.36-9+deb12u10"
	new.Targets["java21/debian"] = &Target{Inputs: "sha256:j"}
	delete(new.Targets, "nodejs22.x/debian") // kept from old when merged: not a change
	want := []string{
		"java21/debian: added",
		"python3.12/debian images.BASE_IMAGE.platforms.linux/arm64: sha256:a64 -> sha256:a64new",
		"python3.12/debian os.linux/amd64.packages.libc6: 2.36-9+deb12u9 -> 2.36-9+deb12u10",
	}
	var got []string
	for _, c := range Changes(old, new) {
		got = append(got, c.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Changes (-want +got):\n%s", diff)
	}
	if c := Changes(old, sample()); len(c) != 0 {
		t.Errorf("Changes of equal locks = %q, want none", c)
	}
}

// TestSave: without update, new values are written and changed ones
// refused with the file untouched; an unchanged lock is not rewritten.
func TestSave(t *testing.T) {
	p := filepath.Join(t.TempDir(), DefaultFile)
	res, err := Save(p, nil, sample(), []string{"python3.12/debian"}, false)
	if err != nil || !res.Written {
		t.Fatalf("first Save = %+v, %v; want written", res, err)
	}
	prev, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	grown := sample()
	grown.Targets["nodejs22.x/debian"].OS = map[string]*OSPackages{"linux/amd64": {Image: "sha256:n", Database: "dpkg", Packages: []string{"bash=5"}}}
	if res, err = Save(p, prev, grown, nil, false); err != nil || !res.Written || len(res.Changes) != 3 {
		t.Fatalf("Save of added OS packages = %+v, %v; want written with 3 changes", res, err)
	}
	before, _ := os.ReadFile(p)
	moved := sample()
	moved.Targets["nodejs22.x/debian"].OS = grown.Targets["nodejs22.x/debian"].OS
	moved.Targets["nodejs22.x/debian"].Images["BASE_IMAGE"].Digest = "sha256:new"
	res, err = Save(p, grown, moved, nil, false)
	if !errors.Is(err, ErrOutdated) || res.Written || len(res.Changes) != 1 {
		t.Fatalf("Save of a moved digest = %+v, %v; want ErrOutdated, one change, not written", res, err)
	}
	if after, _ := os.ReadFile(p); string(after) != string(before) {
		t.Error("a refused Save changed the file")
	}
	if res, err = Save(p, grown, moved, nil, true); err != nil || !res.Written {
		t.Fatalf("Save with update = %+v, %v; want written", res, err)
	}
	if res, err = Save(p, moved, moved, nil, false); err != nil || res.Written || len(res.Changes) != 0 {
		t.Fatalf("Save of the same lock = %+v, %v; want nothing written", res, err)
	}
}
