// Package labels is the one home of the names lambdaimg writes into images
// (config labels) and into its OCI store and registries (annotations).
package labels

// Prefix namespaces lambdaimg's own labels and annotations.
const Prefix = "io.lambdaimg."

// Image config labels, set by the templates on every image.
const (
	Runtime = Prefix + "runtime"       // the catalog runtime id, e.g. python3.12
	Variant = Prefix + "variant"       // the variant, e.g. debian
	Inputs  = Prefix + "inputs.sha256" // digest of the catalog entry and templates
	Tested  = Prefix + "smoke-test"    // "passed" on an image that passed the smoke test
)

// Annotations on the store's index entries (and pushed manifests).
const (
	Arch     = Prefix + "arch"
	Image    = Prefix + "image"        // AWS's repository name: python, nodejs, ...
	Tags     = Prefix + "tags"         // the catalog's tags, comma-separated
	Default  = Prefix + "default"      // "true" for the runtime's default variant
	BuildKey = Prefix + "build.sha256" // inputs plus build options
	Created  = "org.opencontainers.image.created"
	// BaseName and BaseDigest (OCI's own annotations) name the final
	// stage's base image as built on: its reference and the digest it
	// resolved to (an index for multi-platform bases).
	BaseName   = "org.opencontainers.image.base.name"
	BaseDigest = "org.opencontainers.image.base.digest"
	// Bases is JSON, image argument (BASE_IMAGE, BUILD_IMAGE) ->
	// {ref, digest, config}: every base the build checked, with the
	// digest of its config for the built platform, so that a plan can
	// tell a move of one platform from a move of another.
	Bases = Prefix + "bases"
	// RIC is the Runtime Interface Client version built in ("" for AWS's
	// own images, which bring theirs).
	RIC     = Prefix + "ric"
	RefName = "org.opencontainers.image.ref.name"
	// OSPackages is JSON (osindex.Record) on images of APT-based OSes:
	// the APT sources the image uses, its installed packages and the
	// state of the sources' package index when it was built, so that
	// plan and build can tell a newer package from the store's index
	// alone.
	OSPackages = Prefix + "os-packages"
)
