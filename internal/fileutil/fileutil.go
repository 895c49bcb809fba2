// Package fileutil copies files, for the packages that stage files for a
// build (emulator binaries, extensions).
package fileutil

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
