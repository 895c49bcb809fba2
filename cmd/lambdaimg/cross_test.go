package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestCrossCompile builds lambdaimg for the client platforms it supports
// besides Linux (it runs there against a remote or docker-container://
// builder), and the in-container helper for both Linux architectures.
// It proves the code compiles, not that it runs: nothing here executes
// the binaries.
func TestCrossCompile(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("-short: cross-compiling takes minutes the first time (never skipped under CI=true)")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	tests := []struct{ goos, goarch, pkg string }{
		{"darwin", "amd64", "./cmd/lambdaimg"},
		{"darwin", "arm64", "./cmd/lambdaimg"},
		{"windows", "amd64", "./cmd/lambdaimg"},
		{"linux", "amd64", "./cmd/lambdaimg-helper"},
		{"linux", "arm64", "./cmd/lambdaimg-helper"},
	}
	for _, tc := range tests {
		t.Run(tc.goos+"-"+tc.goarch+"-"+filepath.Base(tc.pkg), func(t *testing.T) {
			cmd := exec.Command(gobin, "build", "-trimpath", "-o", filepath.Join(t.TempDir(), "out"), tc.pkg)
			cmd.Dir = filepath.Join("..", "..")
			cmd.Env = append(os.Environ(), "GOOS="+tc.goos, "GOARCH="+tc.goarch, "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("GOOS=%s GOARCH=%s go build %s: %v\n%s", tc.goos, tc.goarch, tc.pkg, err, out)
			}
		})
	}
}
