// Package lock owns lambdaimg.lock: every input of the selected targets,
// resolved without building and written so that a pull request shows what
// moved. A Locker resolves base images to digests (one HEAD per reference,
// the manifest fetched only when the digest is new), the pinned language
// packages to the checksums their registries publish (pkg/pins), the
// emulator release from the catalog, and, for a target already built, the
// OS packages of the stored image (pkg/inventory). The File also records
// each target's inputs digest (catalog entry and templates, pkg/render), so
// a build can refuse a lock older than its catalog; Images gives the build
// the base images by digest.
package lock
