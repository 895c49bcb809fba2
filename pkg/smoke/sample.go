package smoke

import (
	"encoding/json"
	"fmt"
)

// FunctionName is the function name the smoke test runs under.
const FunctionName = "lambdaimg-smoke"

// SampleEvents are the events the sample functions answer, checking the
// response, the environment, /tmp, the read-only root filesystem, Lambda's
// error shape and the function timeout (timeout seconds; 0 leaves that out).
func SampleEvents(handler string, timeout int) []Event {
	obj := func(v any) json.RawMessage {
		b, _ := json.Marshal(v)
		return b
	}
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
