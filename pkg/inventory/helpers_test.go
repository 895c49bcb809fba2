package inventory

import (
	"fmt"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

// status renders a dpkg status file of name=version pairs, all
// installed, for amd64.
func status(pkgs ...string) []byte {
	var b strings.Builder
	for _, p := range pkgs {
		n, v, _ := strings.Cut(p, "=")
		fmt.Fprintf(&b, "Package: %s\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: %s\nDescription: %s\n the %s package\n\n", n, v, n, n)
	}
	return []byte(b.String())
}

// testImage is a two-layer image: a base with os-release and an old
// status file, and a top layer with the given status file and RIE.
func testImage(t *testing.T, statusFile []byte, rie string, labels map[string]string) v1.Image {
	t.Helper()
	base, err := registrytest.Layer(types.OCILayer,
		registrytest.File{Path: "etc/os-release", Data: []byte("PRETTY_NAME=\"Debian 12\"\nID=debian\n")},
		registrytest.File{Path: "var/lib/dpkg/status", Data: status("base-files=12.4")})
	if err != nil {
		t.Fatal(err)
	}
	files := []registrytest.File{{Path: "var/lib/dpkg/status", Data: statusFile}}
	if rie != "" {
		files = append(files, registrytest.File{Path: "usr/local/bin/aws-lambda-rie", Mode: 0o755, Data: []byte(rie)})
	}
	top, err := registrytest.Layer(types.OCILayer, files...)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: "amd64", Config: v1.Config{Labels: labels}})
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.AppendLayers(img, base, top)
	if err != nil {
		t.Fatal(err)
	}
	return mutate.MediaType(img, types.OCIManifestSchema1)
}
