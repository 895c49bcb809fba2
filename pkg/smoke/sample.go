package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
)

// FunctionName is the function name the smoke test runs under.
const FunctionName = "lambdaimg-smoke"

// Markers that tell lambdaimg a directory is one of its samples, built
// outside the binary (scripts/build-samples.sh): SampleMarker in a function
// directory (given with --handler) makes it the language's sample, whose
// behaviour checks run; LayerMarker at the root of a layer laid under /opt
// (given with --extension) adds the checks that the layer is found.
const (
	SampleMarker = "lambdaimg-sample"
	LayerMarker  = "lambdaimg-sample-layer"
)

// IsSample reports whether dir is a built lambdaimg sample function.
func IsSample(dir string) bool { return exists(filepath.Join(dir, SampleMarker)) }

// HasSampleLayer reports whether one of dirs (directories laid out as
// /opt, such as --extension layers) is lambdaimg's sample layer.
func HasSampleLayer(dirs ...string) bool {
	for _, d := range dirs {
		if d != "" && exists(filepath.Join(d, LayerMarker)) {
			return true
		}
	}
	return false
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func obj(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only literal maps and strings are marshalled
	}
	return b
}

// SampleEvents are the events every sample function answers, checking the
// response, the environment, /tmp, the read-only root filesystem, Lambda's
// error shape and the function timeout (timeout seconds; 0 leaves that out).
func SampleEvents(handler string, timeout int) []Event {
	evs := []Event{
		{Name: "response and environment", Payload: obj(map[string]any{"name": "lambdaimg"}), Expect: obj(map[string]any{
			"greeting": "hello lambdaimg", "taskRoot": "/var/task", "runtimeDir": "/var/runtime",
			"handler": handler, "functionName": FunctionName, "tmp": "ok"})},
		// As on Lambda, nothing but /tmp is writable: a non-root user on a
		// read-only root (permission denied or read-only, either will do).
		{Name: "writes outside /tmp fail", Payload: obj(map[string]any{"name": "ro", "write": "/var/task/lambdaimg-smoke"}),
			Expect: obj(map[string]any{"errorMessage": "*", "errorType": "*"})},
		{Name: "error shape", Payload: obj(map[string]any{"fail": true}),
			Expect: obj(map[string]any{"errorMessage": "~failing as asked", "errorType": "*"})},
	}
	if timeout > 0 {
		// The emulator answers a timeout in plain text: "Task timed out
		// after 2.00 seconds".
		evs = append(evs, Event{Name: "function timeout", Payload: obj(map[string]any{"name": "slow", "sleepSeconds": timeout + 2}),
			Expect: obj(fmt.Sprintf("~Task timed out after %d.00 seconds", timeout))})
	}
	return evs
}

// SampleTarget is what the sample plan of an image depends on.
type SampleTarget struct {
	Language string // catalog language: python, nodejs, java, provided, ...
	Runtime  string // runtime id, e.g. nodejs20.x (AWS_EXECUTION_ENV names it)
	Version  string // language version, e.g. "20"
	RIC      string // Runtime Interface Client version (Node's 4.x takes no callbacks)
	Handler  string // the sample's handler for the language
	// Timeout is the function timeout the timeout check sleeps past
	// (0 leaves the check out).
	Timeout int
	// Layer is set when lambdaimg's sample layer is laid under /opt.
	Layer bool
}

// SampleRun is one start of the sample function: the entry point's handler,
// environment added for this start, and the events sent to it. A runtime
// loads its handler once, so each handler form is a run of its own.
type SampleRun struct {
	Name    string
	Handler string
	Env     []string
	Events  []Event
}

// SamplePlan returns the runs that check an image with its language's
// sample function: the common events, and for Python, Node.js and Java the
// behaviours of AWS's runtimes (handler forms, the context object, Lambda's
// error shape, AWS_EXECUTION_ENV, where layers are looked up,
// AWS_LAMBDA_EXEC_WRAPPER, memory-sized heaps). Every check is named after
// the behaviour it checks.
func SamplePlan(t SampleTarget) []SampleRun {
	main := SampleRun{Name: "handler " + t.Handler, Handler: t.Handler, Events: SampleEvents(t.Handler, t.Timeout)}
	switch t.Language {
	case "python":
		return pythonPlan(t, main)
	case "nodejs":
		return nodePlan(t, main)
	case "java":
		return javaPlan(t, main)
	}
	return []SampleRun{main}
}

