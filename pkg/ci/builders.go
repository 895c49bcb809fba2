package ci

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/buildkit/spec"
)

// tlsDir is where a build job writes the builders' TLS files from
// secrets: the runner's temporary directory, emptied after each job.
const tlsDir = "$RUNNER_TEMP/lambdaimg-tls"

var (
	// builderArg is what a --builder may hold in the workflow: it goes
	// between double quotes, so no $, `, \ or ".
	builderArg = regexp.MustCompile(`^[A-Za-z0-9_./:=@+,%?&~-]+$`)
	// secretName is a GitHub Actions secret name as GitHub stores it.
	secretName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
)

// pool is the builders of the build jobs as the workflow names them.
type pool struct {
	// Args are the build command's --builder flags, each value quoted,
	// its TLS files under tlsDir.
	Args string
	// Secrets are the secrets the TLS files are written from, sorted.
	Secrets []string
}

// poolOf turns --builder values, whose cacert, cert and key name GitHub
// secrets holding PEM files instead of files, into the workflow's pool.
func poolOf(builders []string) (pool, error) {
	var p pool
	for _, b := range builders {
		if _, err := spec.Parse(b); err != nil {
			return pool{}, err
		}
		if !builderArg.MatchString(b) {
			return pool{}, fmt.Errorf("builder %q: only letters, digits and _./:=@+,%%?&~- are allowed in the workflow's commands", b)
		}
		parts := strings.Split(b, ",")
		for i, kv := range parts[1:] {
			k, v, _ := strings.Cut(kv, "=")
			if k != "cacert" && k != "cert" && k != "key" {
				continue
			}
			if !secretName.MatchString(v) || strings.HasPrefix(v, "GITHUB_") {
				return pool{}, fmt.Errorf("builder %q: %s=%s: in the workflow %s names the GitHub secret holding the PEM file, e.g. %s=BUILDKIT_%s (upper-case letters, digits and _, not GITHUB_...)",
					parts[0], k, v, k, k, strings.ToUpper(k))
			}
			parts[i+1] = k + "=" + tlsDir + "/" + v + ".pem"
			if !slices.Contains(p.Secrets, v) {
				p.Secrets = append(p.Secrets, v)
			}
		}
		p.Args += ` --builder "` + strings.Join(parts, ",") + `"`
	}
	slices.Sort(p.Secrets)
	return p, nil
}
