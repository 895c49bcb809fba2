// Package publish owns pushing images from the local store (pkg/store) to
// registries with go-containerregistry, in the shape AWS Lambda accepts.
//
// It works in two stages with plain data between them:
//
//   - Plan (pure, no I/O) turns store entries and registry prefixes into one
//     Action per repository: the platform manifests to put by digest, the
//     multi-architecture indexes built from them, and the tags pointing at
//     them, following a TagScheme (AWS's conventions by default:
//     3.12-x86_64, 3.12-arm64, the index 3.12, and immutable dated tags
//     3.12.2026.11.24[-arch]).
//   - A Publisher carries out a plan. Remote talks to registries: per
//     registry it reads what is already there (one tag list per
//     repository, a HEAD per existing tag, and per manifest no tag names),
//     then pushes in one pipeline: each missing blob uploaded once (and
//     mounted into the other repositories that need it), a platform
//     manifest as soon as its blobs are in, an index once its platform
//     manifests are, a new manifest by its dated tag, and a runtime
//     variant's floating tags once all its manifests and dated tags are,
//     so that a tag never points at anything incomplete, architectures
//     move together and a rerun after a crash finishes the job. Attach
//     adds each new image's SBOM and changelog in the same pipeline.
//     Recorder, Verified and DryRun wrap or replace it.
//
// Retries and credentials come from pkg/registry. Credentials never reach
// output, logs or errors.
package publish
