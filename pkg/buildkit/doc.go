// Package buildkit finds a BuildKit daemon to build with: the --addr flag,
// else BUILDKIT_HOST, else the default socket, else a buildkitd that
// lambdaimg starts itself (state in the user's cache directory). It also
// reports on and stops that embedded daemon. It never shells out to
// buildctl, docker or buildx.
//
// A Pool is several named builders (Spec: an address of any scheme
// BuildKit's client accepts, with its connection helpers registered here,
// buildctl's TLS options, platforms and a job limit), connected at once;
// List describes them for `lambdaimg builder ls`.
//
// The embedded daemon holds a flock on daemon.lock in its state directory
// for its whole life (the launcher passes the locked descriptor to it), so
// a live daemon is never mistaken for a dead one and never replaced; a
// daemon running there without a valid pid file is found as an orphan.
package buildkit
