package osindex_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/lambdaimg/lambdaimg/pkg/osindex"
	"github.com/lambdaimg/lambdaimg/pkg/osindex/apttest"
)

func sources(t *testing.T, r *apttest.Repo) []osindex.Source {
	t.Helper()
	srcs, err := osindex.ParseSourceFiles(map[string]string{"etc/apt/sources.list": r.SourcesList()})
	if err != nil {
		t.Fatal(err)
	}
	return srcs
}

func newClient(t *testing.T, opts ...osindex.Option) *osindex.Client {
	t.Helper()
	c, err := osindex.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newer is what a fresh client (a new plan run) says of installed.
func newer(t *testing.T, srcs []osindex.Source, installed []inventory.Package) []osindex.Update {
	t.Helper()
	cands, err := newClient(t).Candidates(context.Background(), srcs, "arm64")
	if err != nil {
		t.Fatal(err)
	}
	up, err := osindex.Newer(installed, cands)
	if err != nil {
		t.Fatal(err)
	}
	return up
}

func state(t *testing.T, srcs []osindex.Source) string {
	t.Helper()
	s, err := newClient(t).State(context.Background(), srcs, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewerVersionInTheIndex(t *testing.T) {
	repo := apttest.Start(t, "testing")
	srcs := sources(t, repo)
	installed := []inventory.Package{
		{Name: "lambdaimg-hello", Version: "1", Arch: "all", Type: "deb"},
		{Name: "lambdaimg-other", Version: "1.0-1", Arch: "all", Type: "deb"},
		{Name: "libc6", Version: "2.36-9", Arch: "amd64", Type: "deb"}, // not in this repository
	}
	repo.Publish(apttest.Pkg{Name: "lambdaimg-hello", Version: "1"}, apttest.Pkg{Name: "lambdaimg-other", Version: "1.0-1"})
	v1 := state(t, srcs)
	if got := newer(t, srcs, installed); len(got) != 0 {
		t.Errorf("repository serving the installed versions: updates %+v, want none", got)
	}
	if again := state(t, srcs); again != v1 {
		t.Errorf("the same index gave two states: %s, %s", v1, again)
	}

	// 1.0-1 -> 1.0~rc1 is older in Debian's ordering: not an update.
	repo.Publish(apttest.Pkg{Name: "lambdaimg-hello", Version: "2"}, apttest.Pkg{Name: "lambdaimg-other", Version: "1.0~rc1"})
	want := []osindex.Update{{Name: "lambdaimg-hello", Installed: "1", Available: "2", Source: "deb " + repo.URL + " testing main"}}
	if diff := cmp.Diff(want, newer(t, srcs, installed)); diff != "" {
		t.Errorf("updates (-want +got):\n%s", diff)
	}
	if v2 := state(t, srcs); v2 == v1 {
		t.Errorf("the index state %s did not change with a new version", v2)
	}
}

func TestIndexErrors(t *testing.T) {
	repo := apttest.Start(t, "testing")
	repo.Publish(apttest.Pkg{Name: "lambdaimg-hello", Version: "1"})
	ctx := context.Background()
	for _, tc := range []struct {
		name, list, want string
	}{
		{"unreachable", "deb http://127.0.0.1:1 testing main\n", "connection refused"},
		{"unknown suite", "deb " + repo.URL + " nosuch main\n", "not found"},
		{"unknown component", "deb " + repo.URL + " testing contrib\n", "lists no Packages index for amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srcs, err := osindex.ParseSourceFiles(map[string]string{"etc/apt/sources.list": tc.list})
			if err != nil {
				t.Fatal(err)
			}
			_, err = newClient(t).Candidates(ctx, srcs, "amd64")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestIndexMustMatchRelease(t *testing.T) {
	repo := apttest.Start(t, "testing")
	repo.Publish(apttest.Pkg{Name: "lambdaimg-hello", Version: "1"})
	repo.Paths()
	// A Packages file changed behind the Release's back.
	dir := repo.Dir()
	p := filepath.Join(dir, "dists", "testing", "main", "binary-amd64", "Packages.gz") // the one fetched
	if err := os.WriteFile(p, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := newClient(t).Candidates(context.Background(), sources(t, repo), "amd64")
	if err == nil {
		t.Fatal("a Packages file that does not match the Release was accepted")
	}

	// By hash, as Debian's archive serves them, a stale file is not read.
	repo.ByHash = true
	repo.Publish(apttest.Pkg{Name: "lambdaimg-hello", Version: "2"})
	if err := os.WriteFile(p, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	repo.Paths()
	cands, err := newClient(t).Candidates(context.Background(), sources(t, repo), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if got := cands["lambdaimg-hello"].Version.String(); got != "2" {
		t.Errorf("by hash: version %q, want 2", got)
	}
	for _, path := range repo.Paths() {
		if strings.HasSuffix(path, "/Packages.gz") {
			t.Errorf("read %s, want its by-hash path", path)
		}
	}
	// A repository that says by hash but has not the file there: by name.
	if err := os.RemoveAll(filepath.Join(repo.Dir(), "dists", "testing", "main", "binary-arm64", "by-hash")); err != nil {
		t.Fatal(err)
	}
	if cands, err = newClient(t).Candidates(context.Background(), sources(t, repo), "arm64"); err != nil {
		t.Fatal(err)
	}
	if got := cands["lambdaimg-hello"].Version.String(); got != "2" {
		t.Errorf("by name after by hash: version %q, want 2", got)
	}
}

func TestMirrors(t *testing.T) {
	repo := apttest.Start(t, "testing")
	repo.Publish(apttest.Pkg{Name: "lambdaimg-hello", Version: "2"})
	srcs, err := osindex.ParseSourceFiles(map[string]string{"etc/apt/sources.list": "deb http://deb.example.invalid/debian testing main\n"})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, osindex.WithMirrors(map[string]string{"http://deb.example.invalid/debian": repo.URL}),
		osindex.WithHTTPClient(&http.Client{}))
	cands, err := c.Candidates(context.Background(), srcs, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if got := cands["lambdaimg-hello"].Version.String(); got != "2" {
		t.Errorf("through the mirror: version %q, want 2", got)
	}
	if _, err := osindex.New(osindex.WithMirrors(map[string]string{"x": "ftp://y"})); err == nil {
		t.Error("an ftp mirror was accepted")
	}
}
