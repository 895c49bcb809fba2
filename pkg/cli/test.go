package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lambdaimg/lambdaimg/pkg/helper"
	"github.com/lambdaimg/lambdaimg/pkg/incontainer"
	"github.com/lambdaimg/lambdaimg/pkg/pipeline"
	"github.com/lambdaimg/lambdaimg/pkg/smoke"
	"github.com/spf13/cobra"
)

// testOptions are the smoke-test flags shared by test, run and build --test.
type testOptions struct {
	handlerDir string
	handler    string
	events     []string
	expects    []string
	timeout    int
	user       string
	helper     string
}

func (t *testOptions) bind(cmd *cobra.Command, events bool) {
	f := cmd.Flags()
	f.StringVar(&t.handlerDir, "handler", "", "directory with the function's code, copied into /var/task (default: lambdaimg's sample function for the language)")
	f.StringVar(&t.handler, "cmd", "", "the handler the entry point is given, e.g. app.handler (default: the sample's)")
	f.IntVar(&t.timeout, "timeout", 0, "AWS_LAMBDA_FUNCTION_TIMEOUT in seconds (default: 2 with the sample function, to check the timeout; else the emulator's 300)")
	f.StringVar(&t.user, "user", smoke.LambdaUser, "uid:gid the function runs as (Lambda runs functions as a non-root user)")
	f.StringVar(&t.helper, "helper", "", "lambdaimg-helper to run inside the container, or a directory of lambdaimg-helper-linux-<arch> (default $"+helper.EnvVar+", else the one make release embeds, else one next to lambdaimg)")
	if events {
		f.StringArrayVar(&t.events, "event", nil, "event JSON file to send, - for stdin (repeatable, sent in order)")
		f.StringArrayVar(&t.expects, "expect", nil, "expected response JSON file for the --event at the same position (repeatable): the response must hold its keys and values; \"*\" matches any value, \"~text\" a string containing text")
	}
}

// plan reads the event and expectation files (each once: stdin can be
// read only once) into the smoke test's plan.
func (t *testOptions) plan(getenv func(string) string) (*smoke.Plan, error) {
	if len(t.expects) > len(t.events) {
		return nil, &UsageError{fmt.Errorf("%d --expect for %d --event: each --expect goes with the --event at its position", len(t.expects), len(t.events))}
	}
	p := &smoke.Plan{FunctionDir: t.handlerDir, Handler: t.handler, Timeout: t.timeout, User: t.user, Helper: t.helper}
	if p.Helper == "" {
		p.Helper = getenv(helper.EnvVar)
	}
	read := map[string][]byte{}
	for i, path := range t.events {
		ev, err := readJSON(read, "--event", path)
		if err != nil {
			return nil, err
		}
		e := smoke.Event{Name: "event " + filepath.Base(path), Payload: ev}
		if i < len(t.expects) {
			if e.Expect, err = readJSON(read, "--expect", t.expects[i]); err != nil {
				return nil, err
			}
		}
		p.Events = append(p.Events, e)
	}
	return p, nil
}

// readJSON reads a JSON file (- for stdin) once, remembering it in read.
func readJSON(read map[string][]byte, flag, path string) ([]byte, error) {
	if data, ok := read[path]; ok {
		return data, nil
	}
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, &UsageError{fmt.Errorf("%s: %w", flag, err)}
	}
	if !json.Valid(data) {
		return nil, &UsageError{fmt.Errorf("%s %s is not JSON", flag, path)}
	}
	read[path] = data
	return data, nil
}

func newTestCmd(g *globalOptions, env Env) *cobra.Command {
	o, t := &buildOptions{}, &testOptions{}
	cmd := &cobra.Command{
		Use:     "test",
		Short:   "Check that images work as Lambda functions, through the Runtime Interface Emulator",
		Long:    testLong,
		Example: testExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := o.request(cmd, g, env)
			if err != nil {
				return err
			}
			if req.Test, err = t.plan(g.getenv); err != nil {
				return err
			}
			req.Test.SampleLayer = smoke.HasSampleLayer(o.extensions...)
			rep, err := pipeline.Run(cmd.Context(), req)
			return finishRun(cmd, o.format, rep, err, false)
		},
	}
	t.bind(cmd, true)
	o.bind(cmd)
	return cmd
}

