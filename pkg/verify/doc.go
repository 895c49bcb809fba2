// Package verify owns checking an image against what AWS Lambda accepts,
// before it is pushed or deployed, and saying precisely what fails.
//
// A Verifier checks one image at a time and reports one Check per rule,
// each PASS, WARN or FAIL with its reason:
//
//   - manifest: a single-platform image manifest (Docker v2 schema 2 or
//     OCI), not an index (Lambda rejects the index that attestations wrap
//     a single image in);
//   - config: an image config listing one diff_id per layer;
//   - platform: linux on amd64 or arm64, agreeing with the descriptor it
//     was found under;
//   - layers: gzip-compressed, as their media types say; zstd and
//     uncompressed layers fail (Lambda reports UnsupportedImageLayerDetected);
//     each layer's uncompressed sha256 equals its diff_id in the config
//     (hashed in the same pass that reads the layer);
//   - size: at most 10 GiB uncompressed (a threshold option);
//   - settings: ENTRYPOINT, CMD, WORKDIR and ENV within Lambda's 16 KiB of
//     image settings and its ImageConfig item limits;
//   - entrypoint: absolute, present in the image, a regular executable file
//     (a hard link to a file that is there), not a symlink, and, for a
//     script, with its #! interpreter (or env's program on PATH) present;
//   - cmd: present; see CmdRule for when a missing CMD is a warning;
//   - binary-arch: the ELF e_machine of the entry point (or its #!
//     interpreter), /var/runtime/bootstrap, the emulator, or else an ELF of
//     the top layer matches the config's architecture;
//   - contract-env, contract-workdir, contract-entrypoint-script: AWS's
//     base-image contract (LAMBDA_TASK_ROOT=/var/task,
//     LAMBDA_RUNTIME_DIR=/var/runtime, WORKDIR /var/task and an executable
//     /lambda-entrypoint.sh), failures for base images and images using
//     /lambda-entrypoint.sh, warnings otherwise.
//
// Reference resolves a registry reference or an OCI layout (oci:DIR or
// oci:DIR:REFNAME, such as the local store) to the images to check. Layer
// scans are kept by digest for the process (internal/layerscan, shared
// with the package inventory) and used again only for bytes that hash to
// the digest, so images sharing layers are decompressed once.
//
// Gate is the build's verify gate; with a Memo it replays the pass of an
// image it checked before (an unchanged image in the store) once every
// blob of the image hashes to its digest.
package verify
