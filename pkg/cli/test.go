package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
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

	// read holds the event and expectation files, read once (stdin can
	// be read only once) by load.
	read map[string][]byte
}

// load reads every --event and --expect file once, before any image is
// tested.
func (t *testOptions) load() error {
	t.read = map[string][]byte{}
	for _, list := range []struct {
		flag  string
		paths []string
	}{{"--event", t.events}, {"--expect", t.expects}} {
		for _, p := range list.paths {
			if _, done := t.read[p]; done {
				continue
			}
			data, err := readArg(p)
			if err != nil {
				return &UsageError{fmt.Errorf("%s: %w", list.flag, err)}
			}
			if !json.Valid(data) {
				return &UsageError{fmt.Errorf("%s %s is not JSON", list.flag, p)}
			}
			t.read[p] = data
		}
	}
	return nil
}

func (t *testOptions) bind(cmd *cobra.Command, events bool) {
	f := cmd.Flags()
	f.StringVar(&t.handlerDir, "handler", "", "directory with the function's code, copied into /var/task (default: lambdaimg's sample function for the language)")
	f.StringVar(&t.handler, "cmd", "", "the handler the entry point is given, e.g. app.handler (default: the sample's)")
	f.IntVar(&t.timeout, "timeout", 0, "AWS_LAMBDA_FUNCTION_TIMEOUT in seconds (default: 2 with the sample function, to check the timeout; else the emulator's 300)")
	f.StringVar(&t.user, "user", smoke.LambdaUser, "uid:gid the function runs as (Lambda runs functions as a non-root user)")
	f.StringVar(&t.helper, "helper", "", "statically linked lambdaimg binary to run inside the container (default: this one)")
	_ = f.MarkHidden("helper")
	if events {
		f.StringArrayVar(&t.events, "event", nil, "event JSON file to send, - for stdin (repeatable, sent in order)")
		f.StringArrayVar(&t.expects, "expect", nil, "expected response JSON file for the --event at the same position (repeatable): the response must hold its keys and values; \"*\" matches any value, \"~text\" a string containing text")
	}
}

// plan says what one smoke test sends and expects: the options, and with
// the sample function the runs of its plan (opt is the image's laid-out
// /opt extensions, where the sample layer may be).
func (t *testOptions) plan(target *catalog.Target, opt string, sampleDir func(catalog.Language) (string, error), withContract bool) (smoke.Options, []smoke.SampleRun, error) {
	o := smoke.Options{Handler: t.handler, Timeout: t.timeout, User: t.user, Helper: t.helper, Contract: withContract}
	if o.Handler == "" {
		o.Handler = target.Handler
	}
	if t.handlerDir != "" {
		o.FunctionDir = t.handlerDir
	} else {
		dir, err := sampleDir(target.Runtime.Language)
		if err != nil {
			return o, nil, err
		}
		o.FunctionDir = dir
		if target.Spec.OS == catalog.AWS && target.Runtime.Language == catalog.Provided {
			// AWS's provided images run /var/runtime/bootstrap; the sample
			// is /var/task/bootstrap, which they also look for.
			o.Handler = "function.handler"
		}
	}
	if len(t.expects) > len(t.events) {
		return o, nil, &UsageError{fmt.Errorf("%d --expect for %d --event: each --expect goes with the --event at its position", len(t.expects), len(t.events))}
	}
	if t.read == nil {
		if err := t.load(); err != nil {
			return o, nil, err
		}
	}
	for i, p := range t.events {
		ev := smoke.Event{Name: "event " + filepath.Base(p), Payload: t.read[p]}
		if i < len(t.expects) {
			ev.Expect = t.read[t.expects[i]]
		}
		o.Events = append(o.Events, ev)
	}
	if len(o.Events) > 0 {
		return o, nil, nil
	}
	if t.handlerDir != "" && !smoke.IsSample(t.handlerDir) {
		o.Events = []smoke.Event{{Name: "event {}", Payload: []byte("{}")}}
		return o, nil, nil
	}
	if o.Timeout == 0 {
		o.Timeout = 2
	}
	// The timeout check sleeps past the timeout: only for short ones.
	check := o.Timeout
	if check > 10 {
		check = 0
	}
	runs := smoke.SamplePlan(smoke.SampleTarget{Language: string(target.Runtime.Language), Runtime: target.Runtime.ID,
		Version: target.Runtime.Version, RIC: target.Spec.RIC, Handler: o.Handler, Timeout: check, Layer: smoke.HasSampleLayer(opt)})
	o.Events = runs[0].Events
	return o, runs, nil
}

