//go:build !lambdaimg_release

package helper

// embedded is empty outside release builds, so `go build` and `go install`
// need no generated files.
var embedded = map[string][]byte{}
