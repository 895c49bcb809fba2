package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/pipeline"
	"github.com/moby/buildkit/client"
	"github.com/spf13/cobra"
)

func TestParseCache(t *testing.T) {
	cases := []struct {
		in   string
		want client.CacheOptionsEntry
		err  string
	}{
		{in: "type=registry,ref=r/cache,mode=max", want: client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{"ref": "r/cache", "mode": "max"}}},
		{in: "type=local,src=/c", want: client.CacheOptionsEntry{Type: "local", Attrs: map[string]string{"src": "/c"}}},
		{in: "ref=r/cache", err: "type is required"},
		{in: "registry", err: "want type=TYPE"},
	}
	for _, tc := range cases {
		got, err := parseCache(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseCache(%q) = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if diff := cmp.Diff(tc.want, got); err != nil || diff != "" {
			t.Errorf("parseCache(%q): %v (-want +got):\n%s", tc.in, err, diff)
		}
	}
	if _, err := parseCaches("--cache-to", []string{"nope"}); !IsUsage(err) || !strings.Contains(err.Error(), "--cache-to") {
		t.Errorf("parseCaches = %v, want a usage error naming --cache-to", err)
	}
}

func TestParseMirrorsAndArgs(t *testing.T) {
	got, err := parseMirrors(map[string]string{"docker.io": "catalog:5000", "quay.io": "q:5000"}, []string{"docker.io=flag:5000"})
	if diff := cmp.Diff(map[string]string{"docker.io": "flag:5000", "quay.io": "q:5000"}, got); err != nil || diff != "" {
		t.Errorf("the flag must win over the catalog: %v (-want +got):\n%s", err, diff)
	}
	if _, err := parseMirrors(nil, []string{"docker.io"}); !IsUsage(err) || !strings.Contains(err.Error(), "--registry-mirror") {
		t.Errorf("parseMirrors = %v, want a usage error naming the flag", err)
	}
	args, err := parseBuildArgs([]string{"A=1", "B=x=y", "C="})
	if diff := cmp.Diff(map[string]string{"A": "1", "B": "x=y", "C": ""}, args); err != nil || diff != "" {
		t.Errorf("parseBuildArgs: %v (-want +got):\n%s", err, diff)
	}
	if _, err := parseBuildArgs([]string{"=1"}); !IsUsage(err) {
		t.Errorf("parseBuildArgs(=1) = %v, want a usage error", err)
	}
}

func TestSourceEpochAndProgress(t *testing.T) {
	cases := []struct {
		flag, date string
		want       int64
		usage      bool
	}{
		{"", "", 0, false},
		{"1700000000", "2026-11-24", 1700000000, false},
		{"", "2026-11-24", 1795478400, false},
		{"-1", "", 0, true},
		{"soon", "", 0, true},
	}
	for _, tc := range cases {
		got, err := sourceEpoch(tc.flag, tc.date)
		if IsUsage(err) != tc.usage || (!tc.usage && (err != nil || got != tc.want)) {
			t.Errorf("sourceEpoch(%q, %q) = %d, %v", tc.flag, tc.date, got, err)
		}
	}
	for _, m := range []string{"auto", "tty", "plain", "rawjson", "quiet"} {
		if _, err := progressMode(m); err != nil {
			t.Errorf("progressMode(%s): %v", m, err)
		}
	}
	if _, err := progressMode("foo"); !IsUsage(err) {
		t.Errorf("progressMode(foo) = %v, want a usage error before BuildKit is asked", err)
	}
}

func TestSplitOutputs(t *testing.T) {
	cases := []struct {
		outputs []string
		format  string
		exports []string
		note    bool
		err     bool
	}{
		{nil, "table", nil, false, false},
		{[]string{"json"}, "json", nil, false, false},
		{[]string{"type=oci,dest=x.tar", "json"}, "json", []string{"type=oci,dest=x.tar"}, true, false},
		{[]string{"text"}, "table", nil, true, false},
		{[]string{"yaml"}, "", nil, false, true},
	}
	for _, tc := range cases {
		var errOut bytes.Buffer
		cmd := &cobra.Command{}
		cmd.SetErr(&errOut)
		o := &buildOptions{outputs: tc.outputs}
		err := o.splitOutputs(cmd)
		if (err != nil) != tc.err || tc.err && !IsUsage(err) {
			t.Errorf("%v: err %v", tc.outputs, err)
			continue
		}
		if tc.err {
			continue
		}
		if o.format != tc.format || !cmp.Equal(o.exports, tc.exports) || (errOut.Len() > 0) != tc.note {
			t.Errorf("%v: format %q exports %v note %q", tc.outputs, o.format, o.exports, errOut.String())
		}
	}
}

// TestFinishRun: one JSON document whatever happened, and the exit error
// from the images.
func TestFinishRun(t *testing.T) {
	ok := build.Result{Target: "a/debian", Platform: "linux/amd64", Status: build.Built}
	bad := build.Result{Target: "b/debian", Platform: "linux/arm64", Status: build.Failed, Reason: "RUN failed", FailedLines: []string{"  7 | RUN x"}}
	skipped := build.Result{Target: "c/debian", Platform: "linux/arm64", Status: build.Skipped, Reason: "no arm64 worker"}
	cases := []struct {
		name    string
		rep     *pipeline.Report
		runErr  error
		push    bool
		wantErr string
		stderr  string
	}{
		{name: "all good", rep: &pipeline.Report{Images: []build.Result{ok}}},
		{name: "a failure", rep: &pipeline.Report{Images: []build.Result{ok, bad}}, wantErr: "1 of 2 image(s) failed", stderr: "7 | RUN x"},
		{name: "a failure with push", rep: &pipeline.Report{Images: []build.Result{bad}}, push: true, wantErr: "were held back"},
		{name: "skipped when named", rep: &pipeline.Report{Images: []build.Result{skipped}}, wantErr: "could not be built"},
		{name: "skipped with --all", rep: &pipeline.Report{Images: []build.Result{skipped}, All: true}},
		{name: "the run's own error", rep: &pipeline.Report{Images: []build.Result{ok}}, runErr: errors.New("push: 401"), wantErr: "push: 401"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, format := range []string{formatTable, formatJSON} {
				var out, errOut bytes.Buffer
				cmd := &cobra.Command{}
				cmd.SetOut(&out)
				cmd.SetErr(&errOut)
				err := finishRun(cmd, format, tc.rep, tc.runErr, tc.push)
				if (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("%s: err = %v, want %q", format, err, tc.wantErr)
				}
				if format == formatJSON && strings.Count(out.String(), "\n{") > 0 {
					t.Errorf("more than one JSON document:\n%s", out.String())
				}
				if format == formatTable && tc.stderr != "" && !strings.Contains(errOut.String(), tc.stderr) {
					t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut.String())
				}
				if format == formatTable && strings.Contains(out.String(), "RUN failed") {
					t.Errorf("a failure went to stdout:\n%s", out.String())
				}
			}
		})
	}
}
