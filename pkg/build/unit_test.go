package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/render"
)

func TestParseMirror(t *testing.T) {
	cases := []struct {
		in, src, dst, err string
	}{
		{in: "docker.io=127.0.0.1:5000", src: "docker.io", dst: "127.0.0.1:5000"},
		{in: "index.docker.io=mirror.example.com/hub", src: "docker.io", dst: "mirror.example.com/hub"},
		{in: "public.ecr.aws=mirror:5000/ecr", src: "public.ecr.aws", dst: "mirror:5000/ecr"},
		{in: "docker.io", err: "want SRC=DST"},
		{in: "=x", err: "want SRC=DST"},
		{in: "docker.io=", err: "want SRC=DST"},
		{in: "docker.io=mirror host", err: "white space"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			src, dst, err := ParseMirror(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseMirror(%q) = %v, want %q", tc.in, err, tc.err)
				}
				if strings.Contains(err.Error(), "--") {
					t.Errorf("a library error names a flag: %v", err)
				}
				return
			}
			if err != nil || src != tc.src || dst != tc.dst {
				t.Errorf("ParseMirror(%q) = %q, %q, %v", tc.in, src, dst, err)
			}
		})
	}
}

func TestMirror(t *testing.T) {
	m := map[string]string{"docker.io": "127.0.0.1:5000", "public.ecr.aws": "mirror/ecr/"}
	cases := map[string]string{
		"docker.io/library/python:3.12-slim-bookworm": "127.0.0.1:5000/library/python:3.12-slim-bookworm",
		"python:3.12":                                        "127.0.0.1:5000/library/python:3.12",
		"public.ecr.aws/lambda/python:3.12":                  "mirror/ecr/lambda/python:3.12",
		"quay.io/centos/centos:stream9":                      "quay.io/centos/centos:stream9",
		"debian@sha256:" + strings.Repeat("a", 64):           "127.0.0.1:5000/library/debian@sha256:" + strings.Repeat("a", 64),
		"mcr.microsoft.com/dotnet/runtime:8.0-bookworm-slim": "mcr.microsoft.com/dotnet/runtime:8.0-bookworm-slim",
	}
	for in, want := range cases {
		if got, err := Mirror(in, m); err != nil || got != want {
			t.Errorf("Mirror(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
}

func TestParseExport(t *testing.T) {
	cases := []struct {
		in   string
		want Export
		err  string
	}{
		{in: "type=oci,dest=out.tar", want: Export{Type: "oci", Dest: "out.tar"}},
		{in: "dest=/x,type=tar", want: Export{Type: "tar", Dest: "/x"}},
		{in: "type=docker,dest=x", err: "type must be oci or tar"},
		{in: "type=oci", err: "dest is required"},
		{in: "type=oci,dest=x,compression=zstd", err: `unknown key "compression"`},
		{in: "oci", err: "want type=oci|tar,dest=PATH"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseExport(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseExport(%q) = %v, want %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestExportPath(t *testing.T) {
	dir := t.TempDir()
	j := Job{Context: &render.Context{Target: &catalog.Target{Runtime: &catalog.Runtime{ID: "python3.12"}, Variant: "debian"}}, Arch: catalog.ARM64}
	cases := []struct {
		name  string
		dest  string
		multi bool
		want  string
	}{
		{"one image to a file", filepath.Join(dir, "img.tar"), false, filepath.Join(dir, "img.tar")},
		{"several images to a directory", filepath.Join(dir, "out"), true, filepath.Join(dir, "out", "python3.12-debian-arm64.tar")},
		{"an existing directory", dir, false, filepath.Join(dir, "python3.12-debian-arm64.tar")},
		{"a trailing slash", filepath.Join(dir, "new") + "/", false, filepath.Join(dir, "new", "python3.12-debian-arm64.tar")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExportPath(Export{Type: "oci", Dest: tc.dest}, j, tc.multi); got != tc.want {
				t.Errorf("ExportPath = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRIEBinary(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "arm64"), 0o755)
	os.WriteFile(filepath.Join(dir, "arm64", "aws-lambda-rie"), []byte("a"), 0o755)
	os.WriteFile(filepath.Join(dir, "aws-lambda-rie"), []byte("x"), 0o755)
	if got, err := RIEBinary(dir, catalog.ARM64); err != nil || got != filepath.Join(dir, "arm64", "aws-lambda-rie") {
		t.Errorf("arm64: %s %v", got, err)
	}
	if got, err := RIEBinary(dir, catalog.X86_64); err != nil || got != filepath.Join(dir, "aws-lambda-rie") {
		t.Errorf("x86_64: %s %v", got, err)
	}
	if _, err := RIEBinary(t.TempDir(), catalog.ARM64); err == nil || !strings.Contains(err.Error(), "no emulator for arm64") {
		t.Errorf("empty dir: %v", err)
	}
}

func TestSummarize(t *testing.T) {
	rs := []Result{{Status: Built}, {Status: Unchanged}, {Status: Failed}, {Status: Canceled}, {Status: Skipped}}
	if diff := cmp.Diff(Summary{Failed: 2, Skipped: 1, OK: 2}, Summarize(rs)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestKeyIsOrderFree(t *testing.T) {
	a := key(map[string]string{"a": "1", "b": "2"})
	if a != key(map[string]string{"b": "2", "a": "1"}) || a == key(map[string]string{"a": "1", "b": "3"}) {
		t.Error("the key must depend on the values only, not on map order")
	}
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })
