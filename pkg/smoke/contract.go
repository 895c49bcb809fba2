package smoke

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	gateway "github.com/moby/buildkit/frontend/gateway/client"
	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
)

// contractMessage is what AWS's entry point prints, exiting 142, when it
// is given no handler.
const contractMessage = "entrypoint requires the handler name to be the first argument"

// contract runs the entry point without a handler: AWS's images print a
// message and exit 142.
func contract(ctx context.Context, ctr gateway.Container, p process) Check {
	c := Check{Name: "entrypoint contract"}
	var out bytes.Buffer
	proc, err := ctr.Start(ctx, gateway.StartRequest{Args: p.entry, Env: p.env, Cwd: p.cwd, User: p.user,
		Stdout: nopCloser{&out}, Stderr: nopCloser{&out}})
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	err = proc.Wait()
	var ee *gatewaypb.ExitError
	switch {
	case !errors.As(err, &ee):
		c.Detail = fmt.Sprintf("without a handler the entry point should exit 142, it %s", exitText(err))
	case ee.ExitCode != 142:
		c.Detail = fmt.Sprintf("without a handler the entry point exited %d, want 142 (output: %q)", ee.ExitCode, truncate(out.String(), 200))
	case !strings.Contains(out.String(), contractMessage):
		c.Detail = fmt.Sprintf("without a handler the entry point printed %q, want %q", truncate(out.String(), 200), contractMessage)
	default:
		c.OK = true
	}
	return c
}

func exitText(err error) string {
	var ee *gatewaypb.ExitError
	if errors.As(err, &ee) {
		return fmt.Sprintf("exited %d", ee.ExitCode)
	}
	if err == nil {
		return "exited 0"
	}
	return err.Error()
}
