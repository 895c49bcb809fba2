// Package osindex reads Debian-style (APT) package indexes without
// BuildKit: the sources an image uses (/etc/apt/sources.list, one-line and
// deb822 .sources files), each source's InRelease or Release file, and the
// Packages indexes it lists (by hash where offered; xz, gzip or plain,
// checked against the Release's SHA256), parsed and compared with
// pault.ag/go/debian. It answers two questions: which installed packages
// have a newer version in the index (lambdaimg plan), and a digest of the
// index state, which changes when any package of the sources changes
// (lambdaimg build passes it to the install steps, so BuildKit's cache
// cannot hide a new version). A Record is what a build keeps of an image
// in the store for both: its sources, the packages its steps installed
// and the index state it was built on.
//
// For Alpine images it reads apk repositories (/etc/apk/repositories)
// and each one's <arch>/APKINDEX.tar.gz, and answers the first question
// only, in apk's version order (github.com/knqyf263/go-apk-version); the
// record then holds the repositories instead of APT sources, and no
// index state (an APKINDEX has no Release file to say it did not change).
//
// Signatures of InRelease and APKINDEX files are not checked: the answers
// only decide whether to rebuild, and apt or apk inside the build checks
// what it installs.
// Suites marked NotAutomatic (experimental, backports) are left out, as apt
// does not upgrade from them by default; apt pinning is not applied.
package osindex
