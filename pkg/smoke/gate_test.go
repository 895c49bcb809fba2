package smoke

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

func TestGateOptions(t *testing.T) {
	python := &catalog.Target{Runtime: &catalog.Runtime{ID: "python3.12", Language: catalog.Python, Version: "3.12"}, Handler: "app.handler", Spec: catalog.Variant{OS: catalog.Debian}}
	// The first run of the Python sample's plan (TestSamplePlan has the rest).
	pythonChecks := []string{"response and environment", "writes outside /tmp fail", "error shape: Exception with a stack trace",
		"context object: request id, function name and ARN, memory, remaining time", "AWS_EXECUTION_ENV is AWS_Lambda_python3.12",
		"layer paths on sys.path: /opt/python/lib/python3.12/site-packages and /opt/python"}
	built := t.TempDir()
	if err := os.WriteFile(filepath.Join(built, SampleMarker), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	own := []Event{{Name: "event a.json", Payload: []byte(`{}`), Expect: []byte(`{"a":1}`)}}
	cases := []struct {
		name     string
		plan     Plan
		events   []string
		handler  string
		timeout  int
		contract bool
		sample   bool
	}{
		{name: "sample", plan: Plan{}, events: append(pythonChecks, "function timeout"),
			handler: "app.handler", timeout: 2, contract: true, sample: true},
		{name: "sample without timeout check when the timeout is long", plan: Plan{Timeout: 400},
			events: pythonChecks, handler: "app.handler", timeout: 400, contract: true, sample: true},
		{name: "own function and events", plan: Plan{FunctionDir: "/fn", Handler: "main.run", Events: own, NoContract: true},
			events: []string{"event a.json"}, handler: "main.run"},
		{name: "own function without events", plan: Plan{FunctionDir: "/fn"}, events: []string{"event {}"}, handler: "app.handler", contract: true},
		{name: "a built sample given as the function", plan: Plan{FunctionDir: built}, events: append(pythonChecks, "function timeout"),
			handler: "app.handler", timeout: 2, contract: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewGate(nil, tc.plan)
			defer g.Close()
			o, _, err := g.options(python)
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
			if o.Handler != tc.handler || o.Timeout != tc.timeout || o.Contract != tc.contract {
				t.Errorf("handler %q timeout %d contract %v, want %q %d %v", o.Handler, o.Timeout, o.Contract, tc.handler, tc.timeout, tc.contract)
			}
			if got := filepath.Base(o.FunctionDir) == "python"; got != tc.sample {
				t.Errorf("function dir %q, sample %v", o.FunctionDir, tc.sample)
			}
		})
	}
}

func TestSampleDirs(t *testing.T) {
	var s sampleDirs
	defer s.cleanup()
	if _, err := s.dir(catalog.DotNet); !errors.Is(err, ErrNoSample) {
		t.Errorf("dir(dotnet) = %v, want ErrNoSample", err)
	}
	if HasSample(catalog.DotNet) || !HasSample(catalog.Python) {
		t.Errorf("HasSample: dotnet %v, python %v", HasSample(catalog.DotNet), HasSample(catalog.Python))
	}
	dir, err := s.dir(catalog.Provided)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "bootstrap"))
	if err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("the provided sample's bootstrap is not executable: %v %v", st, err)
	}
}

var _ build.Gate = (*Gate)(nil)
