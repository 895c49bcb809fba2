//go:build unix

package config

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLoadFIFO: a FIFO as the config file is refused before it is
// opened, which would block.
func TestLoadFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(fifo, true); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a FIFO = %v, want an error (and no hang)", err)
	}
}
