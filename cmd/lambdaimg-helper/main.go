// Command lambdaimg-helper is what lambdaimg runs inside its test
// containers: `internal invoke` posts the events on stdin to the Runtime
// Interface Emulator, `internal runtime` is the sample custom runtime. It
// is built static for linux/amd64 and linux/arm64 (`make helper`) and
// mounted read-only at /.lambdaimg/lambdaimg-helper, so lambdaimg itself
// may run anywhere: macOS, Windows, or Linux with cgo.
package main

import (
	"fmt"
	"os"

	"github.com/lambdaimg/lambdaimg/pkg/incontainer"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "lambdaimg-helper:", err)
		os.Exit(1)
	}
}

// run takes the same command lines as lambdaimg's hidden `internal`
// commands, so either program can be the one mounted.
func run(args []string) error {
	if len(args) > 0 && args[0] == "internal" {
		args = args[1:]
	}
	if len(args) != 1 {
		return fmt.Errorf("usage: lambdaimg-helper internal invoke|runtime (lambdaimg runs it inside test containers)")
	}
	switch args[0] {
	case "invoke":
		return incontainer.Invoke(os.Stdin, os.Stdout)
	case "runtime":
		return incontainer.Runtime()
	}
	return fmt.Errorf("unknown command %q: want invoke or runtime", args[0])
}
