package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/build"
)

// TestSummaryNamesBuilders: the table and the JSON name the builder of
// each image and say which job was retried.
func TestSummaryNamesBuilders(t *testing.T) {
	rs := []build.Result{
		{Target: "provided.al2023/debian", Platform: "linux/amd64", Status: build.Built, Builder: "tcp://a:1234"},
		{Target: "provided.al2023/debian", Platform: "linux/arm64", Status: build.Built, Builder: "tcp://a:1234",
			Retried: true, Note: "builder tcp://b:1234 stopped answering during the build (EOF); retried on tcp://a:1234"},
		{Target: "python3.12/al2023", Platform: "linux/amd64", Status: build.Unchanged},
	}
	var out bytes.Buffer
	if err := printImages(&out, rs); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.Fields(l)
		got = append(got, strings.Join(f[len(f)-2:], " "))
	}
	want := []string{"STATUS BUILDER", "built tcp://a:1234", "tcp://a:1234 (retried)", "unchanged -"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("last columns (-want +got):\n%s\n%s", diff, out.String())
	}
	data, err := json.Marshal(rs[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"builder":"tcp://a:1234"`, `"retried":true`, `"note":"builder tcp://b:1234 stopped answering`} {
		if !strings.Contains(string(data), k) {
			t.Errorf("JSON lacks %s: %s", k, data)
		}
	}
}
