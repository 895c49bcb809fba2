// Command invoke posts one event to a Runtime Interface Emulator, retrying
// until it listens, prints the response, and exits 1 unless the response
// contains every expected string. It is static, so any test image can run it.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: invoke EVENT-JSON [EXPECTED...]")
		os.Exit(2)
	}
	url := "http://127.0.0.1:8080/2015-03-31/functions/function/invocations"
	var body []byte
	var err error
	for i := 0; i < 100; i++ {
		var resp *http.Response
		resp, err = http.Post(url, "application/json", bytes.NewBufferString(os.Args[1]))
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
	fmt.Printf("response: %s\n", body)
	for _, want := range os.Args[2:] {
		if !strings.Contains(string(body), want) {
			fmt.Fprintf(os.Stderr, "invoke: response lacks %q\n", want)
			os.Exit(1)
		}
	}
}
