package buildkit

import (
	"fmt"
	"runtime"
)

// embeddable says why lambdaimg cannot start its own buildkitd here:
// BuildKit's daemon runs only on Linux. From macOS or Windows lambdaimg
// is a client of a daemon elsewhere.
func embeddable() error {
	if runtime.GOOS == "linux" {
		return nil
	}
	return fmt.Errorf("%w: no daemon answers, and lambdaimg starts its own buildkitd only on Linux (this is %s); "+
		"pass --builder ADDR or set BUILDKIT_HOST to a BuildKit daemon, e.g. docker-container://buildkitd after "+
		"`docker run -d --name buildkitd --privileged moby/buildkit`, or tcp://HOST:1234 for a Linux machine",
		ErrUnavailable, runtime.GOOS)
}
