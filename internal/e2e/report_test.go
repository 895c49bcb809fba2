package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// verdict is one reported check.
type verdict struct {
	ok     bool
	detail string
}

// reportedChecks reads `lambdaimg test` output: JSON (-o json) walked
// generically, since the report's outer shape may change (every object with
// "name" and "ok" is a check of the nearest enclosing object that names a
// "target" and a "platform"), else the text report's "PASS  <check>" lines.
// The result maps "target platform" to check names.
func reportedChecks(out string) map[string]map[string]verdict {
	got := map[string]map[string]verdict{}
	dec := json.NewDecoder(strings.NewReader(out))
	var doc any
	if err := dec.Decode(&doc); err == nil {
		walk(doc, "", got)
		return got
	}
	return textChecks(out)
}

func walk(v any, cell string, got map[string]map[string]verdict) {
	switch x := v.(type) {
	case map[string]any:
		target, tok := x["target"].(string)
		platform, pok := x["platform"].(string)
		if tok && pok {
			cell = target + " " + platform
		}
		name, nok := x["name"].(string)
		ok, okok := x["ok"].(bool)
		if nok && okok && cell != "" {
			if got[cell] == nil {
				got[cell] = map[string]verdict{}
			}
			detail, _ := x["detail"].(string)
			got[cell][name] = verdict{ok: ok, detail: detail}
		}
		for _, k := range sortedKeys(x) {
			walk(x[k], cell, got)
		}
	case []any:
		for _, e := range x {
			walk(e, cell, got)
		}
	}
}

var (
	cellLine  = regexp.MustCompile(`^(\S+/\S+) (linux/\S+)$`)
	checkLine = regexp.MustCompile(`^  (PASS|FAIL)  (.*)$`)
)

func textChecks(out string) map[string]map[string]verdict {
	got := map[string]map[string]verdict{}
	cell := ""
	for _, l := range strings.Split(out, "\n") {
		if m := cellLine.FindStringSubmatch(l); m != nil {
			cell = m[1] + " " + m[2]
			continue
		}
		m := checkLine.FindStringSubmatch(l)
		if m == nil || cell == "" {
			continue
		}
		if got[cell] == nil {
			got[cell] = map[string]verdict{}
		}
		// A failure reads "name: detail", and names may hold ": " too: a
		// failed check is kept under its whole line, so it is not found
		// under its name and shows up among the unexpected failures.
		name, detail := m[2], ""
		if m[1] == "FAIL" {
			detail = name
		}
		got[cell][name] = verdict{ok: m[1] == "PASS", detail: detail}
	}
	return got
}

// buildTimes lists each build result's target, platform, status and
// seconds, from any object that has them.
func buildTimes(out string) []string {
	var doc any
	if json.Unmarshal([]byte(out), &doc) != nil {
		return nil
	}
	var lines []string
	var visit func(v any)
	visit = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			target, _ := x["target"].(string)
			platform, _ := x["platform"].(string)
			status, _ := x["status"].(string)
			if secs, ok := x["seconds"].(float64); ok && target != "" && status != "" {
				lines = append(lines, fmt.Sprintf("%s %s: %s in %.0fs", target, platform, status, secs))
			}
			for _, k := range sortedKeys(x) {
				visit(x[k])
			}
		case []any:
			for _, e := range x {
				visit(e)
			}
		}
	}
	visit(doc)
	return lines
}

func TestReportedChecks(t *testing.T) {
	jsonOut := `{"builds": [{"target": "python3.11/debian", "platform": "linux/amd64", "status": "built", "seconds": 42}],
  "tests": [{"target": "python3.11/debian", "platform": "linux/amd64",
    "checks": [{"name": "error shape", "ok": true}, {"name": "AWS_EXECUTION_ENV is AWS_Lambda_python3.11", "ok": false, "detail": "$.AWS_EXECUTION_ENV: want x"}]}]}`
	textOut := "python3.11/debian linux/amd64\n  PASS  error shape\n  FAIL  AWS_EXECUTION_ENV is AWS_Lambda_python3.11: $.AWS_EXECUTION_ENV: want x\n"
	want := map[string]map[string]verdict{"python3.11/debian linux/amd64": {
		"error shape": {ok: true},
		"AWS_EXECUTION_ENV is AWS_Lambda_python3.11": {ok: false},
	}}
	textWant := map[string]map[string]verdict{"python3.11/debian linux/amd64": {
		"error shape": {ok: true},
		"AWS_EXECUTION_ENV is AWS_Lambda_python3.11: $.AWS_EXECUTION_ENV: want x": {ok: false},
	}}
	for name, out := range map[string]string{"json": jsonOut, "text": textOut} {
		want := want
		if name == "text" {
			want = textWant
		}
		got := reportedChecks(out)
		for _, cell := range got {
			for k, v := range cell {
				if v.ok == false && v.detail == "" {
					t.Errorf("%s: failed check %q has no detail", name, k)
				}
				cell[k] = verdict{ok: v.ok}
			}
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(verdict{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	if diff := cmp.Diff([]string{"python3.11/debian linux/amd64: built in 42s"}, buildTimes(jsonOut)); diff != "" {
		t.Errorf("buildTimes (-want +got):\n%s", diff)
	}
}

// TestGroups checks that the invocations cover pkg/support's invoked
// cells of Python, Node.js and Java, each once.
func TestGroups(t *testing.T) {
	c, _ := loadCatalog(t)
	var got []string
	for _, g := range groups(t, c) {
		for _, r := range g.runtimes {
			got = append(got, g.name+" "+r)
		}
	}
	want := []string{"python-nodejs-amd64 python3.11", "python-nodejs-amd64 python3.13", "python-nodejs-amd64 nodejs18.x",
		"python-nodejs-amd64 nodejs20.x", "python-arm64 python3.11", "java-amd64 java17", "java-amd64 java21"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}
