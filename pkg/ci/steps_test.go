package ci

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"go.yaml.in/yaml/v3"
)

// step is one step of a generated job, as the tests below run it.
type step struct {
	ID   string            `yaml:"id"`
	If   string            `yaml:"if"`
	Run  string            `yaml:"run"`
	Env  map[string]string `yaml:"env"`
	With map[string]string `yaml:"with"`
}

// jobSteps returns the steps of job in workflow, by name.
func jobSteps(t *testing.T, workflow []byte, job string) map[string]step {
	t.Helper()
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Name string `yaml:"name"`
				step `yaml:",inline"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(workflow, &wf); err != nil {
		t.Fatal(err)
	}
	out := map[string]step{}
	for _, s := range wf.Jobs[job].Steps {
		out[s.Name] = s.step
	}
	return out
}

// runStep runs a step's script with bash -e (as GitHub does) in dir, with
// env, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY; it returns the two files
// and what the step printed.
func runStep(t *testing.T, dir, script string, env ...string) (output, summary, log string) {
	t.Helper()
	for _, tool := range []string{"bash", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Unavailable(t, "%s is not installed: the workflow's steps need it (scripts/install-buildkit.sh installs it)", tool)
		}
	}
	out, sum := filepath.Join(dir, "github-output"), filepath.Join(dir, "github-summary")
	cmd := exec.Command("bash", "-e", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append(env, "GITHUB_OUTPUT="+out, "GITHUB_STEP_SUMMARY="+sum)...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("step failed: %v\n%s", err, b)
	}
	o, _ := os.ReadFile(out)
	s, _ := os.ReadFile(sum)
	return string(o), string(s), string(b)
}

// writeStore writes a build job's store artifact holding images named
// runtime/variant/arch, one blob each.
func writeStore(t *testing.T, dir string, names ...string) {
	t.Helper()
	var entries []string
	for i, n := range names {
		blob := strings.Repeat(string(rune('a'+i)), 64)
		if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", blob), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, `{"digest":"sha256:`+blob+`","annotations":{"org.opencontainers.image.ref.name":"`+n+`"}}`)
	}
	index := `{"schemaVersion":2,"manifests":[` + strings.Join(entries, ",") + `]}`
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
}

const matrix = `{"include":[` +
	`{"runtime":"nodejs22.x","variant":"debian","platform":"linux/amd64","runner":"ubuntu-24.04"},` +
	`{"runtime":"nodejs22.x","variant":"debian","platform":"linux/arm64","runner":"ubuntu-24.04-arm"},` +
	`{"runtime":"python3.12","variant":"al2023","platform":"linux/amd64","runner":"ubuntu-24.04"},` +
	`{"runtime":"python3.12","variant":"al2023","platform":"linux/arm64","runner":"ubuntu-24.04-arm"}]}`

// TestMergeHoldsBackFailedRuntimes runs the publish job's merge step on
// the stores build jobs left: nodejs22.x's arm64 job failed (no store),
// so neither of its images is published; python3.12's both are.
func TestMergeHoldsBackFailedRuntimes(t *testing.T) {
	gen, err := Generate(GitHub{Select: []string{"--all"}})
	if err != nil {
		t.Fatal(err)
	}
	merge := jobSteps(t, gen, "publish")["Merge the stores of the runtime variants whose every job passed"]
	if merge.Env["MATRIX"] != "${{ needs.plan.outputs.matrix }}" {
		t.Fatalf("merge step env = %v, want MATRIX from the plan", merge.Env)
	}
	for name, c := range map[string]struct {
		stores      [][]string
		wantNames   []string
		wantOutput  string
		wantSummary string
	}{
		"one job failed": {
			stores:      [][]string{{"nodejs22.x/debian/x86_64"}, {"python3.12/al2023/x86_64"}, {"python3.12/al2023/arm64"}},
			wantNames:   []string{"python3.12/al2023/x86_64", "python3.12/al2023/arm64"},
			wantOutput:  "any=true\n",
			wantSummary: "## Held back\n\nA build job of each of these failed, so none of their tags moved:\n\n- nodejs22.x/debian\n\n",
		},
		"all passed": {
			stores:     [][]string{{"nodejs22.x/debian/x86_64"}, {"nodejs22.x/debian/arm64"}, {"python3.12/al2023/x86_64"}, {"python3.12/al2023/arm64"}},
			wantNames:  []string{"nodejs22.x/debian/x86_64", "nodejs22.x/debian/arm64", "python3.12/al2023/x86_64", "python3.12/al2023/arm64"},
			wantOutput: "any=true\n",
		},
		"all failed": {
			wantOutput:  "any=false\n",
			wantSummary: "## Held back\n\nA build job of each of these failed, so none of their tags moved:\n\n- nodejs22.x/debian\n- python3.12/al2023\n\n",
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for i, names := range c.stores {
				writeStore(t, filepath.Join(dir, "stores", "lambdaimg-store-"+string(rune('0'+i))), names...)
			}
			output, summary, _ := runStep(t, dir, merge.Run, "MATRIX="+matrix)
			if diff := cmp.Diff(c.wantOutput, output); diff != "" {
				t.Errorf("step output (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.wantSummary, summary); diff != "" {
				t.Errorf("job summary (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.wantNames, indexNames(t, filepath.Join(dir, "lambdaimg-store"))); diff != "" {
				t.Errorf("merged store (-want +got):\n%s", diff)
			}
		})
	}
}

// indexNames returns the ref names of the merged store's index, and
// checks that each has its blob.
func indexNames(t *testing.T, dir string) []string {
	t.Helper()
	out, err := exec.Command("jq", "-r", `.manifests[] | "\(.annotations["org.opencontainers.image.ref.name"]) \(.digest)"`, filepath.Join(dir, "index.json")).Output()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l == "" {
			continue
		}
		n, d, _ := strings.Cut(l, " ")
		if _, err := os.Stat(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:"))); err != nil {
			t.Errorf("%s: blob missing from the merged store: %v", n, err)
		}
		names = append(names, n)
	}
	return names
}

// TestChangelogStep runs the publish job's changelog step with a fake
// lambdaimg: one `diff -o markdown` per image whose tag moved from an
// earlier image (once, though two tags and two registries name it), none
// for a first publish, an index or a tag left in place.
func TestChangelogStep(t *testing.T) {
	gen, err := Generate(GitHub{Select: []string{"--all"}})
	if err != nil {
		t.Fatal(err)
	}
	changelog := jobSteps(t, gen, "publish")["Changelog"]
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// diff fails for nodejs: a warning, the others still get theirs.
	fake := "#!/bin/sh\necho \"lambdaimg $*\"\ncase \"$*\" in *nodejs@sha256:new2*) echo 'no such manifest' >&2; exit 1;; esac\n"
	if err := os.WriteFile(filepath.Join(bin, "lambdaimg"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	pushed := `{"refs":[
	 {"repository":"r.io/a/python","tag":"3.12-x86_64","digest":"sha256:new1","platform":"linux/amd64","status":"pushed","previous":"sha256:old1"},
	 {"repository":"r.io/a/python","tag":"3-x86_64","digest":"sha256:new1","platform":"linux/amd64","status":"pushed","previous":"sha256:old1"},
	 {"repository":"r.io/b/python","tag":"3.12-x86_64","digest":"sha256:new1","platform":"linux/amd64","status":"pushed","previous":"sha256:old1"},
	 {"repository":"r.io/a/python","tag":"3.12.2026.12.01-x86_64","digest":"sha256:new1","platform":"linux/amd64","status":"pushed"},
	 {"repository":"r.io/a/python","tag":"3.12","digest":"sha256:idx","status":"pushed","previous":"sha256:oldidx"},
	 {"repository":"r.io/a/python","tag":"3.12-arm64","digest":"sha256:same","platform":"linux/arm64","status":"unchanged"},
	 {"repository":"r.io/a/nodejs","tag":"22-arm64","digest":"sha256:new2","platform":"linux/arm64","status":"pushed","previous":"sha256:old2"}]}`
	if err := os.WriteFile(filepath.Join(dir, "pushed.json"), []byte(pushed), 0o644); err != nil {
		t.Fatal(err)
	}
	_, summary, log := runStep(t, dir, changelog.Run, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	want := "## Changelog\n\n" +
		"lambdaimg diff -o markdown r.io/a/nodejs@sha256:old2 r.io/a/nodejs@sha256:new2\n\n" +
		"lambdaimg diff -o markdown r.io/a/python@sha256:old1 r.io/a/python@sha256:new1\n"
	if diff := cmp.Diff(want, summary); diff != "" {
		t.Errorf("job summary (-want +got):\n%s", diff)
	}
	if w := "::warning::no changelog for r.io/a/nodejs@sha256:new2"; !strings.Contains(log, w) {
		t.Errorf("the step's log lacks %q:\n%s", w, log)
	}
}

// TestWorkflowShape checks what the issue asks of the workflow, beyond
// what actionlint checks: a schedule and manual runs, a plan whose
// output is the matrix, native runners with fail-fast off, a publish that
// runs after failed builds (the merge holds their runtimes back) but not
// after a cancel, and the plan's Markdown as the job summary.
func TestWorkflowShape(t *testing.T) {
	gen, err := Generate(GitHub{Select: []string{"--all"}})
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		On struct {
			Schedule         []map[string]string `yaml:"schedule"`
			WorkflowDispatch *struct{}           `yaml:"workflow_dispatch"`
		} `yaml:"on"`
		Jobs map[string]struct {
			RunsOn   string            `yaml:"runs-on"`
			Needs    any               `yaml:"needs"`
			If       string            `yaml:"if"`
			Outputs  map[string]string `yaml:"outputs"`
			Strategy struct {
				FailFast *bool  `yaml:"fail-fast"`
				Matrix   string `yaml:"matrix"`
			} `yaml:"strategy"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(gen, &wf); err != nil {
		t.Fatal(err)
	}
	type shape struct{ Schedule, Dispatch, PlanRunner, PlanMatrix, BuildRunner, BuildMatrix, FailFast, PublishIf, PublishRunner string }
	ff := "unset"
	if f := wf.Jobs["build"].Strategy.FailFast; f != nil && !*f {
		ff = "false"
	}
	got := shape{
		Schedule: wf.On.Schedule[0]["cron"], Dispatch: map[bool]string{true: "yes", false: "no"}[wf.On.WorkflowDispatch != nil],
		PlanRunner: wf.Jobs["plan"].RunsOn, PlanMatrix: wf.Jobs["plan"].Outputs["matrix"],
		BuildRunner: wf.Jobs["build"].RunsOn, BuildMatrix: wf.Jobs["build"].Strategy.Matrix, FailFast: ff,
		PublishIf: wf.Jobs["publish"].If, PublishRunner: wf.Jobs["publish"].RunsOn,
	}
	want := shape{
		Schedule: "17 4 * * *", Dispatch: "yes",
		PlanRunner: "ubuntu-24.04", PlanMatrix: "${{ steps.plan.outputs.matrix }}",
		BuildRunner: "${{ matrix.runner }}", BuildMatrix: "${{ fromJSON(needs.plan.outputs.matrix) }}", FailFast: "false",
		PublishIf: "${{ !cancelled() && needs.plan.outputs.changed == 'true' }}", PublishRunner: "ubuntu-24.04",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workflow (-want +got):\n%s", diff)
	}
	plan := jobSteps(t, gen, "plan")["Plan"].Run
	for _, s := range []string{"-o json > plan.json", `-o markdown >> "$GITHUB_STEP_SUMMARY"`} {
		if !strings.Contains(plan, "lambdaimg plan --all --store lambdaimg-store "+s) {
			t.Errorf("the plan step does not run lambdaimg plan ... %s:\n%s", s, plan)
		}
	}
}

