package buildkit_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
)

// TestRealDaemonLifecycle runs the real buildkitd from a private state
// directory: a cancelled Connect leaves it answering, a daemon killed with
// SIGKILL leaves a stale socket that the next Start replaces, and Stop ends
// it. It never touches the shared daemon in the user's cache directory.
func TestRealDaemonLifecycle(t *testing.T) {
	for _, bin := range []string{"buildkitd", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			testenv.Unavailable(t, "no %s: %v", bin, err)
		}
	}
	t.Setenv("BUILDKIT_HOST", "")
	dir, err := os.MkdirTemp("", "lbkreal")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Cleanup(func() {
		if err := buildkit.Stop(ctx, dir); err != nil && !buildkit.IsNotRunning(err) {
			t.Errorf("Stop at cleanup: %v", err)
		}
		os.RemoveAll(dir)
	})
	o := buildkit.Options{StateDir: dir, Timeout: 5 * time.Second}
	if err := buildkit.Start(ctx, o); err != nil {
		t.Fatalf("Start: %v", err)
	}
	first, ok := buildkit.FindEmbedded(dir)
	if !ok || first.Orphan {
		t.Fatalf("FindEmbedded after Start = %+v %v", first, ok)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := buildkit.Connect(cctx, o); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Connect = %v, want context.Canceled", err)
	}
	c, err := buildkit.Connect(ctx, buildkit.Options{Addr: buildkit.EmbeddedAddr(dir), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("the daemon stopped answering after a cancelled Connect: %v", err)
	}
	c.Close()
	if d, _ := buildkit.FindEmbedded(dir); d != first {
		t.Errorf("daemon after a cancelled Connect = %+v, want %+v", d, first)
	}

	// A daemon killed outright leaves its socket and pid file.
	syscall.Kill(first.PID, syscall.SIGKILL)
	for i := 0; i < 100; i++ {
		if _, ok := buildkit.FindEmbedded(dir); !ok {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := buildkit.Start(ctx, o); err != nil {
		t.Fatalf("Start over a stale socket: %v", err)
	}
	second, ok := buildkit.FindEmbedded(dir)
	if !ok || second.PID == first.PID {
		t.Fatalf("after restart: %+v %v (first %+v)", second, ok, first)
	}
	if err := buildkit.Stop(ctx, dir); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, ok := buildkit.FindEmbedded(dir); ok {
		t.Error("a daemon runs after Stop")
	}
}
