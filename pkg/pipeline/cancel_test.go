package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

// TestRunCancelledLeavesNothing: a run stopped while laying out
// extensions (SIGINT) returns the cancel, not a request error, and leaves
// no temporary directory behind.
func TestRunCancelledLeavesNothing(t *testing.T) {
	c, tm := builtin(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ext := filepath.Join(t.TempDir(), "agent")
	os.WriteFile(ext, []byte("#!/bin/sh\n"), 0o755)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Request{Catalog: c, Templates: tm, StoreDir: t.TempDir(), Extensions: []string{ext},
		Select: catalog.Selector{Runtimes: []string{"python3.12"}, Variants: []string{"alpine"}}})
	var re *RequestError
	if !errors.Is(err, context.Canceled) || errors.As(err, &re) {
		t.Fatalf("Run = %v, want the cancel, not a request error", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("Run left %d entries in TMPDIR, e.g. %s", len(left), left[0].Name())
	}
}
