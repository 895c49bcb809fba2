package smoke

import (
	"strconv"
	"strings"
)

// The behaviours of AWS's Python, Node.js and Java runtimes that the
// samples in samples/ check. Sources: AWS's "defined runtime environment
// variables" (AWS_EXECUTION_ENV, NODE_PATH), the layer paths of each runtime
// (Python's /opt/python, Node's /opt/nodejs, Java's /opt/java/lib), and the
// Runtime Interface Clients' handler loaders (awslambdaric's module import,
// aws-lambda-ric's UserFunction.js, the Java client's EventHandlerLoader).

// withoutGenericError drops the common "error shape" event, which the
// languages replace with their exact error document.
func withoutGenericError(r SampleRun) SampleRun {
	var evs []Event
	for _, e := range r.Events {
		if e.Name != "error shape" {
			evs = append(evs, e)
		}
	}
	r.Events = evs
	return r
}

func pythonPlan(t SampleTarget, main SampleRun) []SampleRun {
	evs := append(commonChecks(t, "Exception"), Event{
		Name:    "layer paths on sys.path: /opt/python/lib/python" + t.Version + "/site-packages and /opt/python",
		Payload: obj(map[string]any{"check": "paths"}), Expect: obj(map[string]any{"paths": "ok"})})
	return []SampleRun{
		withoutGenericError(withChecks(main, t.Timeout, evs...)),
		formRun("pkg.sub.mod.handler", "pkg.sub.mod.handler"),
		{Name: "exec wrapper", Handler: t.Handler, Env: []string{"AWS_LAMBDA_EXEC_WRAPPER=" + Wrapper},
			Events: []Event{wrapperEvent()}},
	}
}

// NodePath is NODE_PATH as AWS's Node.js runtimes set it when the function
// does not.
func NodePath(major string) string {
	return "/opt/nodejs/node" + major + "/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task"
}

func nodePlan(t SampleTarget, main SampleRun) []SampleRun {
	evs := append(commonChecks(t, "Error"), Event{
		Name:    "NODE_PATH as AWS's runtime sets it",
		Payload: obj(map[string]any{"check": "env"}), Expect: obj(map[string]any{"NODE_PATH": NodePath(t.Version)})})
	runs := []SampleRun{
		withoutGenericError(withChecks(main, t.Timeout, evs...)),
		formRun("esm.handler", "ES module (.mjs) with top-level await"),
		formRun("esmdefault.default", "export default"),
		formRun("nested.deep.er.handler", "nested property"),
	}
	// aws-lambda-ric 4 dropped callback handlers (Node.js 24 on).
	if major(t.RIC) < 4 {
		runs = append(runs, formRun("callback.handler", "callback"))
	}
	return append(runs, SampleRun{Name: "exec wrapper, own NODE_PATH, 256 MB", Handler: t.Handler,
		Env: []string{"AWS_LAMBDA_EXEC_WRAPPER=" + Wrapper, "NODE_PATH=/var/task/own_modules", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256"},
		Events: []Event{
			wrapperEvent(),
			{Name: "NODE_PATH kept when the function sets it", Payload: obj(map[string]any{"check": "env"}),
				Expect: obj(map[string]any{"NODE_PATH": "/var/task/own_modules"})},
			{Name: "V8 heap sized from AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Payload: obj(map[string]any{"check": "heap"}),
				Expect: obj(map[string]any{"heap": "ok"})},
		}})
}

func javaPlan(t SampleTarget, main SampleRun) []SampleRun {
	evs := append(commonChecks(t, "java.lang.RuntimeException"), Event{
		Name:    "JVM flags as AWS's: -XX:+UseSerialGC, --add-opens=java.base/java.io=ALL-UNNAMED, -Djava.net.preferIPv4Stack=true, tiered compilation to C1",
		Payload: obj(map[string]any{"check": "jvm"}), Expect: obj(map[string]any{"jvm": "ok"})})
	return []SampleRun{
		withoutGenericError(withChecks(main, t.Timeout, evs...)),
		formRun("example.Stream::handleRequest", "RequestStreamHandler"),
		formRun("example.Plain::greet", "plain method"),
		{Name: "exec wrapper, 512 MB", Handler: t.Handler,
			Env: []string{"AWS_LAMBDA_EXEC_WRAPPER=" + Wrapper, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512"},
			Events: []Event{
				wrapperEvent(),
				{Name: "JVM heap sized from AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Payload: obj(map[string]any{"check": "heap"}),
					Expect: obj(map[string]any{"heap": "ok"})},
			}},
	}
}

// major is the major version of v ("3.3.0" -> 3); 0 when unreadable.
func major(v string) int {
	n, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	return n
}
