package smoke

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/incontainer"
)

// Check is one verdict.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Response is what the emulator answered to one event.
type Response struct {
	Event   string          `json:"event"`
	Status  int             `json:"status"`
	Body    json.RawMessage `json:"body"`
	Seconds float64         `json:"seconds"`
}

// Report is the outcome of a run.
type Report struct {
	Checks    []Check    `json:"checks"`
	Responses []Response `json:"responses"`
	// Log is what the emulator, the runtime and the function printed.
	Log string `json:"log"`
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return true
		}
	}
	return false
}

// Err summarises the failed checks, or returns nil. The last line the
// function or its runtime printed is added, since it usually names the
// cause (a missing bootstrap, a module that cannot be imported).
func (r *Report) Err() error {
	var msgs []string
	for _, c := range r.Checks {
		if !c.OK {
			msgs = append(msgs, c.Name+": "+c.Detail)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	msg := strings.Join(msgs, "; ")
	if l := lastFunctionLine(r.Log); l != "" {
		msg += " (the function's last words: " + truncate(l, 300) + ")"
	}
	return errors.New(msg)
}

// lastFunctionLine returns the last line of the log that is not the
// emulator's own bookkeeping.
func lastFunctionLine(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.Contains(l, "(rapid)") || strings.HasPrefix(l, "START RequestId") ||
			strings.HasPrefix(l, "END RequestId") || strings.HasPrefix(l, "REPORT RequestId") {
			continue
		}
		return l
	}
	return ""
}

// verdicts turns the invoker's results into responses and checks: an
// event without an expectation only counts when it failed.
func (r *Report) verdicts(events []Event, results []incontainer.Result) {
	for i, res := range results {
		e := events[i]
		body := json.RawMessage(res.Body)
		if !json.Valid(body) {
			body, _ = json.Marshal(res.Body)
		}
		r.Responses = append(r.Responses, Response{Event: e.Name, Status: res.Status, Body: body, Seconds: res.Seconds})
		c := Check{Name: e.Name, OK: true}
		switch {
		case res.Error != "":
			c.OK, c.Detail = false, "no response: "+res.Error
		case res.Status != 200:
			c.OK, c.Detail = false, "HTTP "+itoa(res.Status)+": "+truncate(res.Body, 300)
		case e.Expect != nil:
			if diffs := Match(e.Expect, []byte(res.Body)); diffs != nil {
				c.OK, c.Detail = false, strings.Join(diffs, "; ")+" (response: "+truncate(compact([]byte(res.Body)), 300)+")"
			}
		}
		if e.Expect != nil || !c.OK {
			r.Checks = append(r.Checks, c)
		}
	}
}
