package build

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// ImageArgs returns the global ARGs of a Dockerfile whose names end in
// _IMAGE, with their defaults: every image the templates pull.
func ImageArgs(dockerfile []byte) (map[string]string, error) {
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

// ParseMirror parses a registry mirror written SRC=DST: pull what names
// registry SRC from DST (a host with an optional path prefix).
func ParseMirror(s string) (src, dst string, err error) {
	src, dst, ok := strings.Cut(s, "=")
	if !ok || src == "" || dst == "" {
		return "", "", fmt.Errorf("mirror %q: want SRC=DST, e.g. docker.io=mirror.example.com/dockerhub", s)
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return "", "", fmt.Errorf("mirror %q: white space is not allowed", s)
	}
	if _, err := name.NewRegistry(strings.SplitN(dst, "/", 2)[0]); err != nil {
		return "", "", fmt.Errorf("mirror %q: %s is not a registry host: %w", s, dst, err)
	}
	if src == "index.docker.io" || src == "registry-1.docker.io" {
		src = "docker.io"
	}
	return src, dst, nil
}
