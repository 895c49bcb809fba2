package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

func TestTestPlan(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ev1, ev2 := write("a.json", `{"name":"a"}`), write("b.json", `{"name":"b"}`)
	exp1 := write("a.expect.json", `{"greeting":"hello a"}`)
	bad := write("bad.json", `{"name":`)
	target := &catalog.Target{Runtime: &catalog.Runtime{ID: "python3.12", Language: catalog.Python, Version: "3.12"}, Handler: "app.handler", Spec: catalog.Variant{OS: catalog.Debian}}
	sample := func(catalog.Language) (string, error) { return "/samples/python", nil }
	// The first run of the Python sample's plan (the others are in pkg/smoke).
	pythonChecks := []string{"response and environment", "writes outside /tmp fail", "error shape: Exception with a stack trace",
		"context object: request id, function name and ARN, memory, remaining time", "AWS_EXECUTION_ENV is AWS_Lambda_python3.12",
		"layer paths on sys.path: /opt/python/lib/python3.12/site-packages and /opt/python"}

	cases := []struct {
		name    string
		opts    testOptions
		events  []string // event names
		expects []string // expectation per event ("" for none)
		handler string
		timeout int
		wantErr string
	}{
		{name: "sample", opts: testOptions{},
			events:  append(pythonChecks, "function timeout"),
			handler: "app.handler", timeout: 2},
		{name: "sample without timeout check when the timeout is long", opts: testOptions{timeout: 400},
			events: pythonChecks, handler: "app.handler", timeout: 400},
		{name: "own events paired with expectations", opts: testOptions{handlerDir: dir, handler: "main.run", events: []string{ev1, ev2}, expects: []string{exp1}},
			events: []string{"event a.json", "event b.json"}, expects: []string{`{"greeting":"hello a"}`, ""}, handler: "main.run"},
		{name: "own function without events", opts: testOptions{handlerDir: dir},
			events: []string{"event {}"}, expects: []string{""}, handler: "app.handler"},
		{name: "more expectations than events", opts: testOptions{events: []string{ev1}, expects: []string{exp1, exp1}}, wantErr: "2 --expect for 1 --event"},
		{name: "event not JSON", opts: testOptions{events: []string{bad}}, wantErr: "bad.json is not JSON"},
		{name: "missing event", opts: testOptions{events: []string{filepath.Join(dir, "nope.json")}}, wantErr: "nope.json"},
		{name: "expectation not JSON", opts: testOptions{events: []string{ev1}, expects: []string{bad}}, wantErr: "--expect " + bad + " is not JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, _, err := tc.opts.plan(target, "", sample, true)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("plan = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range o.Events {
				names = append(names, e.Name)
			}
			if diff := cmp.Diff(tc.events, names); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			for i, want := range tc.expects {
				if got := string(o.Events[i].Expect); got != want {
					t.Errorf("expectation %d = %q, want %q", i, got, want)
				}
			}
			if o.Handler != tc.handler || o.Timeout != tc.timeout || !o.Contract {
				t.Errorf("handler %q timeout %d contract %v", o.Handler, o.Timeout, o.Contract)
			}
			if tc.opts.handlerDir == "" && o.FunctionDir != "/samples/python" {
				t.Errorf("function dir %q, want the sample", o.FunctionDir)
			}
		})
	}
}

func TestNoSampleForJava(t *testing.T) {
	s := &samples{}
	defer s.cleanup()
	if _, err := s.dirFor(catalog.Java); err == nil || !strings.Contains(err.Error(), "--handler DIR") {
		t.Errorf("dirFor(java) = %v, want advice to pass --handler", err)
	}
	dir, err := s.dirFor(catalog.Provided)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "bootstrap"))
	if err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("the provided sample's bootstrap is not executable: %v %v", st, err)
	}
}
