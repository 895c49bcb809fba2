package incontainer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// DefaultInvokeURL is where the emulator listens inside the container.
const DefaultInvokeURL = "http://127.0.0.1:8080/2015-03-31/functions/function/invocations"

// Request is what `lambdaimg-helper internal invoke` reads from stdin.
type Request struct {
	URL    string            `json:"url"`
	Events []json.RawMessage `json:"events"`
	// Wait bounds how long to wait for the emulator to listen.
	WaitSeconds int `json:"waitSeconds"`
}

// Result is one response, as `internal invoke` writes it.
type Result struct {
	Status  int     `json:"status"`
	Body    string  `json:"body"`
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`
}

// Invoke runs inside the container: it reads a Request from r, posts
// each event in turn (the emulator handles one invocation at a time) and
// writes the results as a JSON array to w.
func Invoke(r io.Reader, w io.Writer) error {
	var req Request
	if err := json.NewDecoder(r).Decode(&req); err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	if req.URL == "" {
		req.URL = DefaultInvokeURL
	}
	if req.WaitSeconds == 0 {
		req.WaitSeconds = 30
	}
	if err := waitListening(req.URL, time.Duration(req.WaitSeconds)*time.Second); err != nil {
		return err
	}
	client := &http.Client{Timeout: 15 * time.Minute}
	results := make([]Result, 0, len(req.Events))
	for _, ev := range req.Events {
		start := time.Now()
		res := Result{}
		resp, err := client.Post(req.URL, "application/json", bytes.NewReader(ev))
		if err != nil {
			res.Error = err.Error()
		} else {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			res.Status, res.Body = resp.StatusCode, string(body)
			if err != nil {
				res.Error = err.Error()
			}
		}
		res.Seconds = time.Since(start).Seconds()
		results = append(results, res)
	}
	return json.NewEncoder(w).Encode(results)
}

func waitListening(rawURL string, d time.Duration) error {
	req, err := http.NewRequest(http.MethodPost, rawURL, nil)
	if err != nil {
		return err
	}
	host := req.URL.Host
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the emulator did not listen on %s within %s: %w", host, d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
