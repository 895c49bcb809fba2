// Command go-hello is a Lambda function for lambdaimg's tests: a custom
// runtime's bootstrap built with aws-lambda-go. It answers the events of
// lambdaimg's sample functions (see samples/README.md).
package main

import (
	"context"
	"errors"
	"os"
	"runtime"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Name         string `json:"name"`
	Fail         bool   `json:"fail"`
	SleepSeconds int    `json:"sleepSeconds"`
	Write        string `json:"write"`
}

type response struct {
	Greeting     string `json:"greeting"`
	Arch         string `json:"arch"`
	TaskRoot     string `json:"taskRoot"`
	RuntimeDir   string `json:"runtimeDir"`
	Handler      string `json:"handler"`
	FunctionName string `json:"functionName"`
	Tmp          string `json:"tmp"`
	Written      string `json:"written,omitempty"`
}

func handle(ctx context.Context, e event) (response, error) {
	if e.Fail {
		return response{}, errors.New("failing as asked")
	}
	if e.SleepSeconds > 0 {
		time.Sleep(time.Duration(e.SleepSeconds) * time.Second)
	}
	r := response{
		Greeting:     "hello " + e.Name,
		Arch:         runtime.GOARCH,
		TaskRoot:     os.Getenv("LAMBDA_TASK_ROOT"),
		RuntimeDir:   os.Getenv("LAMBDA_RUNTIME_DIR"),
		Handler:      os.Getenv("_HANDLER"),
		FunctionName: os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
		Tmp:          "ok",
	}
	if err := os.WriteFile("/tmp/go-hello", []byte(e.Name), 0o600); err != nil {
		r.Tmp = err.Error()
	}
	if e.Write != "" {
		if err := os.WriteFile(e.Write, []byte("x"), 0o600); err != nil {
			return response{}, err
		}
		r.Written = e.Write
	}
	return r, nil
}

func main() { lambda.Start(handle) }
