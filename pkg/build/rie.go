package build

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lambdaimg/lambdaimg/internal/fileutil"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

// RIEBinary finds the local emulator for arch in dir: <dir>/<arch>/aws-lambda-rie,
// <dir>/aws-lambda-rie-<arch>, or (for x86_64) <dir>/aws-lambda-rie.
func RIEBinary(dir string, arch catalog.Arch) (string, error) {
	a := string(arch)
	cands := []string{filepath.Join(dir, a, "aws-lambda-rie"), filepath.Join(dir, "aws-lambda-rie-"+a)}
	if arch == catalog.X86_64 {
		cands = append(cands, filepath.Join(dir, "aws-lambda-rie"))
	}
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
			return c, nil
		}
	}
	return "", fmt.Errorf("no emulator for %s in %s (looked for %s)", a, dir, strings.Join(cands, ", "))
}

// stageRIE copies the local emulator of each arch alone into a directory
// under workDir, which replaces the Dockerfile's "rie" stage. It returns
// arch -> the staged binary.
func stageRIE(rieDir, workDir string, arches []catalog.Arch) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range arches {
		bin, err := RIEBinary(rieDir, a)
		if err != nil {
			return nil, err
		}
		dst := filepath.Join(workDir, ".rie", string(a), "aws-lambda-rie")
		if err := fileutil.Copy(bin, dst, 0o755); err != nil {
			return nil, fmt.Errorf("staging the emulator: %w", err)
		}
		out[string(a)] = dst
	}
	return out, nil
}
