// Package catalog owns runtimes.yaml: the description of every Lambda runtime
// image lambdaimg builds. It decodes the file strictly, validates every value
// that can reach a Dockerfile or a shell script, and expands the catalog into a
// sorted list of build targets (runtime x variant). It does no I/O beyond
// reading the catalog itself and asking which templates exist.
package catalog
