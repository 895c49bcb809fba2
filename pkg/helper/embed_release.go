//go:build lambdaimg_release

package helper

import _ "embed"

// The helpers `make release` builds into bin/ before it builds lambdaimg
// with -tags lambdaimg_release.
var (
	//go:embed bin/lambdaimg-helper-linux-amd64
	embeddedAMD64 []byte
	//go:embed bin/lambdaimg-helper-linux-arm64
	embeddedARM64 []byte
)

var embedded = map[string][]byte{"amd64": embeddedAMD64, "arm64": embeddedARM64}
