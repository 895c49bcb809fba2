package smoke

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func runHandlers(runs []SampleRun) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.Handler)
	}
	return out
}

func TestSamplePlan(t *testing.T) {
	cases := []struct {
		name     string
		target   SampleTarget
		handlers []string
		want     []string // fragments of check names the plan must have
		wantNot  []string
	}{
		{name: "python", target: SampleTarget{Language: "python", Runtime: "python3.13", Version: "3.13", Handler: "app.handler", Timeout: 2},
			handlers: []string{"app.handler", "pkg.sub.mod.handler", "app.handler"},
			want:     []string{"AWS_EXECUTION_ENV is AWS_Lambda_python3.13", "/opt/python/lib/python3.13/site-packages", "AWS_LAMBDA_EXEC_WRAPPER", "error shape: Exception"},
			wantNot:  []string{"a layer under /opt"}},
		{name: "nodejs with callbacks and the layer", target: SampleTarget{Language: "nodejs", Runtime: "nodejs20.x", Version: "20", RIC: "3.3.0", Handler: "index.handler", Timeout: 2, Layer: true},
			handlers: []string{"index.handler", "esm.handler", "esmdefault.default", "nested.deep.er.handler", "callback.handler", "index.handler"},
			want:     []string{"a layer under /opt is found: require", "NODE_PATH as AWS", "V8 heap", "callback"}},
		{name: "nodejs 24 takes no callbacks", target: SampleTarget{Language: "nodejs", Runtime: "nodejs24.x", Version: "24", RIC: "4.0.2", Handler: "index.handler"},
			handlers: []string{"index.handler", "esm.handler", "esmdefault.default", "nested.deep.er.handler", "index.handler"},
			wantNot:  []string{"callback", "function timeout"}},
		{name: "java", target: SampleTarget{Language: "java", Runtime: "java21", Version: "21", Handler: "example.Handler::handleRequest", Timeout: 2, Layer: true},
			handlers: []string{"example.Handler::handleRequest", "example.Stream::handleRequest", "example.Plain::greet", "example.Handler::handleRequest"},
			want:     []string{"JVM flags", "JVM heap", "/opt/java/lib", "RequestStreamHandler", "plain method", "java.lang.RuntimeException"}},
		{name: "provided: the common events", target: SampleTarget{Language: "provided", Runtime: "provided.al2023", Handler: "function.handler", Timeout: 2},
			handlers: []string{"function.handler"}, want: []string{"error shape", "function timeout"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runs := SamplePlan(tc.target)
			if diff := cmp.Diff(tc.handlers, runHandlers(runs)); diff != "" {
				t.Errorf("handlers (-want +got):\n%s", diff)
			}
			seen := map[string]bool{}
			var all []string
			for _, r := range runs {
				for i, e := range r.Events {
					if seen[e.Name] {
						t.Errorf("two checks named %q", e.Name)
					}
					seen[e.Name] = true
					all = append(all, e.Name)
					if e.Name == "function timeout" && i != len(r.Events)-1 {
						t.Errorf("run %s: the timeout check is not last", r.Name)
					}
					if e.Expect == nil {
						t.Errorf("%q expects nothing: it cannot fail", e.Name)
					}
				}
			}
			joined := strings.Join(all, "\n")
			for _, w := range tc.want {
				if !strings.Contains(joined, w) {
					t.Errorf("no check mentions %q in:\n%s", w, joined)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(joined, w) {
					t.Errorf("a check mentions %q in:\n%s", w, joined)
				}
			}
		})
	}
}

func TestMarkers(t *testing.T) {
	dir := t.TempDir()
	if IsSample(dir) || HasSampleLayer(dir) || HasSampleLayer("") {
		t.Fatal("an empty directory is taken for a sample")
	}
	for _, m := range []string{SampleMarker, LayerMarker} {
		if err := os.WriteFile(filepath.Join(dir, m), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !IsSample(dir) || !HasSampleLayer(dir) {
		t.Error("the markers are not seen")
	}
}
