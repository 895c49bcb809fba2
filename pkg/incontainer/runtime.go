package incontainer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// SampleEvent is what the sample functions of every language understand.
type SampleEvent struct {
	Name         string `json:"name,omitempty"`
	Fail         bool   `json:"fail,omitempty"`
	SleepSeconds int    `json:"sleepSeconds,omitempty"`
	// Write makes the function write a file there, to show which paths are
	// writable (on Lambda only /tmp is).
	Write string `json:"write,omitempty"`
}

// SampleResponse is what they answer.
type SampleResponse struct {
	Greeting     string `json:"greeting"`
	TaskRoot     string `json:"taskRoot"`
	RuntimeDir   string `json:"runtimeDir"`
	Handler      string `json:"handler"`
	FunctionName string `json:"functionName"`
	Tmp          string `json:"tmp"`
	Written      string `json:"written,omitempty"`
}

// Runtime is the sample custom runtime (the provided runtimes' function):
// it serves the Lambda Runtime API loop at $AWS_LAMBDA_RUNTIME_API with the
// sample behaviour. It never returns unless the API fails.
func Runtime() error {
	api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	if api == "" {
		return fmt.Errorf("AWS_LAMBDA_RUNTIME_API is not set: run this as a Lambda custom runtime's bootstrap")
	}
	base := "http://" + api + "/2018-06-01/runtime/invocation/"
	client := &http.Client{}
	for {
		resp, err := client.Get(base + "next")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		var ev SampleEvent
		out, herr := []byte(nil), json.Unmarshal(body, &ev)
		if herr == nil {
			var r SampleResponse
			r, herr = handleSample(ev)
			out, _ = json.Marshal(r)
		}
		path := base + id + "/response"
		if herr != nil {
			out, _ = json.Marshal(map[string]string{"errorMessage": herr.Error(), "errorType": "SampleError"})
			path = base + id + "/error"
		}
		if resp, err := client.Post(path, "application/json", bytes.NewReader(out)); err == nil {
			resp.Body.Close()
		}
	}
}

func handleSample(ev SampleEvent) (SampleResponse, error) {
	if ev.Fail {
		return SampleResponse{}, fmt.Errorf("failing as asked")
	}
	if ev.SleepSeconds > 0 {
		time.Sleep(time.Duration(ev.SleepSeconds) * time.Second)
	}
	r := SampleResponse{
		Greeting:     "hello " + ev.Name,
		TaskRoot:     os.Getenv("LAMBDA_TASK_ROOT"),
		RuntimeDir:   os.Getenv("LAMBDA_RUNTIME_DIR"),
		Handler:      os.Getenv("_HANDLER"),
		FunctionName: os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
		Tmp:          "ok",
	}
	if err := os.WriteFile("/tmp/lambdaimg-smoke", []byte(ev.Name), 0o600); err != nil {
		r.Tmp = err.Error()
	}
	if ev.Write != "" {
		if err := os.WriteFile(ev.Write, []byte("x"), 0o600); err != nil {
			return SampleResponse{}, err
		}
		r.Written = ev.Write
	}
	return r, nil
}
