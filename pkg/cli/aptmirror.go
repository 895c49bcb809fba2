package cli

import (
	"fmt"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/osindex"
)

// aptMirrorUsage is the help of --apt-mirror on plan and build.
const aptMirrorUsage = "read the package index of APT sources (and apk repositories) under URI from URL instead, URI=URL (repeatable): where lambdaimg checks Debian, Ubuntu and Alpine packages; apt and apk in the build still use the image's sources"

// aptIndex returns the package index client of --apt-mirror URI=URL.
func aptIndex(flags []string) (*osindex.Client, error) {
	m := map[string]string{}
	for _, f := range flags {
		uri, url, ok := strings.Cut(f, "=")
		if !ok || uri == "" || url == "" {
			return nil, &UsageError{fmt.Errorf("--apt-mirror %q: want URI=URL, e.g. http://deb.debian.org/debian=http://mirror.internal/debian", f)}
		}
		m[uri] = url
	}
	c, err := osindex.New(osindex.WithMirrors(m))
	if err != nil {
		return nil, &UsageError{fmt.Errorf("--apt-mirror: %w", err)}
	}
	return c, nil
}