func readArg(p string) ([]byte, error) {
	if p == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(p)
}

// samples writes the embedded sample functions out on demand.
type samples struct {
	once sync.Once
	dir  string
	err  error
}

func (s *samples) dirFor(lang catalog.Language) (string, error) {
	s.once.Do(func() {
		s.dir, s.err = os.MkdirTemp("", "lambdaimg-samples-")
		if s.err != nil {
			return
		}
		s.err = fs.WalkDir(lambdaimg.Samples, "samples", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(lambdaimg.Samples, p)
			if err != nil {
				return err
			}
			dst := filepath.Join(s.dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			mode := os.FileMode(0o644)
			if path.Base(p) == "bootstrap" || path.Ext(p) == ".sh" {
				mode = 0o755
			}
			return os.WriteFile(dst, data, mode)
		})
	})
	if s.err != nil {
		return "", s.err
	}
	dir := filepath.Join(s.dir, "samples", string(lang))
	if _, err := os.Stat(dir); err != nil {
		if lang == catalog.Java {
			return "", &UsageError{fmt.Errorf("the Java sample function needs compiling: run scripts/build-samples.sh DIR and pass --handler DIR/java, or pass your function with --handler DIR (and --cmd HANDLER)")}
		}
		return "", &UsageError{fmt.Errorf("lambdaimg has no sample function for %s yet: pass your function with --handler DIR (and --cmd HANDLER)", lang)}
	}
	return dir, nil
}

func (s *samples) cleanup() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// testReport is one image's smoke test, as test prints it.
type testReport struct {
	Target   string `json:"target"`
	Platform string `json:"platform"`
	*smoke.Report
}

// factory returns a testerFactory that smoke-tests each image and writes
// its report to out (the full log when it fails, or always with verbose).
func (t *testOptions) factory(out io.Writer, verbose bool) testerFactory {
	return t.factoryWith(out, verbose, true, nil)
}

func (t *testOptions) factoryWith(out io.Writer, verbose, contract bool, collect func(testReport)) testerFactory {
	return func(conn *buildkit.Conn) (build.Tester, func(), error) {
		if len(t.expects) > len(t.events) {
			return nil, nil, &UsageError{fmt.Errorf("%d --expect for %d --event: each --expect goes with the --event at its position", len(t.expects), len(t.events))}
		}
		if err := t.load(); err != nil {
			return nil, nil, err
		}
		s := &samples{}
		var mu sync.Mutex
		tester := func(ctx context.Context, dir string, desc v1.Descriptor, cfg v1.Config, j build.Job) error {
			o, runs, err := t.plan(j.Context.Target, j.Extensions, s.dirFor, contract)
			if err != nil {
				return err
			}
			var rep *smoke.Report
			if runs != nil {
				rep, err = smoke.RunPlan(ctx, conn, dir, desc, cfg, o, runs)
			} else {
				rep, err = smoke.Run(ctx, conn, dir, desc, cfg, o)
			}
			if err != nil {
				return err
			}
			r := testReport{Target: j.Context.Target.Name(), Platform: j.Arch.Platform(), Report: rep}
			mu.Lock()
			defer mu.Unlock()
			if collect != nil {
				collect(r)
			}
			if out != nil {
				writeReport(out, r, verbose || rep.Failed())
			}
			return rep.Err()
		}
		return tester, s.cleanup, nil
	}
}

func writeReport(w io.Writer, r testReport, withLog bool) {
	fmt.Fprintf(w, "%s %s\n", r.Target, r.Platform)
	for _, c := range r.Checks {
		verdict := "PASS"
		if !c.OK {
			verdict = "FAIL"
		}
		line := fmt.Sprintf("  %s  %s", verdict, c.Name)
		if c.Detail != "" {
			line += ": " + c.Detail
		}
		fmt.Fprintln(w, line)
	}
	if withLog && r.Log != "" {
		fmt.Fprintln(w, "  --- emulator and function log")
		for _, l := range strings.Split(strings.TrimRight(r.Log, "\n"), "\n") {
			fmt.Fprintln(w, "  | "+l)
		}
	}
}

