// Command lambdaimg builds, tests and publishes AWS Lambda container images.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/lambdaimg/lambdaimg/pkg/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startProfile()
	err := cli.New(cli.Env{}).ExecuteContext(ctx)
	interrupted := ctx.Err() != nil
	stop()
	stopProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdaimg:", err)
	}
	os.Exit(exitCode(err, interrupted))
}

// exitCode maps the error of a run to the exit status: 2 for a usage
// error, 130 for a run stopped by SIGINT or SIGTERM, the code an
// cli.ExitError asks for (plan: 10), 1 for any other.
func exitCode(err error, interrupted bool) int {
	code, asked := cli.ExitCode(err)
	switch {
	case err == nil:
		return 0
	case cli.IsUsage(err):
		return 2
	case asked:
		return code
	case interrupted && errors.Is(err, context.Canceled):
		return 130
	}
	return 1
}
