// Package apktest serves an Alpine-style apk repository index on
// 127.0.0.1 for tests: <repo>/<arch>/APKINDEX.tar.gz for x86_64 and
// aarch64, laid out as Alpine's are (two gzip streams one after the
// other: a tar holding only a signature file, .SIGN.RSA.<key>.rsa.pub,
// without the tar's end-of-archive blocks, then a tar holding DESCRIPTION
// and APKINDEX). The signature is not a real one: lambdaimg does not
// check it. Debian 12 packages neither apk-tools nor abuild (which write
// and sign Alpine's indexes), so the index is written here; it has no
// .apk files behind it.
package apktest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Archs are the architectures the repository has an index for.
var Archs = []string{"x86_64", "aarch64"}

// Pkg is one package of the index; Depends and Provides, when set, are
// its D: and p: fields (space-separated, as apk writes them).
type Pkg struct{ Name, Version, Origin, Depends, Provides string }

// Repo is a repository served over HTTP on 127.0.0.1.
type Repo struct {
	URL   string // http://127.0.0.1:PORT/alpine/v3.20/main: the repositories line
	dir   string
	t     testing.TB
	mu    sync.Mutex
	paths []string
}

// Start serves a repository with an empty index until the test ends.
func Start(t testing.TB) *Repo {
	t.Helper()
	r := &Repo{dir: t.TempDir(), t: t}
	fs := http.StripPrefix("/alpine/v3.20/main", http.FileServer(http.Dir(r.dir)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.paths = append(r.paths, req.URL.Path)
		r.mu.Unlock()
		fs.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/alpine/v3.20/main"
	r.Publish()
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

// Publish replaces the index of every architecture with one listing pkgs.
func (r *Repo) Publish(pkgs ...Pkg) {
	r.t.Helper()
	var idx strings.Builder
	for _, p := range pkgs {
		fmt.Fprintf(&idx, "C:Q1%s=\nP:%s\nV:%s\nA:%%ARCH%%\nS:1024\nI:4096\nT:lambdaimg test package\nU:https://example.org/\nL:MIT\n", strings.Repeat("A", 27), p.Name, p.Version)
		if p.Origin != "" {
			fmt.Fprintf(&idx, "o:%s\n", p.Origin)
		}
		if p.Depends != "" {
			fmt.Fprintf(&idx, "D:%s\n", p.Depends)
		}
		if p.Provides != "" {
			fmt.Fprintf(&idx, "p:%s\n", p.Provides)
		}
		fmt.Fprintf(&idx, "m:Nobody <nobody@example.org>\nt:1700000000\n\n")
	}
	for _, arch := range Archs {
		data := Index(r.t, strings.ReplaceAll(idx.String(), "%ARCH%", arch))
		dir := filepath.Join(r.dir, arch)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "APKINDEX.tar.gz"), data, 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

// Index is an APKINDEX.tar.gz holding the APKINDEX text apkindex.
func Index(t testing.TB, apkindex string) []byte {
	t.Helper()
	var out bytes.Buffer
	// The signature stream: its tar is cut before the end-of-archive
	// blocks, so that the two streams read as one tar.
	sig := gzipTar(t, false, file{".SIGN.RSA.lambdaimg-test-00000000.rsa.pub", "not a signature"})
	idx := gzipTar(t, true, file{"DESCRIPTION", "lambdaimg test repository"}, file{"APKINDEX", apkindex})
	out.Write(sig)
	out.Write(idx)
	return out.Bytes()
}

type file struct{ name, data string }

func gzipTar(t testing.TB, closeTar bool, files ...file) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.data)); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if closeTar {
		err = tw.Close()
	} else {
		err = tw.Flush() // pads the file, writes no end-of-archive blocks
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
