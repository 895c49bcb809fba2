//go:build unix

package buildkit

import (
	"os/exec"
	"syscall"
)

// detach starts cmd in its own session, so it outlives this process.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }

// terminate asks the process pid to stop (SIGTERM).
func terminate(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }
