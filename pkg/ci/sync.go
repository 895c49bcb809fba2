package ci

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Sync makes file hold generated, or with check only compares them, and
// says what it did: "written", "unchanged" or "up to date". With check a
// difference is a *DriftError and a missing file an error that says how
// to write it.
func Sync(file string, generated []byte, check bool) (string, error) {
	old, err := os.ReadFile(file)
	switch {
	case check && errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s does not exist: run lambdaimg ci github without --check to write it", file)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", err
	case check:
		if err := Check(file, old, generated); err != nil {
			return "", err
		}
		return "up to date", nil
	case bytes.Equal(old, generated):
		return "unchanged", nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(file, generated, 0o644); err != nil {
		return "", err
	}
	return "written", nil
}
