// Package osindex reads Debian-style (APT) package indexes without
// BuildKit: the sources an image uses (/etc/apt/sources.list, one-line and
// deb822 .sources files), each source's InRelease or Release file, and the
// Packages index it lists (xz, gzip or plain, checked against the
// Release's SHA256). It answers two questions: which installed packages
// have a newer version in the index (lambdaimg plan), and a digest of the
// index state, which changes when any package of the sources changes
// (lambdaimg build passes it to the install steps, so BuildKit's cache
// cannot hide a new version).
//
// Signatures of InRelease files are not checked: the answers only decide
// whether to rebuild, and apt inside the build checks what it installs.
// Suites marked NotAutomatic (experimental, backports) are left out, as apt
// does not upgrade from them by default.
package osindex
