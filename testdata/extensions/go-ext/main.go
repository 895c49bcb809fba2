// Command go-ext is a Lambda extension for lambdaimg's tests, written
// against the Extensions API: it registers for INVOKE and SHUTDOWN events
// and prints each event it receives, so a test can see that the emulator
// started it and that it saw the invocation.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
)

func main() {
	base := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2020-01-01/extension"
	name := filepath.Base(os.Args[0])
	req, _ := http.NewRequest(http.MethodPost, base+"/register", bytes.NewBufferString(`{"events":["INVOKE","SHUTDOWN"]}`))
	req.Header.Set("Lambda-Extension-Name", name)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		fmt.Printf("go-ext: register failed: %v %v\n", err, resp)
		os.Exit(1)
	}
	resp.Body.Close()
	id := resp.Header.Get("Lambda-Extension-Identifier")
	fmt.Printf("go-ext: registered as %s\n", name)
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/event/next", nil)
		req.Header.Set("Lambda-Extension-Identifier", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Printf("go-ext: next event: %v\n", err)
			os.Exit(1)
		}
		var ev struct {
			EventType string `json:"eventType"`
			RequestID string `json:"requestId"`
		}
		json.NewDecoder(resp.Body).Decode(&ev)
		resp.Body.Close()
		fmt.Printf("go-ext: saw %s %s\n", ev.EventType, ev.RequestID)
		if ev.EventType == "SHUTDOWN" {
			return
		}
	}
}
