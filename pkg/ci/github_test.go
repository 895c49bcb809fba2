package ci

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rhysd/actionlint"
)

var update = flag.Bool("update", false, "rewrite the golden files (go test ./pkg/ci -update)")

var cases = map[string]GitHub{
	"default": {Select: []string{"--all"}},
	"custom": {
		Schedule:   "weekly",
		Version:    "v1.4.0",
		Select:     []string{"--runtime", "python3.12", "--runtime", "nodejs22.x", "--os", "debian"},
		Catalog:    "catalog/runtimes.yaml",
		Registries: []string{"public.ecr.aws/example", "docker.io/example"},
		AWSRole:    "arn:aws:iam::123456789012:role/lambdaimg-publish",
	},
	"registries": {
		Select: []string{"--all"},
		CatalogRegistries: []string{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/lambda",
			"ghcr.io/example/lambda", "registry.example.com:5000/lambda", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/other"},
		AWSRole: "arn:aws:iam::123456789012:role/lambdaimg-publish",
	},
	"pool": {
		Select: []string{"--all"},
		Builders: []string{
			"tcp://amd64-1.internal:1234,cacert=BUILDKIT_CA,cert=BUILDKIT_CERT,key=BUILDKIT_KEY,servername=buildkitd",
			"tcp://arm64-1.internal:1234,cacert=BUILDKIT_CA,cert=ARM_CERT,key=ARM_KEY,platform=linux/arm64,jobs=2",
			"kube-pod://buildkitd-0?namespace=ci",
		},
	},
	"pool-plain": {Select: []string{"--all"}, Builders: []string{"tcp://10.0.0.5:1234"}},
}

// TestGitHubGolden compares each generated workflow with its golden file
// and runs actionlint on it: any finding fails the test.
func TestGitHubGolden(t *testing.T) {
	for name, g := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Generate(g)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Generate(g)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(got), string(again)); diff != "" {
				t.Fatalf("two generations differ (-first +second):\n%s", diff)
			}
			golden := filepath.Join("testdata", "github", name, "lambdaimg.yml")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("workflow differs from %s (-want +got); go test ./pkg/ci -update rewrites it:\n%s", golden, diff)
			}
			for _, e := range lint(t, got) {
				t.Errorf("actionlint: %d:%d: %s [%s]", e.Line, e.Column, e.Message, e.Kind)
			}
		})
	}
}

func lint(t *testing.T, workflow []byte) []*actionlint.Error {
	t.Helper()
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.Lint(".github/workflows/lambdaimg.yml", workflow, nil)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

// TestLintCatchesMistakes makes sure the actionlint gate can fail: a
// workflow with a misspelt runner label and an unknown job in needs.
func TestLintCatchesMistakes(t *testing.T) {
	got, err := Generate(GitHub{Select: []string{"--all"}})
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(got), "needs: plan\n", "needs: plann\n", 1)
	if len(lint(t, []byte(bad))) == 0 {
		t.Fatal("actionlint found nothing wrong with needs: plann")
	}
}

func TestCheck(t *testing.T) {
	gen, err := Generate(GitHub{Select: []string{"--all"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := Check("wf.yml", gen, gen); err != nil {
		t.Fatalf("Check of identical files: %v", err)
	}
	edited := strings.Replace(string(gen), "fail-fast: false", "fail-fast: true", 1)
	err = Check("wf.yml", []byte(edited), gen)
	de, ok := err.(*DriftError)
	if !ok {
		t.Fatalf("Check of a hand edit = %v, want a *DriftError", err)
	}
	want := "@@ line 77 @@\n-      fail-fast: true\n+      fail-fast: false\n"
	if diff := cmp.Diff(want, de.Diff); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
}

func TestGenerateRefusesBadInput(t *testing.T) {
	for name, g := range map[string]GitHub{
		"cron of 4 fields":   {Schedule: "1 2 3 4", Select: []string{"--all"}},
		"shell in schedule":  {Schedule: "$(id) * * * *", Select: []string{"--all"}},
		"bad version":        {Version: "main; rm -rf /", Select: []string{"--all"}},
		"no selection":       {},
		"shell in runtime":   {Select: []string{"--runtime", "a;b"}},
		"bad registry":       {Select: []string{"--all"}, Registries: []string{"UPPER/Case"}},
		"builder not parsed": {Select: []string{"--all"}, Builders: []string{"tcp://a:1234,jobs=0"}},
		"builder TLS file":   {Select: []string{"--all"}, Builders: []string{"tcp://a:1234,cacert=ca.pem"}},
		"builder TLS lower":  {Select: []string{"--all"}, Builders: []string{"tcp://a:1234,cacert=ca"}},
		"builder GITHUB_":    {Select: []string{"--all"}, Builders: []string{"tcp://a:1234,cacert=GITHUB_TOKEN"}},
		"shell in builder":   {Select: []string{"--all"}, Builders: []string{"tcp://a:1234$(id)"}},
		"quote in builder":   {Select: []string{"--all"}, Builders: []string{`tcp://a:1234"`}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Generate(g); err == nil {
				t.Error("Generate accepted it")
			}
		})
	}
}
