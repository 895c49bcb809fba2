// Package usercache names the directories lambdaimg keeps derived data in
// across runs (base images' inventories, layer scans): all of it is a
// function of content named by digest, so any of it may be deleted.
package usercache

import (
	"os"
	"path/filepath"
)

// Dir is the directory name under $LAMBDAIMG_CACHE_DIR, else under the
// user's cache directory's lambdaimg (os.UserCacheDir); "" when there is
// neither.
func Dir(name string) string {
	if d := os.Getenv("LAMBDAIMG_CACHE_DIR"); d != "" {
		return filepath.Join(d, name)
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "lambdaimg", name)
	}
	return ""
}
