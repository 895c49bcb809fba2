// Package apttest serves a real APT repository on 127.0.0.1 for tests:
// .deb packages made with dpkg-deb, a Packages index made by
// dpkg-scanpackages (or written here when it is not installed), in plain,
// gzip and xz forms, and an unsigned Release file listing them
// (sources use it with [trusted=yes]).
package apttest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lambdaimg/lambdaimg/internal/testenv"
	"github.com/ulikunitz/xz"
)

// Archs are the architectures the repository's index lists (its packages
// are Architecture: all).
var Archs = []string{"amd64", "arm64"}

// Pkg is one package to publish. Its only file is
// /usr/share/lambdaimg-test/NAME/version, holding Version. Depends and
// Provides, when set, are its control fields of those names.
type Pkg struct{ Name, Version, Depends, Provides string }

// Repo is a repository served over HTTP on 127.0.0.1.
type Repo struct {
	URL   string // http://127.0.0.1:PORT
	Suite string // its one suite; the component is main
	// ByHash publishes the indexes by hash too (Acquire-By-Hash: yes), as
	// Debian's archive does.
	ByHash bool
	dir    string
	t      testing.TB
	mu     sync.Mutex
	paths  []string // requested, in order
}

// Start serves an empty repository of suite until the test ends. Without
// dpkg-deb the test is skipped (failed under CI=true).
func Start(t testing.TB, suite string) *Repo {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		testenv.Unavailable(t, "dpkg-deb is not installed (apt-get install dpkg)")
	}
	r := &Repo{Suite: suite, dir: t.TempDir(), t: t}
	fs := http.FileServer(http.Dir(r.dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.paths = append(r.paths, req.URL.Path)
		r.mu.Unlock()
		fs.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Paths returns the paths requested since the last call, in order.
func (r *Repo) Paths() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.paths
	r.paths = nil
	return p
}

// Dir is the directory served.
func (r *Repo) Dir() string { return r.dir }

// SourcesList is the one-line sources.list entry of the repository.
func (r *Repo) SourcesList() string {
	return fmt.Sprintf("deb [trusted=yes] %s %s main\n", r.URL, r.Suite)
}

// Publish replaces what the repository serves with pkgs: the .deb files
// stay in pool/, the indexes list only pkgs.
func (r *Repo) Publish(pkgs ...Pkg) {
	r.t.Helper()
	for _, p := range pkgs {
		r.build(p)
	}
	var index bytes.Buffer
	for _, p := range pkgs {
		index.Write(r.scan(p))
		index.WriteString("\n\n")
	}
	dist := filepath.Join(r.dir, "dists", r.Suite)
	if err := os.RemoveAll(dist); err != nil {
		r.t.Fatal(err)
	}
	var sums strings.Builder
	for _, arch := range Archs {
		for _, f := range compressed(r.t, index.Bytes()) {
			name := "main/binary-" + arch + "/Packages" + f.ext
			r.write(filepath.Join(dist, filepath.FromSlash(name)), f.data)
			sum := sha256.Sum256(f.data)
			if r.ByHash {
				r.write(filepath.Join(dist, "main", "binary-"+arch, "by-hash", "SHA256", hex.EncodeToString(sum[:])), f.data)
			}
			fmt.Fprintf(&sums, " %s %d %s\n", hex.EncodeToString(sum[:]), len(f.data), name)
		}
	}
	byHash := "no"
	if r.ByHash {
		byHash = "yes"
	}
	release := fmt.Sprintf("Origin: lambdaimg-test\nSuite: %s\nCodename: %s\nArchitectures: %s\nComponents: main\nAcquire-By-Hash: %s\nSHA256:\n%s",
		r.Suite, r.Suite, strings.Join(Archs, " "), byHash, sums.String())
	r.write(filepath.Join(dist, "Release"), []byte(release))
}

// build makes pool/main/NAME/VERSION/NAME_VERSION_all.deb with dpkg-deb
// (a directory of its own, for dpkg-scanpackages).
func (r *Repo) build(p Pkg) {
	r.t.Helper()
	root := filepath.Join(r.t.TempDir(), p.Name)
	r.write(filepath.Join(root, "usr", "share", "lambdaimg-test", p.Name, "version"), []byte(p.Version+"\n"))
	control := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: all\n%sMaintainer: lambdaimg tests <tests@lambdaimg.invalid>\nDescription: a package of lambdaimg's tests\n", p.Name, p.Version, relations(p))
	r.write(filepath.Join(root, "DEBIAN", "control"), []byte(control))
	pool := filepath.Join(r.dir, filepath.FromSlash(poolDir(p)))
	out := filepath.Join(pool, debName(p))
	if err := os.MkdirAll(pool, 0o755); err != nil {
		r.t.Fatal(err)
	}
	cmd := exec.Command("dpkg-deb", "--root-owner-group", "-Zgzip", "--build", root, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("dpkg-deb --build %s: %v\n%s", p.Name, err, b)
	}
}

func poolDir(p Pkg) string { return "pool/main/" + p.Name + "/" + p.Version }

func debName(p Pkg) string { return fmt.Sprintf("%s_%s_all.deb", p.Name, p.Version) }

// scan returns the Packages paragraph of p's .deb: dpkg-scanpackages's,
// or, without it, the fields apt needs.
func (r *Repo) scan(p Pkg) []byte {
	r.t.Helper()
	rel := poolDir(p) + "/" + debName(p)
	if _, err := exec.LookPath("dpkg-scanpackages"); err == nil {
		cmd := exec.Command("dpkg-scanpackages", poolDir(p), "/dev/null")
		cmd.Dir = r.dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			r.t.Fatalf("dpkg-scanpackages %s: %v\n%s", rel, err, stderr.String())
		}
		return bytes.TrimRight(out, "\n")
	}
	data, err := os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(rel)))
	if err != nil {
		r.t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return fmt.Appendf(nil, "Package: %s\nVersion: %s\nArchitecture: all\n%sMaintainer: lambdaimg tests <tests@lambdaimg.invalid>\nFilename: %s\nSize: %d\nSHA256: %s\nDescription: a package of lambdaimg's tests",
		p.Name, p.Version, relations(p), rel, len(data), hex.EncodeToString(sum[:]))
}

// relations are p's Depends and Provides lines, each ending in a newline.
func relations(p Pkg) string {
	var b strings.Builder
	if p.Depends != "" {
		fmt.Fprintf(&b, "Depends: %s\n", p.Depends)
	}
	if p.Provides != "" {
		fmt.Fprintf(&b, "Provides: %s\n", p.Provides)
	}
	return b.String()
}

type file struct {
	ext  string
	data []byte
}

// compressed returns data plain, gzipped and xz-compressed.
func compressed(t testing.TB, data []byte) []file {
	t.Helper()
	var gz, x bytes.Buffer
	gw := gzip.NewWriter(&gz)
	xw, err := xz.NewWriter(&x)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []interface {
		Write([]byte) (int, error)
		Close() error
	}{gw, xw} {
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return []file{{"", data}, {".gz", gz.Bytes()}, {".xz", x.Bytes()}}
}

func (r *Repo) write(p string, data []byte) {
	r.t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		r.t.Fatal(err)
	}
}
