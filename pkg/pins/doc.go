// Package pins owns one question: does every version the catalog pins still
// exist where the build will fetch it? Collect reads the pins out of a
// catalog's resolved targets (each language's Runtime Interface Client, the
// language source versions built from source, the emulator release and its
// checksums); a Checker asks the registries lambdaimg's CI machine can reach
// (npm, PyPI, Maven Central) whether they serve each one, and reports the
// others as unchecked; Files asks the same registries for the checksums
// they publish of each pinned version (for lambdaimg.lock). It builds and
// renders nothing.
package pins