func newRunCmd(g *globalOptions, env Env) *cobra.Command {
	o, t := &buildOptions{}, &testOptions{}
	cmd := &cobra.Command{
		Use:     "run",
		Short:   "Invoke a function once in an image, through the Runtime Interface Emulator",
		Long:    runLong,
		Example: runExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(t.events) > 1 {
				return &UsageError{fmt.Errorf("run sends one event; use 'lambdaimg test' for several")}
			}
			req, err := o.request(cmd, g, env)
			if err != nil {
				return err
			}
			if req.Test, err = t.plan(g.getenv); err != nil {
				return err
			}
			req.One, req.Test.NoContract = true, true
			rep, err := pipeline.Run(cmd.Context(), req)
			if rep == nil || o.format == formatJSON {
				return finishRun(cmd, o.format, rep, err, false)
			}
			return finishInvocation(cmd, rep, err)
		},
	}
	t.bind(cmd, true)
	o.bind(cmd)
	return cmd
}

// finishInvocation prints run's response bodies on stdout and the log on
// stderr.
func finishInvocation(cmd *cobra.Command, rep *pipeline.Report, err error) error {
	for _, r := range rep.Images {
		s := smokeReport(r)
		if s == nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s %s %s: %s\n", r.Target, r.Platform, r.Status, r.Reason)
			continue
		}
		fmt.Fprint(cmd.ErrOrStderr(), s.Log)
		for _, resp := range s.Responses {
			fmt.Fprintln(cmd.OutOrStdout(), string(resp.Body))
		}
	}
	if err != nil {
		return err
	}
	return rep.Err()
}

// newInternalCmd holds what lambdaimg-helper runs inside test containers:
// lambdaimg answers the same commands, so a static lambdaimg for the
// container's architecture can stand in for the helper (see package helper).
func newInternalCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "internal", Hidden: true, Short: "What lambdaimg runs inside test containers"}
	cmd.AddCommand(&cobra.Command{
		Use:   "invoke",
		Short: "Post the events read from stdin to the emulator, one after another",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return incontainer.Invoke(cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}, &cobra.Command{
		Use:   "runtime",
		Short: "Serve the sample function as a custom runtime (AWS_LAMBDA_RUNTIME_API)",
		RunE: func(*cobra.Command, []string) error {
			return incontainer.Runtime()
		},
	})
	return cmd
}

const (
	testLong = `Build the selected images (or reuse them from the store), then start each
one as Lambda's local tooling does (its entry point under the Runtime Interface
Emulator) in a BuildKit gateway container: no network, read-only root
filesystem with a writable /tmp, a non-root user. Send events one after another
and compare the responses with expectations. Without --handler, lambdaimg's
sample function for the language is used and checks the response, the
environment (LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR, _HANDLER,
AWS_LAMBDA_FUNCTION_NAME), /tmp, the read-only root, Lambda's error shape and
the function timeout. The entry point must also refuse to start without a
handler (exit 142). The checks go to stdout; on a failure the emulator's and
the function's log goes to stderr and the exit code is non-zero.`
	testExample = `  lambdaimg test --runtime nodejs20.x
  lambdaimg test --runtime provided.al2023 --os debian --platform linux/arm64
  lambdaimg test --runtime python3.12 --handler ./src --cmd app.handler \
      --event events/order.json --expect events/order.expected.json
  lambdaimg test --all --os debian -o json`
	runLong = `Build one image (or reuse it from the store), add the function in --handler
to /var/task, start it under the Runtime Interface Emulator in a BuildKit
gateway container as Lambda would, send one event and print the response on
stdout; the emulator's and the function's log go to stderr.`
	runExample = `  lambdaimg run --runtime python3.12 --handler ./src --cmd app.handler --event event.json
  echo '{"name": "x"}' | lambdaimg run --runtime nodejs18.x --os debian --platform linux/amd64 --handler ./fn --event -`
)
