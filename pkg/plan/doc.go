// Package plan answers "what must be rebuilt, and why" without building:
// for each target and platform it compares what a build would use now
// with what the store recorded when the image was built — the render
// inputs digest (catalog entry and templates), the RIC version, and the
// base images, whose current digests it asks the registries for with HEAD
// requests (an index and a platform manifest are fetched only when a
// digest moved, to tell which platform moved). For Debian, Ubuntu and
// Alpine images it also takes the packages the stored image's own steps
// installed and its APT sources or apk repositories, as the build
// recorded them, and asks those sources' package indexes (pkg/osindex)
// for newer versions. It never contacts BuildKit.
package plan
