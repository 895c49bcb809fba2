package helper

import (
	"os"
	"path/filepath"
)

// Stage puts the helper alone in a new directory, named Name, to be
// mounted into a container; cleanup removes the directory.
func (h Helper) Stage() (path string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "lambdaimg-helper-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	dst := filepath.Join(dir, Name)
	if h.Data == nil && os.Link(h.Path, dst) == nil {
		return dst, cleanup, nil
	}
	data := h.Data
	if data == nil {
		if data, err = os.ReadFile(h.Path); err != nil {
			cleanup()
			return "", nil, err
		}
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		cleanup()
		return "", nil, err
	}
	return dst, cleanup, nil
}