func newTestCmd(g *globalOptions, env Env) *cobra.Command {
	o := &buildOptions{}
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Check that images work as Lambda functions, through the Runtime Interface Emulator",
		Long: `Build the selected images (or reuse them from the store), then start each
one as Lambda's local tooling does (its entry point under the Runtime Interface
Emulator) in a BuildKit gateway container: no network, read-only root
filesystem with a writable /tmp, a non-root user. Send events one after another
and compare the responses with expectations. Without --handler, lambdaimg's
sample function for the language is used and checks the response, the
environment (LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR, _HANDLER,
AWS_LAMBDA_FUNCTION_NAME), /tmp, the read-only root, Lambda's error shape and
the function timeout. The entry point must also refuse to start without a
handler (exit 142). On a failure the emulator's and the function's log is
printed and the exit code is non-zero.`,
		Example: `  lambdaimg test --runtime nodejs20.x
  lambdaimg test --runtime provided.al2023 --os debian --platform linux/arm64
  lambdaimg test --runtime python3.12 --handler ./src --cmd app.handler \
      --event events/order.json --expect events/order.expected.json
  lambdaimg test --all --os debian -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var reports []testReport
			out := cmd.OutOrStdout()
			json := false
			for _, v := range o.outputs {
				json = json || v == "json"
			}
			if json {
				out = nil
			}
			results, all, err := buildTargets(cmd, g, env, o, o.testOpts.factoryWith(out, false, true, func(r testReport) { reports = append(reports, r) }))
			if err != nil {
				return err
			}
			if json {
				if err := writeJSON(cmd.OutOrStdout(), map[string]any{"builds": results, "tests": reports}); err != nil {
					return err
				}
			} else {
				for _, r := range results {
					if !r.OK() && r.Status != build.Skipped {
						fmt.Fprintf(cmd.ErrOrStderr(), "%s %s %s: %s\n", r.Target, r.Platform, r.Status, r.Reason)
						for _, l := range r.FailedLines {
							fmt.Fprintln(cmd.ErrOrStderr(), "  "+l)
						}
					}
				}
			}
			return resultsError(results, all)
		},
	}
	o.testOpts.bind(cmd, true)
	bindBuildFlags(cmd, o)
	return cmd
}

func newRunCmd(g *globalOptions, env Env) *cobra.Command {
	o := &buildOptions{single: true}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Invoke a function once in an image, through the Runtime Interface Emulator",
		Long: `Build one image (or reuse it from the store), add the function in --handler
to /var/task, start it under the Runtime Interface Emulator in a BuildKit
gateway container as Lambda would, send one event and print the response on
stdout; the emulator's and the function's log go to stderr.`,
		Example: `  lambdaimg run --runtime python3.12 --handler ./src --cmd app.handler --event event.json
  echo '{"name": "x"}' | lambdaimg run --runtime nodejs18.x --os debian --platform linux/amd64 --handler ./fn --event -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(o.testOpts.events) > 1 {
				return &UsageError{fmt.Errorf("run sends one event; use 'lambdaimg test' for several")}
			}
			var rep *testReport
			results, all, err := buildTargets(cmd, g, env, o, o.testOpts.factoryWith(nil, false, false, func(r testReport) { rep = &r }))
			if err != nil {
				return err
			}
			if rep != nil {
				if rep.Log != "" {
					fmt.Fprint(cmd.ErrOrStderr(), rep.Log)
				}
				for _, r := range rep.Responses {
					fmt.Fprintln(cmd.OutOrStdout(), string(r.Body))
				}
			}
			for _, r := range results {
				if !r.OK() {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s %s %s: %s\n", r.Target, r.Platform, r.Status, r.Reason)
				}
			}
			return resultsError(results, all)
		},
	}
	o.testOpts.bind(cmd, true)
	bindBuildFlags(cmd, o)
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// newInternalCmd holds what lambdaimg runs inside test containers.
func newInternalCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "internal", Hidden: true, Short: "What lambdaimg runs inside test containers"}
	cmd.AddCommand(&cobra.Command{
		Use:   "invoke",
		Short: "Post the events read from stdin to the emulator, one after another",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return smoke.Invoke(cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}, &cobra.Command{
		Use:   "runtime",
		Short: "Serve the sample function as a custom runtime (AWS_LAMBDA_RUNTIME_API)",
		RunE: func(*cobra.Command, []string) error {
			return smoke.Runtime()
		},
	})
	return cmd
}
