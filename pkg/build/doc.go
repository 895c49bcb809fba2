// Package build builds rendered build contexts into images with BuildKit's
// Go client, one solve per target and platform, all through one client and
// one progress display, and stores each result as a single-platform image
// manifest in the local OCI store. A target whose inputs and options are
// unchanged since it was stored is not sent to BuildKit again.
package build
