package helper

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeELF writes a minimal 64-bit little-endian ELF executable header for
// machine; dynamic adds a PT_INTERP program header (a cgo binary's).
func writeELF(t *testing.T, path string, machine elf.Machine, dynamic bool) {
	t.Helper()
	var b bytes.Buffer
	ident := [16]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)}
	phnum := uint16(0)
	if dynamic {
		phnum = 1
	}
	hdr := elf.Header64{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT),
		Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: phnum, Shentsize: 64}
	binary.Write(&b, binary.LittleEndian, hdr)
	if dynamic {
		binary.Write(&b, binary.LittleEndian, elf.Prog64{Type: uint32(elf.PT_INTERP), Off: 120, Filesz: 1, Memsz: 1})
		b.WriteByte(0)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
}

type file struct {
	machine elf.Machine // 0: not an executable
	dynamic bool
}

func TestFind(t *testing.T) {
	amd, arm := file{machine: elf.EM_X86_64}, file{machine: elf.EM_AARCH64}
	tests := []struct {
		name     string
		files    map[string]file // under the executable's directory; "lambdaimg" is the executable
		embedded map[string][]byte
		path     string // --helper, relative to the directory
		archs    []string
		want     string // the file found (relative), "embedded", or "" for an error
		wantErr  string
	}{
		{name: "nothing: the error names the fixes", files: map[string]file{"lambdaimg": {}}, archs: []string{"arm64"},
			wantErr: "lambdaimg-helper not found for linux/arm64 (looked at"},
		{name: "a dynamic lambdaimg is not used", files: map[string]file{"lambdaimg": {machine: elf.EM_X86_64, dynamic: true}},
			archs: []string{"amd64"}, wantErr: "make helper"},
		{name: "a static lambdaimg of the architecture is", files: map[string]file{"lambdaimg": amd}, archs: []string{"amd64"}, want: "lambdaimg"},
		{name: "not for another architecture", files: map[string]file{"lambdaimg": amd}, archs: []string{"arm64"}, wantErr: "make release"},
		{name: "embedded first", files: map[string]file{"lambdaimg": arm, FileName("arm64"): arm},
			embedded: map[string][]byte{"arm64": []byte("x")}, archs: []string{"arm64"}, want: "embedded"},
		{name: "next to lambdaimg, by architecture", files: map[string]file{"lambdaimg": {}, FileName("amd64"): amd, FileName("arm64"): arm},
			archs: []string{"arm64"}, want: FileName("arm64")},
		{name: "next to lambdaimg, go install's name", files: map[string]file{"lambdaimg": {}, Name: arm}, archs: []string{"arm64"}, want: Name},
		{name: "a mislabelled file is refused", files: map[string]file{"lambdaimg": {}, FileName("arm64"): amd}, archs: []string{"arm64"},
			wantErr: "not found"},
		{name: "the first architecture that has one", files: map[string]file{"lambdaimg": {}, FileName("arm64"): arm},
			archs: []string{"amd64", "arm64"}, want: FileName("arm64")},
		{name: "--helper file, any architecture", files: map[string]file{"lambdaimg": {}, "h": amd}, path: "h", archs: []string{"arm64"}, want: "h"},
		{name: "--helper dynamic file", files: map[string]file{"lambdaimg": {}, "h": {machine: elf.EM_X86_64, dynamic: true}}, path: "h",
			archs: []string{"amd64"}, wantErr: "CGO_ENABLED=0"},
		{name: "--helper missing", files: map[string]file{"lambdaimg": {}}, path: "nope", archs: []string{"amd64"}, wantErr: "LAMBDAIMG_HELPER"},
		{name: "--helper directory", files: map[string]file{"lambdaimg": amd, "d/" + FileName("arm64"): arm}, path: "d",
			archs: []string{"arm64"}, want: "d/" + FileName("arm64")},
		{name: "--helper directory without the architecture", files: map[string]file{"lambdaimg": amd, "d/" + FileName("arm64"): arm}, path: "d",
			archs: []string{"amd64"}, wantErr: "--helper"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, f := range tc.files {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if f.machine == 0 {
					os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755)
					continue
				}
				writeELF(t, p, f.machine, f.dynamic)
			}
			l := Lookup{Exe: filepath.Join(dir, "lambdaimg"), Embedded: tc.embedded}
			if tc.embedded == nil {
				l.Embedded = map[string][]byte{}
			}
			if tc.path != "" {
				l.Path = filepath.Join(dir, tc.path)
			}
			h, err := l.Find(tc.archs...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Find = %+v, %v; want an error containing %q", h, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := h.From
			if h.Path != "" {
				got, _ = filepath.Rel(dir, h.Path)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("found (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMissingNamesTheFixes(t *testing.T) {
	_, err := Lookup{Exe: "/nonexistent/lambdaimg", Embedded: map[string][]byte{}}.Find("amd64", "arm64")
	if !errors.Is(err, ErrMissing) {
		t.Fatalf("err = %v, want ErrMissing", err)
	}
	for _, want := range []string{"linux/amd64 or linux/arm64", "make release", "make helper", "bin/lambdaimg-helper-linux-arm64", "--helper", "$LAMBDAIMG_HELPER"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
}

func TestStage(t *testing.T) {
	src := filepath.Join(t.TempDir(), "h")
	os.WriteFile(src, []byte("from a file"), 0o755)
	for _, h := range []Helper{{Arch: "amd64", Path: src}, {Arch: "arm64", Data: []byte("embedded")}} {
		p, cleanup, err := h.Stage()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(p)
		fi, _ := os.Stat(p)
		if filepath.Base(p) != Name || fi.Mode()&0o111 == 0 {
			t.Errorf("staged %s (mode %v), want an executable named %s", p, fi.Mode(), Name)
		}
		if want := map[bool]string{true: "embedded", false: "from a file"}[h.Data != nil]; string(got) != want {
			t.Errorf("staged %q, want %q", got, want)
		}
		cleanup()
		if _, err := os.Stat(filepath.Dir(p)); !os.IsNotExist(err) {
			t.Errorf("cleanup left %s", filepath.Dir(p))
		}
	}
}
