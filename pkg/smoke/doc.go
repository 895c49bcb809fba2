// Package smoke checks that an image really works as a Lambda function;
// its Gate is the smoke-test gate of a build. It starts the image's entry
// point under the Runtime Interface Emulator in a BuildKit gateway container
// (no network, read-only root filesystem with a tmpfs /tmp, a non-root user,
// as Lambda runs functions), sends events one after another, and compares
// the responses with expectations.
//
// Inside the container the client is lambdaimg-helper (cmd/lambdaimg-helper,
// found by package helper), a static Linux program mounted read-only and run
// as `lambdaimg-helper internal invoke`; for custom runtimes (provided) the
// same program is the sample function (`internal runtime`).
package smoke