// TestPlanStep runs the plan job's step with a fake lambdaimg that prints
// a plan (python3.12 must be rebuilt for arm64 only, nodejs22.x not at
// all) and exits as plan does: the matrix has both platforms of
// python3.12, so its architectures move together, and none of nodejs22.x.
func TestPlanStep(t *testing.T) {
	gen, err := Generate(GitHub{Select: []string{"--all"}})
	if err != nil {
		t.Fatal(err)
	}
	planStep := jobSteps(t, gen, "plan")["Plan"]
	planJSON := `{"items":[
	 {"target":"nodejs22.x/debian","runtime":"nodejs22.x","variant":"debian","platform":"linux/amd64","runner":"ubuntu-24.04","rebuild":false},
	 {"target":"nodejs22.x/debian","runtime":"nodejs22.x","variant":"debian","platform":"linux/arm64","runner":"ubuntu-24.04-arm","rebuild":false},
	 {"target":"python3.12/al2023","runtime":"python3.12","variant":"al2023","platform":"linux/amd64","runner":"ubuntu-24.04","rebuild":false},
	 {"target":"python3.12/al2023","runtime":"python3.12","variant":"al2023","platform":"linux/arm64","runner":"ubuntu-24.04-arm","rebuild":true,
	  "reasons":[{"kind":"base","detail":"moved"}]}]}`
	for name, c := range map[string]struct {
		status     int
		wantOutput string
	}{
		"something changed": {10, "changed=true\nmatrix=" +
			`{"include":[{"runtime":"python3.12","variant":"al2023","platform":"linux/amd64","runner":"ubuntu-24.04"},` +
			`{"runtime":"python3.12","variant":"al2023","platform":"linux/arm64","runner":"ubuntu-24.04-arm"}]}` + "\n"},
		"nothing changed": {0, "changed=false\nmatrix={\"include\":[]}\n"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			items := planJSON
			if c.status == 0 {
				items = `{"items":[]}`
			}
			bin := fakeLambdaimg(t, dir, fmt.Sprintf("case \"$*\" in *'-o json'*) cat <<'EOF'\n%s\nEOF\n;; *) echo '## lambdaimg plan';; esac\nexit %d\n", items, c.status))
			output, summary, _ := runStep(t, dir, planStep.Run, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			if diff := cmp.Diff(c.wantOutput, output); diff != "" {
				t.Errorf("step output (-want +got):\n%s", diff)
			}
			if summary != "## lambdaimg plan\n" {
				t.Errorf("job summary = %q, want the plan's Markdown", summary)
			}
		})
	}
}

// fakeLambdaimg writes a lambdaimg shell script with body into dir/bin
// and returns dir/bin.
func fakeLambdaimg(t *testing.T, dir, body string) string {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "lambdaimg"), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestOnePlatformKeepsIndexes: a workflow for one platform pushes no
// index tags (they would name that platform alone); one for both does.
func TestOnePlatformKeepsIndexes(t *testing.T) {
	for name, c := range map[string]struct {
		sel  []string
		want bool
	}{
		"all":         {[]string{"--all"}, false},
		"arm64 only":  {[]string{"--all", "--platform", "linux/arm64"}, true},
		"both, named": {[]string{"--all", "--platform", "linux/arm64", "--platform", "linux/amd64"}, false},
	} {
		t.Run(name, func(t *testing.T) {
			gen, err := Generate(GitHub{Select: c.sel})
			if err != nil {
				t.Fatal(err)
			}
			push := jobSteps(t, gen, "publish")["Publish"].Run
			if got := strings.Contains(push, "lambdaimg push --tags arch,dated --store"); got != c.want {
				t.Errorf("push with --tags arch,dated: %v, want %v:\n%s", got, c.want, push)
			}
		})
	}
}
