package helper

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Name is the helper's file name in the container (under /.lambdaimg).
const Name = "lambdaimg-helper"

// EnvVar names a helper file or directory, as --helper does.
const EnvVar = "LAMBDAIMG_HELPER"

// ErrMissing is returned when no helper is found for an architecture.
var ErrMissing = errors.New("lambdaimg-helper not found")

// Helper is a helper program found for an architecture: a file (Path) or
// embedded bytes (Data).
type Helper struct {
	Arch string // GOARCH: amd64 or arm64
	Path string
	Data []byte
	From string // where it was found, for messages
}

// Lookup says where to look; the zero value looks at the defaults.
type Lookup struct {
	// Path is --helper or $LAMBDAIMG_HELPER: a file or a directory.
	Path string
	// Exe is the lambdaimg executable (default os.Executable()).
	Exe string
	// Embedded are helpers by GOARCH (default: the release build's).
	Embedded map[string][]byte
}

// FileName is a helper's name for arch in bin/, next to lambdaimg, or in a
// --helper directory.
func FileName(arch string) string { return Name + "-linux-" + arch }

// Find returns the helper for the first of archs that has one (a builder's
// native architecture first: a helper for it runs without emulation in a
// container of any architecture).
func (l Lookup) Find(archs ...string) (Helper, error) {
	l.defaults()
	var tried []string
	for _, arch := range archs {
		h, where, err := l.find(arch)
		if err != nil || h.Arch != "" {
			return h, err
		}
		for _, w := range where {
			if !slices.Contains(tried, w) {
				tried = append(tried, w)
			}
		}
	}
	return Helper{}, missing(archs, tried)
}

func (l *Lookup) defaults() {
	if l.Exe == "" {
		l.Exe, _ = os.Executable()
	}
	if l.Embedded == nil {
		l.Embedded = embedded
	}
}

// find looks for arch's helper; with none, it returns the places looked at.
func (l Lookup) find(arch string) (Helper, []string, error) {
	if l.Path != "" {
		return l.explicit(arch)
	}
	if data := l.Embedded[arch]; len(data) > 0 {
		return Helper{Arch: arch, Data: data, From: "embedded"}, nil, nil
	}
	var tried []string
	if l.Exe != "" {
		dir := filepath.Dir(l.Exe)
		for _, p := range []string{filepath.Join(dir, FileName(arch)), filepath.Join(dir, Name), l.Exe} {
			if staticFor(p, arch) == nil {
				return Helper{Arch: arch, Path: p, From: p}, nil, nil
			}
			tried = append(tried, p)
		}
	}
	return Helper{}, tried, nil
}

// explicit uses the file or directory the user named: a file whatever its
// architecture (the user knows where it runs), a directory's file for arch.
func (l Lookup) explicit(arch string) (Helper, []string, error) {
	fi, err := os.Stat(l.Path)
	if err != nil {
		return Helper{}, nil, fmt.Errorf("the helper (--helper or $%s): %w", EnvVar, err)
	}
	p := l.Path
	if fi.IsDir() {
		p = filepath.Join(l.Path, FileName(arch))
		if _, err := os.Stat(p); err != nil {
			return Helper{}, []string{p}, nil // the next architecture may be there
		}
		if err := staticFor(p, arch); err != nil {
			return Helper{}, nil, err
		}
	} else if err := staticFor(p, ""); err != nil {
		return Helper{}, nil, err
	}
	return Helper{Arch: arch, Path: p, From: p}, nil, nil
}
