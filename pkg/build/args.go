package build

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// imageArgs returns the global ARGs of a Dockerfile whose names end in
// _IMAGE, with their defaults: every image the templates pull.
func imageArgs(dockerfile []byte) (map[string]string, error) {
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil, err
	}
	_, meta, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, a := range meta {
		for _, kv := range a.Args {
			if strings.HasSuffix(kv.Key, "_IMAGE") && kv.Value != nil {
				out[kv.Key] = *kv.Value
			}
		}
	}
	return out, nil
}

// Mirror rewrites an image reference's registry through mirrors, keyed by
// registry host ("docker.io", "public.ecr.aws"); the value is a host with
// an optional path prefix. References on other registries are unchanged.
func Mirror(ref string, mirrors map[string]string) (string, error) {
	if len(mirrors) == 0 {
		return ref, nil
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", ref, err)
	}
	host := r.Context().RegistryStr()
	if host == name.DefaultRegistry {
		host = "docker.io"
	}
	dst, ok := mirrors[host]
	if !ok {
		return ref, nil
	}
	rest := strings.TrimPrefix(r.Context().RepositoryStr(), "/")
	out := strings.TrimSuffix(dst, "/") + "/" + rest
	if t, ok := r.(name.Tag); ok {
		return out + ":" + t.TagStr(), nil
	}
	return out + "@" + r.Identifier(), nil
}

// ParseMirror parses SRC=DST.
func ParseMirror(s string) (string, string, error) {
	src, dst, ok := strings.Cut(s, "=")
	if !ok || src == "" || dst == "" {
		return "", "", fmt.Errorf("--registry-mirror %q: want SRC=DST, e.g. docker.io=mirror.example.com/dockerhub", s)
	}
	if src == "index.docker.io" || src == "registry-1.docker.io" {
		src = "docker.io"
	}
	return src, dst, nil
}

// hashFile returns the sha256 of a file's content.
func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// rieBinary finds the local emulator for arch in dir.
func rieBinary(dir, arch string) (string, error) {
	cands := []string{filepath.Join(dir, arch, "aws-lambda-rie"), filepath.Join(dir, "aws-lambda-rie-"+arch)}
	if arch == "x86_64" {
		cands = append(cands, filepath.Join(dir, "aws-lambda-rie"))
	}
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
			return c, nil
		}
	}
	return "", fmt.Errorf("--rie %s: no emulator for %s (looked for %s)", dir, arch, strings.Join(cands, ", "))
}

// key hashes everything that decides a job's image, so an unchanged job can
// be recognised in the store without asking BuildKit.
func key(parts map[string]string) string {
	keys := make([]string, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, parts[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}
