// Package fileutil copies files, for the packages that stage files for a
// build (emulator binaries, extensions), and checks a file against the
// digest it is stored under (the store's and the blob pool's blobs).
package fileutil

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
)

// Copy copies src to dst with mode perm, creating dst's directory and
// replacing dst.
func Copy(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return Write(dst, in, perm)
}

// Write writes r to dst with mode perm (whatever the umask), creating dst's
// directory and replacing dst.
func Write(dst string, r io.Reader, perm fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, perm)
}

// Verify checks that the file at path holds the content d names; the
// error says what it holds instead. d's algorithm must be available
// (sha256 and sha512 are).
func Verify(path string, d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return VerifyReader(f, d)
}

// VerifyReader checks that r holds the content d names, reading it to
// the end; d must be valid (Verify checks).
func VerifyReader(r io.Reader, d digest.Digest) error {
	got, err := d.Algorithm().FromReader(r)
	if err != nil {
		return err
	}
	if got != d {
		return fmt.Errorf("blob %s holds content with digest %s", d, got)
	}
	return nil
}