// Wrapper is the sample's AWS_LAMBDA_EXEC_WRAPPER script (in each sample
// directory): it marks the environment and runs the runtime's command.
const Wrapper = "/var/task/wrapper.sh"

// commonChecks are the behaviour events the Python, Node.js and Java samples
// answer alike; they go before the timeout check, which ends the run.
func commonChecks(t SampleTarget, errorType string) []Event {
	evs := []Event{
		{Name: "error shape: " + errorType + " with a stack trace", Payload: obj(map[string]any{"fail": true}),
			Expect: obj(map[string]any{"errorMessage": "failing as asked", "errorType": errorType, stackTraceKey(t.Language): "*"})},
		{Name: "context object: request id, function name and ARN, memory, remaining time", Payload: obj(map[string]any{"check": "context"}),
			Expect: obj(map[string]any{"requestId": "*", "functionName": FunctionName, "functionArn": "~:function:" + FunctionName,
				"memoryLimitMB": "*", "remaining": "ok"})},
		{Name: "AWS_EXECUTION_ENV is AWS_Lambda_" + t.Runtime, Payload: obj(map[string]any{"check": "env"}),
			Expect: obj(map[string]any{"AWS_EXECUTION_ENV": "AWS_Lambda_" + t.Runtime})},
	}
	if t.Layer {
		evs = append(evs, Event{Name: "a layer under /opt is found: " + layerLookup[t.Language], Payload: obj(map[string]any{"check": "layer"}),
			Expect: obj(map[string]any{"layer": "lambdaimg sample layer (" + t.Language + ")"})})
	}
	return evs
}

var layerLookup = map[string]string{
	"python": "import from /opt/python",
	"nodejs": "require from /opt/nodejs/node_modules",
	"java":   "class from a jar in /opt/java/lib",
}

// Lambda's error document names the trace stackTrace, except Node.js's
// runtime, which calls it trace.
func stackTraceKey(lang string) string {
	if lang == "nodejs" {
		return "trace"
	}
	return "stackTrace"
}

// withChecks puts evs before the main run's timeout check (the last event
// when there is one: a timeout restarts the runtime).
func withChecks(main SampleRun, timeout int, evs ...Event) SampleRun {
	n := len(main.Events)
	if timeout > 0 {
		n--
	}
	out := append(append(append([]Event{}, main.Events[:n]...), evs...), main.Events[n:]...)
	main.Events = out
	return main
}

func formRun(handler, form string) SampleRun {
	return SampleRun{Name: "handler " + handler, Handler: handler, Events: []Event{{
		Name: "handler form: " + form + " (" + handler + ")", Payload: obj(map[string]any{"check": "form"}),
		Expect: obj(map[string]any{"form": form})}}}
}

func wrapperEvent() Event {
	return Event{Name: "AWS_LAMBDA_EXEC_WRAPPER runs the runtime", Payload: obj(map[string]any{"check": "wrapper"}),
		Expect: obj(map[string]any{"wrapped": "yes"})}
}

// RunPlan runs each of plan's runs with o (its Handler, Events and Env
// taken from the run) and merges their reports in order. The entry point's
// contract is checked once, with the first run. A run that cannot start at
// all stops the plan with its error.
func RunPlan(ctx context.Context, conn *buildkit.Conn, layoutDir string, desc v1.Descriptor, cfg v1.Config, o Options, plan []SampleRun) (*Report, error) {
	merged := &Report{}
	for i, r := range plan {
		ro := o
		ro.Handler, ro.Events = r.Handler, r.Events
		ro.Env = append(append([]string{}, o.Env...), r.Env...)
		ro.Contract = o.Contract && i == 0
		rep, err := Run(ctx, conn, layoutDir, desc, cfg, ro)
		if rep != nil {
			merged.Checks = append(merged.Checks, rep.Checks...)
			merged.Responses = append(merged.Responses, rep.Responses...)
			if rep.Log != "" {
				merged.Log += "--- " + r.Name + "\n" + rep.Log
			}
		}
		if err != nil {
			return merged, fmt.Errorf("%s: %w", r.Name, err)
		}
	}
	return merged, nil
}
