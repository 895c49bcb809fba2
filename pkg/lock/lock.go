package lock

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// DefaultFile is the lock file's name in the working directory.
const DefaultFile = "lambdaimg.lock"

// Version is the format version Write writes and Read accepts.
const Version = 1

const header = "# lambdaimg.lock: the resolved inputs of each target, written by 'lambdaimg lock'.\n" +
	"# Review its changes; move it forward with 'lambdaimg lock --update'; build it with 'lambdaimg build --locked'.\n"

// File is a lock file. Maps are written with sorted keys and lists are
// kept sorted, so the same resolution gives the same bytes.
type File struct {
	Version int `json:"version" yaml:"version"`
	// Targets are keyed by "runtime/variant".
	Targets map[string]*Target `json:"targets" yaml:"targets"`
}

// Target is what one target's build takes.
type Target struct {
	// Inputs is the digest of the catalog entry and the templates (the
	// io.lambdaimg.inputs.sha256 label): a build refuses the lock when the
	// catalog or the templates give another.
	Inputs string `json:"inputs" yaml:"inputs"`
	// Images are the images the Dockerfile pulls, by *_IMAGE argument.
	Images map[string]*Image `json:"images" yaml:"images"`
	// Packages are the pinned language packages, sorted by registry and
	// name.
	Packages []Package `json:"packages,omitempty" yaml:"packages,omitempty"`
	// RIE is the emulator release the catalog pins.
	RIE *RIE `json:"rie,omitempty" yaml:"rie,omitempty"`
	// OS are the OS packages of the stored image, by platform; only for
	// platforms with a stored image of the same inputs.
	OS map[string]*OSPackages `json:"os,omitempty" yaml:"os,omitempty"`
}

// Image is a base image resolved for the target's platforms.
type Image struct {
	// Ref is the image as the catalog names it (before registry mirrors).
	Ref string `json:"ref" yaml:"ref"`
	// Digest is what Ref resolved to: an index, or one image manifest.
	// A locked build pulls Ref@Digest.
	Digest string `json:"digest" yaml:"digest"`
	// Platforms are the image manifest digests of each platform
	// ("linux/amd64") the target builds.
	Platforms map[string]string `json:"platforms" yaml:"platforms"`
}

// Package is a pinned language package.
type Package struct {
	Registry string `json:"registry" yaml:"registry"`
	Name     string `json:"name" yaml:"name"`
	Version  string `json:"version" yaml:"version"`
	// Files are the files the registry serves for the version with the
	// checksums it publishes; empty for registries lambdaimg does not ask
	// (RubyGems, NuGet, language source tarballs).
	Files []Artifact `json:"files,omitempty" yaml:"files,omitempty"`
}

// Artifact is a file of a package and its checksum as its registry
// publishes it (npm: sha512-<base64>; PyPI: sha256:<hex>; Maven: sha256:
// or sha1:).
type Artifact struct {
	Name     string `json:"name" yaml:"name"`
	Checksum string `json:"checksum" yaml:"checksum"`
}

// RIE is the Runtime Interface Emulator release.
type RIE struct {
	Version string `json:"version" yaml:"version"`
	// SHA256 is the checksum of each architecture's binary (x86_64, arm64).
	SHA256 map[string]string `json:"sha256" yaml:"sha256"`
}

// OSPackages are the OS packages installed in one stored image.
type OSPackages struct {
	// Image is the stored image's manifest digest.
	Image string `json:"image" yaml:"image"`
	// Database is the package database read ("dpkg", "apk" or "rpm");
	// empty when the image has none lambdaimg reads.
	Database string `json:"database,omitempty" yaml:"database,omitempty"`
	// Packages are "name=version" (":arch" after the name for a foreign
	// architecture), sorted.
	Packages []string `json:"packages,omitempty" yaml:"packages,omitempty"`
}

// New returns an empty lock.
func New() *File { return &File{Version: Version, Targets: map[string]*Target{}} }

// Marshal returns the file's bytes: a comment, then YAML.
func (f *File) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Parse reads a lock file's bytes; name is for messages.
func Parse(name string, data []byte) (*File, error) {
	f := New()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("reading %s: version %d, this lambdaimg reads version %d: run 'lambdaimg lock --update' to rewrite it", name, f.Version, Version)
	}
	if f.Targets == nil {
		f.Targets = map[string]*Target{}
	}
	return f, nil
}

// ErrNoLock is returned (wrapped) by Read when the file does not exist.
var ErrNoLock = errors.New("no lock file")

// Read reads the lock file at path.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w: run 'lambdaimg lock' to write it", path, ErrNoLock)
	}
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Write writes f to path atomically (a temporary file in the same
// directory, renamed over it).
func (f *File) Write(path string) error {
	data, err := f.Marshal()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
