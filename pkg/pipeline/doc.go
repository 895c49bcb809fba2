// Package pipeline owns a lambdaimg run from the catalog to the registry:
// select targets, render their build contexts, build them with BuildKit,
// pass each image through the gates (verify always, the smoke test when
// asked) before it is stored, and publish what was built. The commands of
// pkg/cli turn flags into one Request and print the one Report it returns.
package pipeline
