// Command go-hello is a Lambda function for lambdaimg's tests: a custom
// runtime's bootstrap built with aws-lambda-go. It greets by name, fails on
// request, and can sleep past the function timeout.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Name  string `json:"name"`
	Fail  bool   `json:"fail"`
	Sleep int    `json:"sleepSeconds"`
}

type response struct {
	Greeting string `json:"greeting"`
	Arch     string `json:"arch"`
	TaskRoot string `json:"taskRoot"`
	Handler  string `json:"handler"`
	Function string `json:"function"`
}

func handle(ctx context.Context, e event) (response, error) {
	if e.Fail {
		return response{}, errors.New("failing as asked")
	}
	if e.Sleep > 0 {
		time.Sleep(time.Duration(e.Sleep) * time.Second)
	}
	return response{
		Greeting: fmt.Sprintf("hello %s", e.Name),
		Arch:     runtime.GOARCH,
		TaskRoot: os.Getenv("LAMBDA_TASK_ROOT"),
		Handler:  os.Getenv("_HANDLER"),
		Function: os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
	}, nil
}

func main() { lambda.Start(handle) }
