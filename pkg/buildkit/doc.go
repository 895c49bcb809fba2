// Package buildkit finds a BuildKit daemon to build with: the --addr flag,
// else BUILDKIT_HOST, else the default socket, else a buildkitd that
// lambdaimg starts itself (state in the user's cache directory). It also
// reports on and stops that embedded daemon. It never shells out to
// buildctl, docker or buildx.
package buildkit
