package smoke

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// stageHelper puts a static lambdaimg binary alone in a directory, named
// lambdaimg, to be mounted into the container.
func stageHelper(path string) (string, func(), error) {
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", nil, err
		}
		path = exe
	}
	if err := checkStatic(path); err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "lambdaimg-helper-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	dst := filepath.Join(dir, "lambdaimg")
	if err := os.Link(path, dst); err != nil {
		data, err := os.ReadFile(path)
		if err == nil {
			err = os.WriteFile(dst, data, 0o755)
		}
		if err != nil {
			cleanup()
			return "", nil, err
		}
	}
	return dst, cleanup, nil
}

// checkStatic makes sure the binary runs in any image: statically linked.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("lambdaimg runs itself inside the test container, but %s is not a Linux executable: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("lambdaimg runs itself inside the test container, so it must be statically linked; %s is not: rebuild it with CGO_ENABLED=0 (make build does)", path)
		}
	}
	return nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a
// process's stdout and stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func itoa(n int) string { return strconv.Itoa(n) }
