package smoke

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"

	"github.com/lambdaimg/lambdaimg"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

// sampleDirs writes the embedded sample functions out once, on demand.
type sampleDirs struct {
	once sync.Once
	root string
	err  error
}

func (s *sampleDirs) dir(lang catalog.Language) (string, error) {
	s.once.Do(func() { s.root, s.err = writeSamples() })
	if s.err != nil {
		return "", s.err
	}
	dir := sampleDir(s.root, lang)
	if _, err := os.Stat(dir); err != nil {
		if lang == catalog.Java {
			return "", fmt.Errorf("%w (%s): the Java sample needs compiling; scripts/build-samples.sh DIR builds it as DIR/java, for --handler", ErrNoSample, lang)
		}
		return "", fmt.Errorf("%w (%s)", ErrNoSample, lang)
	}
	return dir, nil
}

func (s *sampleDirs) cleanup() error {
	if s.root == "" {
		return nil
	}
	return os.RemoveAll(s.root)
}

// writeSamples copies lambdaimg's embedded samples/ into a new temporary
// directory and returns it.
func writeSamples() (string, error) {
	root, err := os.MkdirTemp("", "lambdaimg-samples-")
	if err != nil {
		return "", err
	}
	err = fs.WalkDir(lambdaimg.Samples, "samples", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(lambdaimg.Samples, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if path.Base(p) == "bootstrap" || path.Ext(p) == ".sh" {
			mode = 0o755
		}
		return os.WriteFile(dst, data, mode)
	})
	if err != nil {
		os.RemoveAll(root)
		return "", err
	}
	return root, nil
}

// HasSample reports whether lambdaimg has a sample function for lang.
func HasSample(lang catalog.Language) bool {
	_, err := fs.Stat(lambdaimg.Samples, path.Join("samples", string(lang)))
	return err == nil
}
