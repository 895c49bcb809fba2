// Package inventory owns what is inside a built image, as far as a
// scheduled rebuild cares: the OS packages its package database lists
// (dpkg's status file, read with pault.ag/go/debian; apk's installed
// file; rpm's SQLite or Berkeley DB database, read with
// github.com/knqyf263/go-rpmdb), the base image it
// was built on and the Runtime Interface Client and Emulator it carries.
// From two inventories it makes a changelog (base moved, packages
// old → new, added, removed, RIC/RIE changed) as a table, Markdown or
// JSON, and from one an SPDX 2.3 SBOM.
package inventory
