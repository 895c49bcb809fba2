package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/extension"
)

// limitsEnv holds limits as --limit takes them, comma-separated; --limit
// wins over it.
const limitsEnv = "LAMBDAIMG_LIMITS"

const limitUsage = `raise or lower a bound on input, NAME=N (repeatable; also $LAMBDAIMG_LIMITS=NAME=N,...; sizes take KiB, MiB, GiB):
  catalog-size        bytes of the --catalog file (default 4MiB)
  catalog-entries     runtimes, languages and variants in it (default 10000)
  extension-size      bytes of a target's extensions once unpacked (default 1GiB)
  extension-zip-size  bytes of one extension zip (default 256MiB)
  extension-files     files and directories in a target's extensions (default 10000)
  path-length         bytes of a path under /opt (default 1024)`

// limits are the bounds on what lambdaimg reads from the host.
type limits struct {
	catalog   catalog.ReadOptions
	extension extension.Limits
}

// parseLimits reads $LAMBDAIMG_LIMITS (env) and then the --limit values.
func parseLimits(env string, flags []string) (limits, error) {
	var l limits
	vals := flags
	if env != "" {
		vals = append(strings.Split(env, ","), flags...)
	}
	for _, v := range vals {
		name, num, ok := strings.Cut(strings.TrimSpace(v), "=")
		if !ok {
			return l, &UsageError{fmt.Errorf("--limit %q: want NAME=N (see lambdaimg --help)", v)}
		}
		n, err := parseSize(num)
		if err != nil || n < 1 {
			return l, &UsageError{fmt.Errorf("--limit %s: %q is not a positive number (sizes may end in KiB, MiB or GiB)", name, num)}
		}
		switch name {
		case "catalog-size":
			l.catalog.MaxSize = n
		case "catalog-entries":
			l.catalog.MaxEntries = int(n)
		case "extension-size":
			l.extension.Size = n
		case "extension-zip-size":
			l.extension.ZipSize = n
		case "extension-files":
			l.extension.Files = int(n)
		case "path-length":
			l.extension.PathLen = int(n)
		default:
			return l, &UsageError{fmt.Errorf("--limit %q: no such limit (catalog-size, catalog-entries, extension-size, extension-zip-size, extension-files, path-length)", name)}
		}
	}
	return l, nil
}

// parseSize reads "1024", "64KiB", "4MiB" or "2GiB".
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("%s: too large", s)
	}
	return n * mult, nil
}
