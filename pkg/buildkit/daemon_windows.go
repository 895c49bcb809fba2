//go:build windows

package buildkit

import (
	"os"
	"os/exec"
)

// detach does nothing: lambdaimg never starts buildkitd on Windows (see
// embeddable).
func detach(*exec.Cmd) {}

// terminate stops the process pid; Windows has no SIGTERM.
func terminate(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
