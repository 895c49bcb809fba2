//go:build unix

package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// SSHD is an OpenSSH server a test started on a 127.0.0.1 port, with a
// host key and one authorized key made for the test; the test's cleanup
// stops it. Login is as the test's user with that key.
type SSHD struct {
	Port int
	// Client is an ssh_config with the key, for `ssh -F`.
	Client string
}

// StartSSHD starts sshd and puts first on PATH an `ssh` that reads the
// test's client config, so that programs running ssh (BuildKit's ssh://
// connection helper) log in with the test's key and take the server's
// host key without asking.
func StartSSHD(t *testing.T) *SSHD {
	t.Helper()
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		if sshd, err = exec.LookPath("/usr/sbin/sshd"); err != nil {
			Unavailable(t, "no sshd (apt-get install openssh-server)")
		}
	}
	ssh, err := exec.LookPath("ssh")
	if err != nil {
		Unavailable(t, "no ssh (apt-get install openssh-client)")
	}
	if os.Geteuid() != 0 {
		Unavailable(t, "sshd needs root here")
	}
	dir := t.TempDir()
	for _, key := range []string{"host", "user"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, key)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	s := &SSHD{Port: freePort(t), Client: filepath.Join(dir, "ssh_config")}
	server := fmt.Sprintf("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nAuthorizedKeysFile %s\nPidFile %s\nUsePAM no\nPermitRootLogin prohibit-password\nStrictModes no\n",
		s.Port, filepath.Join(dir, "host"), filepath.Join(dir, "user.pub"), filepath.Join(dir, "sshd.pid"))
	client := fmt.Sprintf("Host *\n  IdentityFile %s\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  BatchMode yes\n  LogLevel ERROR\n",
		filepath.Join(dir, "user"))
	wrapper := fmt.Sprintf("#!/bin/sh\nexec %s -F %s \"$@\"\n", ssh, s.Client)
	bin := filepath.Join(dir, "bin")
	for path, data := range map[string]string{"sshd_config": server, "ssh_config": client, "bin/ssh": wrapper} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, path), []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // its privilege separation directory
		t.Fatal(err)
	}
	cmd := exec.Command(sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	logf, err := os.Create(filepath.Join(dir, "sshd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() })
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := exec.Command("ssh", "-p", strconv.Itoa(s.Port), "127.0.0.1", "true").CombinedOutput()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			t.Fatalf("ssh to the test's sshd: %v\n%s\nsshd's log:\n%s", err, out, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
