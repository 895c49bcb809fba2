// Command localregistry serves an in-process OCI registry (go-containerregistry's
// pkg/registry) on 127.0.0.1 with base images made from the rootfs tarballs
// of scripts/make-test-bases.sh, for `make demo` on a machine that can pull
// from no public registry. It prints the registry's host once the bases are
// pushed and serves until it is stopped.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	bases := flag.String("bases", ".cache/bases", "directory of <name>-<arch>.tar.gz rootfs tarballs")
	ready := flag.String("ready", "", "file to write the registry host to once the bases are pushed")
	flag.Parse()
	if err := run(*addr, *bases, *ready); err != nil {
		fmt.Fprintln(os.Stderr, "localregistry:", err)
		os.Exit(1)
	}
}

// The bases, as the catalog names them (docker.io is mirrored here).
var images = map[string]string{
	"library/debian:bookworm-slim":      "debian-bookworm",
	"library/busybox:latest":            "busybox",
	"library/python:3.11-slim-bookworm": "python-bookworm", // Debian's python3 (3.11)
}

func run(addr, bases, ready string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	host := ln.Addr().String()
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
	go srv.Serve(ln)
	for repo, base := range images {
		idx := mutate.IndexMediaType(empty.Index, types.DockerManifestList)
		for _, arch := range []string{"amd64", "arm64"} {
			p := filepath.Join(bases, base+"-"+arch+".tar.gz")
			if _, err := os.Stat(p); err != nil {
				continue
			}
			img, err := image(p, arch)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
				Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
		}
		ref, err := name.ParseReference(host + "/" + repo)
		if err != nil {
			return err
		}
		if err := remote.WriteIndex(ref, idx); err != nil {
			return fmt.Errorf("pushing %s: %w", ref, err)
		}
	}
	if ready != "" {
		if err := os.WriteFile(ready, []byte(host+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Println(host)
	select {}
}

func image(tarGz, arch string) (v1.Image, error) {
	layer, err := tarball.LayerFromFile(tarGz, tarball.WithMediaType(types.DockerLayer))
	if err != nil {
		return nil, err
	}
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		OS: "linux", Architecture: arch, RootFS: v1.RootFS{Type: "layers"},
		Config: v1.Config{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, Cmd: []string{"/bin/sh"}},
	})
	if err != nil {
		return nil, err
	}
	return mutate.AppendLayers(img, layer)
}
