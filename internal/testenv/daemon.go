//go:build unix

// Test daemons run where buildkitd does; Setpgid is Unix only.

package testenv

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
)

// Daemon is a buildkitd a test started on a 127.0.0.1 TCP port, with its
// own state directory; the test's cleanup stops it. It never touches the
// shared embedded daemon.
type Daemon struct {
	Addr string
	Dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartDaemon starts buildkitd with extra flags (e.g. --oci-worker-platform
// linux/amd64, or --tlscert ...) and waits until it answers; spec is how
// the test reaches it (its TLS files), with Addr filled in.
func StartDaemon(t testing.TB, spec buildkit.Spec, extra ...string) *Daemon {
	t.Helper()
	bin, err := exec.LookPath("buildkitd")
	if err != nil {
		Unavailable(t, "no buildkitd: %v", err)
	}
	if os.Geteuid() != 0 {
		Unavailable(t, "a second buildkitd needs root here")
	}
	dir, err := os.MkdirTemp("", "lambdaimg-test-buildkitd-")
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{Addr: "tcp://127.0.0.1:" + strconv.Itoa(freePort(t)), Dir: dir, done: make(chan struct{})}
	logf, err := os.Create(filepath.Join(dir, "buildkitd.log"))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--root", filepath.Join(dir, "root"), "--addr", d.Addr,
		"--otel-socket-path", filepath.Join(dir, "otel.sock"),
		"--oci-worker=true", "--containerd-worker=false"}, extra...)
	d.cmd = exec.Command(bin, args...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.cmd.Wait(); logf.Close(); close(d.done) }()
	t.Cleanup(func() { d.stop(t) })
	spec.Addr = d.Addr
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		c, err := buildkit.DialSpec(ctx, spec, buildkit.Options{Timeout: 2 * time.Second})
		if err == nil {
			c.Close()
			return d
		}
		select {
		case <-d.done:
			log, _ := os.ReadFile(filepath.Join(dir, "buildkitd.log"))
			t.Fatalf("buildkitd %v exited:\n%s", args, log)
		case <-ctx.Done():
			t.Fatalf("buildkitd at %s does not answer: %v", d.Addr, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Kill ends the daemon with SIGKILL, as a crash would.
func (d *Daemon) Kill() {
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

// stop ends the daemon (SIGTERM, then SIGKILL) and removes its state.
func (d *Daemon) stop(t testing.TB) {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		d.Kill()
	}
	// runc's mounts under root are gone with the daemon's containers; a
	// left-over one would only keep the temp dir from being removed.
	if err := os.RemoveAll(d.Dir); err != nil {
		t.Logf("removing %s: %v", d.Dir, err)
	}
}

// freePort is a TCP port on 127.0.0.1 that nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
