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
	"time"

	"github.com/lambdaimg/lambdaimg/internal/flock"
)

// The embedded daemon's state directory holds:
//
//   - daemon.lock: locked (flock, exclusive) by the launcher and, through an
//     inherited descriptor, by buildkitd for its whole life. While the lock
//     is held a daemon lives, whatever the socket and pid file say; only
//     when nobody holds it are a left-over socket and pid file stale.
//   - start.lock: serialises lambdaimg runs that start the daemon.
//   - buildkitd.sock, buildkitd.pid, buildkitd.log and root/.
const (
	daemonLockName = "daemon.lock"
	startLockName  = "start.lock"
)

// startTimeout bounds how long Start waits for a daemon to answer.
var startTimeout = 60 * time.Second

// Start launches the embedded buildkitd in o.StateDir, detached from this
// process, and waits until it answers. A daemon that already runs from the
// state directory is never replaced: Start waits for it to answer, or
// says which process it is. A cancelled ctx stops Start before it changes
// anything on disk.
func Start(ctx context.Context, o Options) error {
	o.defaults()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := embeddable(); err != nil {
		return err
	}
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
	start, err := lockFile(ctx, filepath.Join(o.StateDir, startLockName))
	if err != nil {
		return err
	}
	defer start.Close() // closing releases the lock
	addr := EmbeddedAddr(o.StateDir)
	if answers(ctx, addr) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(o.StateDir, daemonLockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if ok, err := flock.TryLock(lock, true); err != nil {
		return fmt.Errorf("locking %s: %w", lock.Name(), err)
	} else if !ok {
		// A daemon lives (perhaps still starting): never replace it.
		return waitLive(ctx, o.StateDir, addr, nil)
	}
	// Nobody holds the lock. A buildkitd from an older lambdaimg (which
	// did not take it) may still run from here: leave it alone too.
	if pid, ok := findOrphan(o.StateDir); ok {
		return fmt.Errorf("%w: buildkitd (pid %d) runs from %s but does not answer at %s; stop it with `lambdaimg builder stop`",
			ErrUnavailable, pid, o.StateDir, addr)
	}
	// Now the socket and pid file are stale for sure.
	os.Remove(socketPath(o.StateDir))
	os.Remove(pidFile(o.StateDir))
	return launch(ctx, o, bin, addr, lock)
}

// launch starts buildkitd from stateDir, handing it the locked lock file,
// and waits until it answers at addr.
func launch(ctx context.Context, o Options, bin, addr string, lock *os.File) error {
	logPath := filepath.Join(o.StateDir, "buildkitd.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
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
	// The locked descriptor becomes the daemon's fd 3: the kernel keeps the
	// lock for as long as buildkitd (or this process) holds it open.
	cmd.ExtraFiles = []*os.File{lock}
	detach(cmd) // outlives this command
	o.Logf("starting buildkitd (state in %s, log %s)", o.StateDir, logPath)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting buildkitd: %w", err)
	}
	if err := writePID(o.StateDir, cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return err
	}
	lock.Close() // the daemon holds the lock now
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	err = waitLive(ctx, o.StateDir, addr, exited)
	if errors.Is(err, errExited) {
		os.Remove(pidFile(o.StateDir))
		return fmt.Errorf("%w: %v; see %s", ErrUnavailable, err, logPath)
	}
	return err
}

var errExited = errors.New("buildkitd exited at start")

// waitLive waits for the daemon at addr to answer, until startTimeout, ctx
// or exited ends the wait.
func waitLive(ctx context.Context, stateDir, addr string, exited <-chan error) error {
	deadline := time.Now().Add(startTimeout)
	for {
		if answers(ctx, addr) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: buildkitd runs from %s but did not answer at %s within %s; see %s or stop it with `lambdaimg builder stop`",
				ErrUnavailable, stateDir, addr, startTimeout, filepath.Join(stateDir, "buildkitd.log"))
		}
		select {
		case err := <-exited:
			return fmt.Errorf("%w (%v)", errExited, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// answers reports whether a daemon answers at addr within a second.
func answers(ctx context.Context, addr string) bool {
	c, err := dial(ctx, Options{Timeout: time.Second}, addr, SourceEmbedded)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// lockFile takes an exclusive flock on path, giving up when ctx ends.
func lockFile(ctx context.Context, path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		ok, err := flock.TryLock(f, true)
		if ok {
			return f, nil
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// lockHeld reports whether some process holds the state directory's daemon
// lock, that is, whether a daemon lambdaimg started still lives.
func lockHeld(stateDir string) bool {
	f, err := os.Open(filepath.Join(stateDir, daemonLockName))
	if err != nil {
		return false
	}
	defer f.Close()
	ok, err := flock.TryLock(f, false)
	if ok {
		flock.Unlock(f)
	}
	return !ok && err == nil
}

func pidFile(stateDir string) string    { return filepath.Join(stateDir, "buildkitd.pid") }
func socketPath(stateDir string) string { return filepath.Join(stateDir, "buildkitd.sock") }

// writePID replaces the pid file through a rename, so it is never half
// written.
func writePID(stateDir string, pid int) error {
	tmp := pidFile(stateDir) + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, pidFile(stateDir))
}

// Daemon is the embedded daemon found running from a state directory.
type Daemon struct {
	PID int
	// Orphan is set when the pid file does not name it (missing, stale or
	// written for a daemon that never started).
	Orphan bool
}

// FindEmbedded returns the buildkitd running from stateDir, if any: the one
// the pid file names, else one whose command line uses the state
// directory's socket.
func FindEmbedded(stateDir string) (Daemon, bool) {
	if pid, ok := pidFromFile(stateDir); ok {
		return Daemon{PID: pid}, true
	}
	if pid, ok := findOrphan(stateDir); ok {
		return Daemon{PID: pid, Orphan: true}, true
	}
	return Daemon{}, false
}

// EmbeddedPID returns the pid of the embedded daemon if it is running.
func EmbeddedPID(stateDir string) (int, bool) {
	d, ok := FindEmbedded(stateDir)
	return d.PID, ok
}

// pidFromFile returns the pid in the pid file when it names a live
// buildkitd of this state directory.
func pidFromFile(stateDir string) (int, bool) {
	data, err := os.ReadFile(pidFile(stateDir))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, isOurs(pid, stateDir)
}

// isOurs reports whether pid is a buildkitd listening on stateDir's socket.
func isOurs(pid int, stateDir string) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(data) == 0 {
		return false
	}
	args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
	if filepath.Base(args[0]) != "buildkitd" {
		return false
	}
	want := EmbeddedAddr(stateDir)
	for i, a := range args {
		if a == "--addr="+want || (a == "--addr" && i+1 < len(args) && args[i+1] == want) {
			return true
		}
	}
	return false
}

// findOrphan looks through /proc for a buildkitd of stateDir.
func findOrphan(stateDir string) (int, bool) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if isOurs(pid, stateDir) {
			return pid, true
		}
	}
	return 0, false
}

// Stop stops the embedded daemon, the one the pid file names or an orphan,
// and waits for it to exit. A stale pid file and socket are removed only
// when no process holds the state directory's lock.
func Stop(ctx context.Context, stateDir string) error {
	d, running := FindEmbedded(stateDir)
	if !running {
		if lockHeld(stateDir) {
			return fmt.Errorf("a process holds %s but no buildkitd of this state directory runs; see `fuser -v %[1]s`",
				filepath.Join(stateDir, daemonLockName))
		}
		os.Remove(pidFile(stateDir))
		return errNotRunning
	}
	pid := d.PID
	if err := terminate(pid); err != nil {
		return fmt.Errorf("stopping buildkitd (pid %d): %w", pid, err)
	}
	// A process that is exiting leaves /proc's view of it (isOurs) before
	// the kernel closes its files: its lock can outlive it by a moment,
	// so Stop also waits for the lock, until the deadline.
	for i := 0; i < 100; i++ {
		if !isOurs(pid, stateDir) && !lockHeld(stateDir) {
			os.Remove(pidFile(stateDir))
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !isOurs(pid, stateDir) {
		return nil // gone; another process holds the lock (Status says which)
	}
	return fmt.Errorf("buildkitd (pid %d) did not stop within 10s", pid)
}

var errNotRunning = errors.New("lambdaimg's own buildkitd is not running")

// IsNotRunning reports whether err says the embedded daemon was not running.
func IsNotRunning(err error) bool { return errors.Is(err, errNotRunning) }
