package buildkit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestSupports(t *testing.T) {
	c := &Conn{Platforms: []string{"linux/amd64", "linux/amd64/v2", "linux/arm64"}}
	cases := map[string]bool{"linux/amd64": true, "linux/arm64": true, "linux/arm64/v8": true, "linux/riscv64": false, "windows/amd64": false, "not a platform!": false}
	for p, want := range cases {
		if got := c.Supports(p); got != want {
			t.Errorf("Supports(%q) = %v, want %v", p, got, want)
		}
	}
	if (&Conn{}).Supports("linux/amd64") {
		t.Error("a daemon without workers supports nothing")
	}
}

func TestStateDir(t *testing.T) {
	t.Setenv("LAMBDAIMG_BUILDKITD_DIR", "/x/state")
	if got := DefaultStateDir(); got != "/x/state" {
		t.Errorf("DefaultStateDir = %s", got)
	}
	if got := EmbeddedAddr("/x/state"); got != "unix:///x/state/buildkitd.sock" {
		t.Errorf("EmbeddedAddr = %s", got)
	}
	var o Options
	o.defaults()
	if o.Timeout != 5*time.Second || o.StateDir != "/x/state" || o.Logf == nil {
		t.Errorf("defaults: %+v", o)
	}
}

// TestEmbeddedPID: only a live buildkitd named by the pid file counts.
func TestEmbeddedPID(t *testing.T) {
	cases := []struct {
		name    string
		content string
		running bool
	}{
		{"no pid file", "", false},
		{"garbage", "not a pid", false},
		{"a process that is not buildkitd", strconv.Itoa(os.Getpid()), false},
		{"a pid that is gone", "999999999", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.content != "" {
				os.WriteFile(filepath.Join(dir, "buildkitd.pid"), []byte(tc.content), 0o644)
			}
			if _, running := EmbeddedPID(dir); running != tc.running {
				t.Errorf("running = %v, want %v", running, tc.running)
			}
			if err := Stop(context.Background(), dir); !IsNotRunning(err) {
				t.Errorf("Stop = %v, want not running", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "buildkitd.pid")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a stale pid file was left: %v", err)
			}
		})
	}
}

// TestConnectNoStart: nothing answers and lambdaimg may not start its own
// daemon: an error within the timeout that says what to do.
func TestConnectNoStart(t *testing.T) {
	t.Setenv("BUILDKIT_HOST", "")
	dir := t.TempDir()
	start := time.Now()
	_, err := Connect(context.Background(), Options{Addr: "unix://" + filepath.Join(dir, "none.sock"), StateDir: dir, NoStart: true, Timeout: time.Second})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Connect = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to give up", d)
	}
}
