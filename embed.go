// Package lambdaimg holds the files embedded in the lambdaimg binary: the
// runtime catalog and the Dockerfile templates. (go:embed cannot reach a
// parent directory, so they are embedded from the module root.)
package lambdaimg

import "embed"

// Catalog is the embedded runtimes.yaml.
//
//go:embed runtimes.yaml
var Catalog []byte

// Templates holds templates/ (embedded with its files, partials included).
//
//go:embed all:templates
var Templates embed.FS

// Samples holds samples/: the sample function of each language that
// `lambdaimg test` adds to an image when no handler is given.
//
//go:embed all:samples
var Samples embed.FS

// CatalogName is how the embedded catalog is named in messages.
const CatalogName = "runtimes.yaml (built in)"
