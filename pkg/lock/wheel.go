package lock

import (
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

// fitsPython reports whether pip could take the PyPI file name for t: an
// sdist always; a wheel when its Python tag fits the runtime's version
// (cp312, py3, ...) and its platform tag is "any" or names one of t's
// architectures. What pip then picks among them (glibc or musl, manylinux
// level) is left to pip; the lock holds every candidate's checksum.
func fitsPython(name string, t *catalog.Target) bool {
	stem, ok := strings.CutSuffix(name, ".whl")
	if !ok {
		return true
	}
	parts := strings.Split(stem, "-")
	if len(parts) < 5 {
		return false
	}
	py, plat := parts[len(parts)-3], parts[len(parts)-1]
	cp := "cp" + strings.ReplaceAll(t.Runtime.Version, ".", "")
	pyOK := false
	for _, tag := range strings.Split(py, ".") {
		if tag == cp || tag == "py3" {
			pyOK = true
		}
	}
	if !pyOK {
		return false
	}
	if plat == "any" {
		return true
	}
	for _, a := range t.Arches {
		machine := map[catalog.Arch]string{catalog.X86_64: "x86_64", catalog.ARM64: "aarch64"}[a]
		if strings.Contains(plat, machine) {
			return true
		}
	}
	return false
}
