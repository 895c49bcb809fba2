package buildkit

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func readPID(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(pidFile(dir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestConnectCancelledChangesNothing: a Ctrl-C before the client connects
// makes every probe fail; Connect must return the cancellation and leave
// the state directory alone, not start a daemon over a live socket.
func TestConnectCancelledChangesNothing(t *testing.T) {
	dir := fakeEnv(t, "serve")
	// What a live daemon leaves: its socket and pid file.
	if err := os.WriteFile(socketPath(dir), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pidFile(dir), []byte("4242\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Connect(ctx, Options{StateDir: dir, Timeout: time.Second})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Connect = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(socketPath(dir)); err != nil {
		t.Errorf("the socket was removed: %v", err)
	}
	if got := readPID(t, dir); got != "4242" {
		t.Errorf("pid file = %q, want it untouched (4242)", got)
	}
	if n := daemons(t, dir); n != 0 {
		t.Errorf("%d daemons started by a cancelled Connect", n)
	}
}

// TestStartNeverReplacesLive: a daemon that holds the state directory's
// lock but does not answer (busy, or still starting) is not replaced: its
// socket and pid file stay, and no second daemon starts.
func TestStartNeverReplacesLive(t *testing.T) {
	dir := fakeEnv(t, "silent")
	if err := Start(context.Background(), Options{StateDir: dir}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("first Start = %v, want ErrUnavailable (the fake never answers)", err)
	}
	pid := readPID(t, dir)
	if pid == "" || !lockHeld(dir) {
		t.Fatalf("the first daemon is not recorded (pid %q) or holds no lock", pid)
	}
	for i, o := range []Options{{StateDir: dir}, {StateDir: dir, NoStart: true}} {
		var err error
		if o.NoStart {
			_, err = Connect(context.Background(), o)
		} else {
			err = Start(context.Background(), o)
		}
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("attempt %d = %v, want ErrUnavailable", i, err)
		}
		if _, err := os.Stat(socketPath(dir)); err != nil {
			t.Errorf("attempt %d removed the live daemon's socket: %v", i, err)
		}
		if got := readPID(t, dir); got != pid {
			t.Errorf("attempt %d: pid file %q, want %q", i, got, pid)
		}
		if n := daemons(t, dir); n != 1 {
			t.Errorf("attempt %d: %d daemons run, want 1", i, n)
		}
	}
}

// TestStaleStateIsReplaced: with no process holding the lock, a socket and
// pid file left by a dead daemon are stale: Start starts a new daemon, which
// holds the lock for its life.
func TestStaleStateIsReplaced(t *testing.T) {
	dir := fakeEnv(t, "serve")
	os.WriteFile(socketPath(dir), nil, 0o600)
	os.WriteFile(pidFile(dir), []byte("999999999\n"), 0o644)
	c, err := Connect(context.Background(), Options{StateDir: dir, Timeout: time.Second})
	if err != nil {
		t.Fatalf("Connect = %v", err)
	}
	c.Close()
	d, ok := FindEmbedded(dir)
	if !ok || d.Orphan || readPID(t, dir) != strconv.Itoa(d.PID) {
		t.Fatalf("FindEmbedded = %+v %v, pid file %q", d, ok, readPID(t, dir))
	}
	if !lockHeld(dir) {
		t.Error("the daemon does not hold the state directory's lock")
	}
	syscall.Kill(d.PID, syscall.SIGKILL)
	for i := 0; i < 100 && lockHeld(dir); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if lockHeld(dir) {
		t.Error("the lock outlived the daemon")
	}
}

// TestOrphanStatusAndStop: a daemon running from the state directory
// without a valid pid file is found as an orphan and stopped by Stop.
func TestOrphanStatusAndStop(t *testing.T) {
	cases := []struct {
		name string
		pid  string // what the pid file says; "" removes it
	}{
		{"no pid file", ""},
		{"pid of a daemon that never started", "999999999"},
		{"pid of another process", strconv.Itoa(os.Getpid())},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakeEnv(t, "serve")
			if err := Start(context.Background(), Options{StateDir: dir}); err != nil {
				t.Fatal(err)
			}
			want, _ := strconv.Atoi(readPID(t, dir))
			os.Remove(pidFile(dir))
			if tc.pid != "" {
				os.WriteFile(pidFile(dir), []byte(tc.pid), 0o644)
			}
			if d, ok := FindEmbedded(dir); !ok || d.PID != want || !d.Orphan {
				t.Errorf("FindEmbedded = %+v %v, want orphan pid %d", d, ok, want)
			}
			if err := Stop(context.Background(), dir); err != nil {
				t.Fatalf("Stop = %v", err)
			}
			if n := daemons(t, dir); n != 0 {
				t.Errorf("%d daemons left after Stop", n)
			}
			if err := Stop(context.Background(), dir); !IsNotRunning(err) {
				t.Errorf("second Stop = %v, want not running", err)
			}
		})
	}
}

// TestExitAtStart: a daemon that dies at once is reported, and leaves no
// pid file or lock behind.
func TestExitAtStart(t *testing.T) {
	dir := fakeEnv(t, "exit")
	err := Start(context.Background(), Options{StateDir: dir})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "exited at start") {
		t.Fatalf("Start = %v", err)
	}
	if got := readPID(t, dir); got != "" {
		t.Errorf("pid file %q left", got)
	}
	if lockHeld(dir) {
		t.Error("lock held after the daemon died")
	}
}
