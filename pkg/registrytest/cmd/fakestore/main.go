// Command fakestore fills a lambdaimg store with Lambda-shaped test images
// (pkg/registrytest) for benchmarks: every runtime for x86_64 and arm64,
// sharing one "OS" layer per architecture. With -layouts it also writes
// each image as its own OCI layout, for tools such as crane, and prints one
// line per image: the layout directory, the image's repository name and its
// per-architecture tag.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

func main() {
	dir := flag.String("store", "", "store directory to fill (required)")
	layouts := flag.String("layouts", "", "also write one OCI layout per image under this directory")
	runtimes := flag.String("runtimes", "python3.11,python3.12,python3.13,nodejs20.x,nodejs22.x,java21,ruby3.3,provided2023",
		"comma-separated runtime ids, <image><version>")
	baseSize := flag.Int("base-size", 8<<20, "bytes of the shared per-architecture layer")
	size := flag.Int("size", 2<<20, "bytes of each runtime's own layer")
	flag.Parse()
	if err := run(*dir, *layouts, strings.Split(*runtimes, ","), *baseSize, *size); err != nil {
		fmt.Fprintln(os.Stderr, "fakestore:", err)
		os.Exit(1)
	}
}

func run(dir, layouts string, runtimes []string, baseSize, size int) error {
	if dir == "" {
		return fmt.Errorf("-store is required")
	}
	st, err := store.Open(dir)
	if err != nil {
		return err
	}
	imgs := registrytest.Runtimes(runtimes, "x86_64", "arm64")
	for i := range imgs {
		imgs[i].Spec.BaseSize, imgs[i].Spec.Size = baseSize, size
	}
	entries, err := registrytest.Fill(st, imgs...)
	if err != nil {
		return err
	}
	if layouts == "" {
		return nil
	}
	for _, e := range entries {
		img, err := st.Image(e)
		if err != nil {
			return err
		}
		d := filepath.Join(layouts, e.Runtime+"-"+e.Arch)
		p, err := layout.Write(d, empty.Index)
		if err != nil {
			return err
		}
		if err := p.AppendImage(img); err != nil {
			return err
		}
		fmt.Printf("%s\t%s\t%s-%s\n", d, e.Image, e.Tags[0], e.Arch)
	}
	return nil
}
