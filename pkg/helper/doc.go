// Package helper finds lambdaimg-helper, the small static Linux program
// (cmd/lambdaimg-helper) that lambdaimg mounts into its test containers, for
// the architecture a container runs it as. It looks, in order, at:
//
//  1. the path given by --helper or $LAMBDAIMG_HELPER: a file, used for
//     every architecture, or a directory of lambdaimg-helper-linux-<arch>;
//  2. the helpers embedded by `make release` (build tag lambdaimg_release);
//  3. lambdaimg-helper-linux-<arch>, or lambdaimg-helper built for <arch>,
//     next to the lambdaimg executable (`make helper`, `go install`);
//  4. the lambdaimg executable itself, when it is a static Linux binary for
//     <arch>: it answers the same `internal` commands.
//
// Otherwise Find's error names the fixes.
package helper
