package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTestPlanReadsEvents(t *testing.T) {
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
	cases := []struct {
		name    string
		opts    testOptions
		events  []string // event names
		expects []string // expectation per event ("" for none)
		wantErr string
	}{
		{name: "none", opts: testOptions{}},
		{name: "own events paired with expectations", opts: testOptions{handlerDir: dir, handler: "main.run", events: []string{ev1, ev2}, expects: []string{exp1}},
			events: []string{"event a.json", "event b.json"}, expects: []string{`{"greeting":"hello a"}`, ""}},
		{name: "the same file twice is read once", opts: testOptions{events: []string{ev1, ev1}}, events: []string{"event a.json", "event a.json"}, expects: []string{"", ""}},
		{name: "more expectations than events", opts: testOptions{events: []string{ev1}, expects: []string{exp1, exp1}}, wantErr: "2 --expect for 1 --event"},
		{name: "event not JSON", opts: testOptions{events: []string{bad}}, wantErr: "bad.json is not JSON"},
		{name: "missing event", opts: testOptions{events: []string{filepath.Join(dir, "nope.json")}}, wantErr: "nope.json"},
		{name: "expectation not JSON", opts: testOptions{events: []string{ev1}, expects: []string{bad}}, wantErr: "--expect " + bad + " is not JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.opts.plan(func(string) string { return "" })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !IsUsage(err) {
					t.Fatalf("plan = %v, want a usage error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for i, e := range p.Events {
				names = append(names, e.Name)
				if got := string(e.Expect); got != tc.expects[i] {
					t.Errorf("expectation %d = %q, want %q", i, got, tc.expects[i])
				}
			}
			if diff := cmp.Diff(tc.events, names); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if p.FunctionDir != tc.opts.handlerDir || p.Handler != tc.opts.handler {
				t.Errorf("plan %+v does not carry the flags %+v", p, tc.opts)
			}
		})
	}
}
