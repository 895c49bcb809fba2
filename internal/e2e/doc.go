// Package e2e proves the language runtimes end to end: `lambdaimg test`,
// run through the CLI as a user runs it, builds the Debian images of Python
// (3.11 and 3.13 on x86_64, 3.11 on arm64 under qemu), Node.js (18 and 20)
// and Java (17 and 21) with real BuildKit from stand-ins of the official
// base images (scripts/make-test-bases.sh) and real packages from Debian,
// PyPI, npm and Maven Central, starts each under the real Runtime Interface
// Emulator, and requires every behaviour check of the language's sample
// function (pkg/smoke SamplePlan) to be reported and passed.
//
// It has only tests. They need BuildKit, the emulator, the base tarballs,
// network access to those registries, and for Java a JDK and Maven on the
// host (scripts/build-samples.sh); without them they skip, except under
// CI=true, where they fail.
package e2e
