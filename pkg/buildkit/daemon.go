package buildkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Start launches the embedded buildkitd in o.StateDir, detached from this
// process, and waits until it answers.
func Start(ctx context.Context, o Options) error {
	o.defaults()
	bin, err := lookBuildkitd()
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("runc"); err != nil {
		return fmt.Errorf("%w: buildkitd's OCI worker needs runc; %s", ErrUnavailable, installHint)
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return err
	}
	// Two lambdaimg runs starting at once: one starts the daemon, the
	// other waits for the lock and then finds it answering.
	lock, err := os.OpenFile(filepath.Join(o.StateDir, "start.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if c, err := dial(ctx, Options{Timeout: time.Second}, EmbeddedAddr(o.StateDir), SourceEmbedded); err == nil {
		c.Close()
		return nil
	}
	logPath := filepath.Join(o.StateDir, "buildkitd.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	addr := EmbeddedAddr(o.StateDir)
	os.Remove(strings.TrimPrefix(addr, "unix://")) // a stale socket from a dead daemon
	args := []string{
		"--root", filepath.Join(o.StateDir, "root"),
		"--addr", addr,
		"--oci-worker=true", "--containerd-worker=false",
	}
	if os.Geteuid() != 0 {
		args = append(args, "--rootless")
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives this command
	o.Logf("starting buildkitd (state in %s, log %s)", o.StateDir, logPath)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting buildkitd: %w", err)
	}
	pid := cmd.Process.Pid
	if err := os.WriteFile(pidFile(o.StateDir), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("%w: buildkitd exited at start (%v); see %s", ErrUnavailable, err, logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if c, err := dial(ctx, Options{Timeout: time.Second}, addr, SourceEmbedded); err == nil {
			c.Close()
			return nil
		}
	}
	return fmt.Errorf("%w: buildkitd started but did not answer within 60s; see %s", ErrUnavailable, logPath)
}

func pidFile(stateDir string) string { return filepath.Join(stateDir, "buildkitd.pid") }

// EmbeddedPID returns the pid of the embedded daemon if it is running.
func EmbeddedPID(stateDir string) (int, bool) {
	data, err := os.ReadFile(pidFile(stateDir))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return pid, false
	}
	// A stale pid file may name a process that is not ours any more.
	if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && !strings.Contains(string(cmd), "buildkitd") {
		return pid, false
	}
	return pid, true
}

// Stop stops the embedded daemon and waits for it to exit.
func Stop(ctx context.Context, stateDir string) error {
	pid, running := EmbeddedPID(stateDir)
	if !running {
		os.Remove(pidFile(stateDir))
		return errNotRunning
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stopping buildkitd (pid %d): %w", pid, err)
	}
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			os.Remove(pidFile(stateDir))
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("buildkitd (pid %d) did not stop within 10s", pid)
}

var errNotRunning = errors.New("lambdaimg's own buildkitd is not running")

// IsNotRunning reports whether err says the embedded daemon was not running.
func IsNotRunning(err error) bool { return errors.Is(err, errNotRunning) }
